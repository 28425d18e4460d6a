import type { ApiErrorCode } from './types.js';

/** Every error this client throws (but an abort, which rejects with the signal's reason). */
export class PresignError extends Error {
  override name = 'PresignError';
}

/** The API answered with an error: its HTTP status and stable `code`. */
export class PresignApiError extends PresignError {
  override name = 'PresignApiError';

  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The API's error code; `http_<status>` when the body carried none (a proxy's answer). */
    readonly code: ApiErrorCode | `http_${number}`,
    message: string,
    /** Milliseconds the API asked to wait (`Retry-After`), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** S3 refused a form POST or a part PUT: its HTTP status and S3's own error code, when it sent one. */
export class PresignStorageError extends PresignError {
  override name = 'PresignStorageError';

  constructor(
    readonly status: number,
    /** S3's `<Code>` (`AccessDenied`, `EntityTooLarge`, `BadDigest`…), when the body had one. */
    readonly storageCode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A request got no answer at all: the connection failed, or the browser blocked it (CORS). */
export class PresignNetworkError extends PresignError {
  override name = 'PresignNetworkError';
}

/** `waitForVerdict` gave up while the file was still pending. */
export class VerdictTimeoutError extends PresignError {
  override name = 'VerdictTimeoutError';

  constructor(
    readonly fileId: string,
    readonly waitedMs: number,
  ) {
    super(`file ${fileId} is still pending after ${Math.round(waitedMs / 1000)} s`);
  }
}

/** Whether trying the same request again may succeed: no answer, a timeout, a rate limit or a 5xx. */
export function isTransient(error: unknown): boolean {
  if (error instanceof PresignNetworkError) return true;
  if (error instanceof PresignApiError || error instanceof PresignStorageError)
    return error.status === 408 || error.status === 429 || error.status >= 500;
  return false;
}
