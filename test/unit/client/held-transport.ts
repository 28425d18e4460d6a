import type { StorageTransport } from '../../../client/src/index.js';

/**
 * A transport that holds the first PUT of part `partNumber` until the test
 * releases it or the upload aborts it, then hands every request to `transport`:
 * a way to act while an upload is surely in the middle of its parts.
 */
export function holdPart(transport: StorageTransport, partNumber: number) {
  let release = () => {};
  let reached = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let holding = true;
  const held: StorageTransport = async (request) => {
    const isPart = new URL(request.url).searchParams.get('partNumber') === String(partNumber);
    if (request.method === 'PUT' && isPart && holding) {
      holding = false;
      reached();
      await new Promise<void>((resolve) => {
        request.signal?.addEventListener('abort', () => resolve(), { once: true });
        void released.then(resolve);
      });
    }
    return transport(request);
  };
  return { transport: held, arrived, release };
}
