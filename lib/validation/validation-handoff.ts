import { type AsyncInvokeSettings, asyncInvoker } from '../core/async-invoke.js';
import type { ValidationHandoff } from './pending-sweep.js';
import { pendingUploadsEvent } from './pending-uploads-event.js';

/**
 * A hand-off that invokes the validator asynchronously with a pending-uploads
 * event: Lambda queues it and answers 202; its retries and the validator's
 * on-failure queue own the rest. Throws when Lambda does not take the event
 * (the markers stay, and the next sweep hands the files off again).
 */
export function lambdaValidationHandoff(settings: AsyncInvokeSettings): ValidationHandoff {
  const invoke = asyncInvoker(settings);
  return async (keys) => {
    const status = await invoke(pendingUploadsEvent(keys));
    if (status !== 202) {
      throw new Error(`the validator did not take ${keys.length} pending uploads (status ${status})`);
    }
  };
}
