import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fileValidatedEvent,
  type WebhookMessage,
  webhookId,
} from '../../../lib/webhooks/file-validated-event.js';
import {
  ATTEMPT_TIMEOUT_MS,
  type DeliveryTools,
  deliverWebhook,
  RETRY_DELAYS_MS,
  signedHeaders,
  WebhookDeliveryError,
} from '../../../lib/webhooks/webhook-delivery.js';
import type { PostWebhook } from '../../../lib/webhooks/webhook-post.js';
import { TEST_WEBHOOK_SECRET } from '../../support/webhooks.js';

const START = new Date('2026-11-27T10:00:00.000Z');
const SETTINGS = { url: new URL('https://hooks.example.com/presign'), secret: TEST_WEBHOOK_SECRET };
const MESSAGE: WebhookMessage = {
  id: webhookId({ bucket: 'b', key: 'uploads/k', versionId: 'v1', status: 'passed' }),
  event: fileValidatedEvent(
    {
      fileId: '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
      status: 'passed',
      detectedType: 'image/png',
      size: 48213,
      contentType: 'image/png',
      filename: 'cat.png',
    },
    START,
  ),
};

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A receiver answering each try with the next of `answers` (a status, or an error to throw). */
function receiver(...answers: (number | Error)[]) {
  const sent: Sent[] = [];
  const post = vi.fn<PostWebhook>(async (url, { headers, body }) => {
    sent.push({ url: String(url), headers, body, at: Date.now() });
    const answer = answers[sent.length - 1] ?? 204;
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { sent, post };
}

/** The real sleep and clock, on vitest's fake timers. */
const tools = (post: PostWebhook): DeliveryTools => ({
  post,
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  now: () => new Date(),
});

/** A network error as Node's HTTP client raises it. */
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

const timeout = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('signedHeaders', () => {
  it('signs so that standardwebhooks’ Webhook.verify accepts the body and returns the event', () => {
    // Arrange
    const body = JSON.stringify(MESSAGE.event);

    // Act
    const headers = signedHeaders(TEST_WEBHOOK_SECRET, MESSAGE, body, new Date());

    // Assert
    expect(headers).toEqual({
      'content-type': 'application/json',
      'webhook-id': MESSAGE.id,
      'webhook-timestamp': String(START.getTime() / 1000),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(new Webhook(TEST_WEBHOOK_SECRET).verify(body, headers)).toEqual(MESSAGE.event);
  });

  it('is refused by a receiver with another secret, or for another body', () => {
    // Arrange
    const body = JSON.stringify(MESSAGE.event);
    const headers = signedHeaders(TEST_WEBHOOK_SECRET, MESSAGE, body, new Date());
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

    // Act + Assert
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(TEST_WEBHOOK_SECRET).verify(body.replace('48213', '48214'), headers)).toThrow(
      /No matching signature/,
    );
  });
});

describe('deliverWebhook', () => {
  it('POSTs the event once, signed, when the receiver answers 2xx', async () => {
    // Arrange
    const { sent, post } = receiver(200);

    // Act
    const tries = await deliverWebhook(SETTINGS, MESSAGE, tools(post));

    // Assert
    expect(tries).toBe(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('https://hooks.example.com/presign');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual(MESSAGE.event);
    expect(new Webhook(TEST_WEBHOOK_SECRET).verify(sent[0]?.body ?? '', sent[0]?.headers ?? {})).toEqual(
      MESSAGE.event,
    );
  });

  it('retries a receiver that fails twice after exactly 1 s and 4 s, each try signed at its own time with the same id and body', async () => {
    // Arrange
    const { sent, post } = receiver(503, timeout(), 204);

    // Act
    const delivered = deliverWebhook(SETTINGS, MESSAGE, tools(post));
    await vi.runAllTimersAsync();

    // Assert
    expect(await delivered).toBe(3);
    expect(sent.map((entry) => entry.at - START.getTime())).toEqual([0, 1000, 5000]);
    expect(RETRY_DELAYS_MS).toEqual([1000, 4000]);
    expect(new Set(sent.map((entry) => entry.headers['webhook-id']))).toEqual(new Set([MESSAGE.id]));
    expect(new Set(sent.map((entry) => entry.body)).size).toBe(1);
    expect(sent.map((entry) => entry.headers['webhook-timestamp'])).toEqual(
      [0, 1, 5].map((seconds) => String(START.getTime() / 1000 + seconds)),
    );
    for (const entry of sent) {
      expect(new Webhook(TEST_WEBHOOK_SECRET).verify(entry.body, entry.headers)).toEqual(MESSAGE.event);
    }
  });

  it.each([
    ['non-2xx answers', [500, 404, 429], ['status 500', 'status 404', 'status 429']],
    ['timeouts', [timeout(), timeout(), timeout()], ['timeout', 'timeout', 'timeout']],
    ['redirects', [301, 302, 307], ['status 301', 'status 302', 'status 307']],
    ['network errors', [refused(), 502, timeout()], ['ECONNREFUSED', 'status 502', 'timeout']],
  ])('throws after three tries of %s, having waited 1 s and 4 s', async (_, answers, failures) => {
    // Arrange
    const { sent, post } = receiver(...answers);

    // Act
    const delivered = deliverWebhook(SETTINGS, MESSAGE, tools(post));
    const outcome = expect(delivered).rejects.toEqual(new WebhookDeliveryError(MESSAGE.id, failures));
    await vi.runAllTimersAsync();

    // Assert
    await outcome;
    expect(sent.map((entry) => entry.at - START.getTime())).toEqual([0, 1000, 5000]);
  });

  it('gives up on a receiver that does not answer after 5 s', async () => {
    // Arrange: a receiver that never answers; only the deliverer's own signal ends a try
    const abortedAt: number[] = [];
    const post = vi.fn<PostWebhook>(
      (_url, { signal }) =>
        new Promise<number>((_, reject) => {
          signal.addEventListener('abort', () => {
            abortedAt.push(Date.now() - START.getTime());
            reject(signal.reason);
          });
        }),
    );

    // Act
    const delivered = deliverWebhook(SETTINGS, MESSAGE, tools(post));
    const outcome = expect(delivered).rejects.toEqual(
      new WebhookDeliveryError(MESSAGE.id, ['timeout', 'timeout', 'timeout']),
    );
    await vi.runAllTimersAsync();

    // Assert
    await outcome;
    expect(ATTEMPT_TIMEOUT_MS).toBe(5000);
    expect(abortedAt).toEqual([5000, 11_000, 20_000]);
  });

  it('fits every try and wait within the deliverer’s 30 s Lambda timeout', () => {
    // Act
    const worst = (RETRY_DELAYS_MS.length + 1) * ATTEMPT_TIMEOUT_MS + RETRY_DELAYS_MS.reduce((a, b) => a + b);

    // Assert
    expect(worst).toBe(20_000);
    expect(worst).toBeLessThan(30_000);
  });
});
