import { isTransient, PresignApiError, PresignNetworkError } from './errors.js';
import { backoffDelay, type RetryPolicy, sleep } from './retry.js';
import type { ApiErrorCode } from './types.js';

/** What every API request needs. */
export interface ApiSettings {
  /** The API's base URL, without a trailing slash. */
  apiUrl: string;
  getToken: () => string | Promise<string>;
  fetch: typeof fetch;
  retry: RetryPolicy;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path below the API's URL, starting with `/`. */
  path: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal | undefined;
  /**
   * `always`: the request may be sent again after any transient failure (it
   * changes nothing twice); `unanswered`: only when the API surely did not act
   * on it (a 429 or 503 answer).
   */
  retry: 'always' | 'unanswered';
}

/** A Retry-After of more than this is not waited for: the error goes to the caller. */
const LONGEST_RETRY_AFTER_MS = 60_000;

/** Calls the API and returns its parsed JSON, or throws. */
export type ApiCall = <T>(request: ApiRequest) => Promise<T>;

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function callOnce<T>(settings: ApiSettings, request: ApiRequest): Promise<T> {
  const url = new URL(`${settings.apiUrl}${request.path}`);
  for (const [name, value] of Object.entries(request.query ?? {}))
    if (value !== undefined) url.searchParams.set(name, String(value));
  const headers: Record<string, string> = { authorization: `Bearer ${await settings.getToken()}` };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await settings.fetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: request.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    throw new PresignNetworkError(`${request.method} ${request.path} got no answer`, { cause: error });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  if (response.ok) return parsed as T;
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  throw new PresignApiError(
    response.status,
    typeof error?.code === 'string' ? (error.code as ApiErrorCode) : `http_${response.status}`,
    typeof error?.message === 'string'
      ? error.message
      : `${request.method} ${request.path} answered ${response.status}`,
    retryAfterMs(response.headers.get('retry-after')),
  );
}

const unanswered = (error: unknown) =>
  error instanceof PresignApiError && (error.status === 429 || error.status === 503);

/**
 * An {@link ApiCall} with the bearer token from `getToken` (asked for before
 * every request, so a refreshed one is used), errors as
 * {@link PresignApiError} by the API's code, and transient failures retried
 * with backoff (or after the `Retry-After` the API gave, up to a minute).
 */
export function apiCaller(settings: ApiSettings): ApiCall {
  return async <T>(request: ApiRequest): Promise<T> => {
    for (let retry = 1; ; retry++) {
      try {
        return await callOnce<T>(settings, request);
      } catch (error) {
        const again = request.retry === 'always' ? isTransient(error) : unanswered(error);
        if (!again || retry > settings.retry.retries) throw error;
        const asked = error instanceof PresignApiError ? error.retryAfterMs : undefined;
        if (asked !== undefined && asked > LONGEST_RETRY_AFTER_MS) throw error;
        await sleep(asked ?? backoffDelay(settings.retry, retry), request.signal);
      }
    }
  };
}
