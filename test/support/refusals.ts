import { ApiError } from '../../lib/core/errors.js';

/** The ApiError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}
