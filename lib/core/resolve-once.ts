/**
 * Wraps a one-time asynchronous lookup (an endpoint, a region): the first call
 * starts it, later calls share its promise. A failed lookup is forgotten, so
 * the next call tries again instead of failing forever.
 */
export function resolveOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
