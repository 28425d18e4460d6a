import { Webhook } from 'standardwebhooks';
import { logger } from '../core/logger.js';
import type { WebhookMessage } from './file-validated-event.js';
import { type PostWebhook, postOverHttp } from './webhook-post.js';
import type { WebhookSettings } from './webhook-settings.js';

/** How long one POST may take, answer included, before it counts as failed. */
export const ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * The waits between the POSTs of one invocation: three tries, 1 s and then 4 s
 * apart. With {@link ATTEMPT_TIMEOUT_MS} an invocation lasts at most 20 s, well
 * within the deliverer's 30 s Lambda timeout.
 */
export const RETRY_DELAYS_MS: readonly number[] = [1_000, 4_000];

/** What the deliverer uses besides its settings; tests pass their own clock and transport. */
export interface DeliveryTools {
  post: PostWebhook;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

const defaultTools: DeliveryTools = {
  post: postOverHttp,
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  now: () => new Date(),
};

/** Every try of one invocation failed: the invocation fails, and Lambda's own retries take over. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    readonly webhookId: string,
    /** Why each try failed, in order: `status 503`, `timeout`, or a network error's code (`ECONNREFUSED`). */
    readonly failures: readonly string[],
  ) {
    super(`webhook ${webhookId} not delivered after ${failures.length} tries: ${failures.join(', ')}`);
  }
}

/** The Standard Webhooks headers of one try, signed at `at` (each try is signed anew). */
export function signedHeaders(
  secret: string,
  message: Pick<WebhookMessage, 'id'>,
  body: string,
  at: Date,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(message.id, at, body),
  };
}

/** One POST: `undefined` when the receiver answered 2xx in time, else why not. */
async function attempt(
  settings: WebhookSettings,
  message: WebhookMessage,
  body: string,
  tools: DeliveryTools,
): Promise<string | undefined> {
  // A timer of our own, cleared once the try ends: the same limit covers the answer's body, and it
  // runs on a test's fake timers.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('the receiver did not answer in time', 'TimeoutError')),
    ATTEMPT_TIMEOUT_MS,
  );
  try {
    // The answer is read to its end within the same limit; a redirect is an answer like any other.
    const status = await tools.post(settings.url, {
      headers: signedHeaders(settings.secret, message, body, tools.now()),
      body,
      signal: controller.signal,
    });
    return status >= 200 && status < 300 ? undefined : `status ${status}`;
  } catch (error) {
    const { code, name } = error instanceof Error ? (error as Error & { code?: unknown }) : { name: 'Error' };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    return typeof code === 'string' ? code : name;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Signs and POSTs one message to the receiver (Standard Webhooks headers,
 * the event as its JSON body), each try signed at its own time and given
 * {@link ATTEMPT_TIMEOUT_MS}. A timeout, a network error or any answer but
 * 2xx (a redirect included) is retried after {@link RETRY_DELAYS_MS}. Returns
 * the number of tries; throws {@link WebhookDeliveryError} when every try failed.
 */
export async function deliverWebhook(
  settings: WebhookSettings,
  message: WebhookMessage,
  tools: DeliveryTools = defaultTools,
): Promise<number> {
  const body = JSON.stringify(message.event);
  const failures: string[] = [];
  for (let tries = 1; ; tries++) {
    const failure = await attempt(settings, message, body, tools);
    if (failure === undefined) {
      logger.info('webhook delivered', { webhookId: message.id, tries });
      return tries;
    }
    failures.push(failure);
    logger.warn('webhook try failed', { webhookId: message.id, tries, failure });
    const delay = RETRY_DELAYS_MS[tries - 1];
    if (delay === undefined) throw new WebhookDeliveryError(message.id, failures);
    await tools.sleep(delay);
  }
}
