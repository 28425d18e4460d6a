import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One POST of a webhook: its signed headers, its body, and the signal that ends it. */
export interface WebhookPost {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/**
 * Sends one POST and resolves with the receiver's status once its answer has
 * been read to the end (the answer's body is no part of the contract and is
 * dropped). Rejects on a network error, and when `signal` aborts, before or
 * during the answer. Follows no redirect.
 */
export type PostWebhook = (url: URL, post: WebhookPost) => Promise<number>;

/**
 * {@link PostWebhook} over Node's own HTTP client. Not `fetch`: Node loads
 * its fetch implementation on the first call, which costs a cold deliverer
 * about 30 ms of its one request.
 */
export const postOverHttp: PostWebhook = (url, { headers, body, signal }) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      },
      (response) => {
        response.on('error', reject);
        response.on('aborted', () => reject(signal.reason ?? new Error('the answer was cut off')));
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
