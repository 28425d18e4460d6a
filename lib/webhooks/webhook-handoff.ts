import { type AsyncInvokeSettings, asyncInvoker } from '../core/async-invoke.js';
import { logger } from '../core/logger.js';
import type { WebhookMessage } from './file-validated-event.js';

/** Hands a message to the deliverer and returns once it is queued, never waiting for the receiver. */
export type WebhookHandoff = (message: WebhookMessage) => Promise<void>;

/**
 * A handoff that invokes the deliverer asynchronously (`InvocationType:
 * 'Event'`): Lambda queues the event and answers 202 at once, whatever the
 * receiver does; its retries and on-failure destination own the rest. The
 * Lambda client is loaded and built on first use. Throws when Lambda does not
 * accept the event (the validator's invocation then fails and is retried,
 * and the redelivered S3 event sends the verdict's event again).
 */
export function lambdaWebhookHandoff(settings: AsyncInvokeSettings): WebhookHandoff {
  const invoke = asyncInvoker(settings);
  return async (message) => {
    const status = await invoke(message);
    if (status !== 202) {
      throw new Error(`the deliverer did not accept webhook ${message.id} (status ${status})`);
    }
    logger.info('webhook handed off', { webhookId: message.id });
  };
}
