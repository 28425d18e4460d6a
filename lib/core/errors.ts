/**
 * The API's error family. Every error a caller may see is an {@link ApiError}
 * with a stable snake_case `code`; anything else becomes a generic 500
 * whose cause is only logged.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'file_too_large'
  | 'request_too_large'
  | 'unsupported_content_type'
  | 'unsupported_media_type'
  | 'not_validated'
  | 'link_expired'
  | 'link_revoked'
  | 'incomplete_upload'
  | 'upload_closed'
  | 'quota_exceeded'
  | 'rate_limited'
  | 'internal_error';

export class ApiError extends Error {
  /** Only errors with expose=true reach the caller with their message. */
  readonly expose: boolean;

  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Response headers that go with the error, e.g. `retry-after`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.expose = statusCode < 500;
  }
}

export const invalidRequest = (message: string) => new ApiError(400, 'invalid_request', message);
export const unauthorized = () => new ApiError(401, 'unauthorized', 'missing or invalid bearer token');
export const notFound = () => new ApiError(404, 'not_found', 'no such file');
export const fileTooLarge = (message: string) => new ApiError(413, 'file_too_large', message);
export const requestTooLarge = (limit: number) =>
  new ApiError(413, 'request_too_large', `request body exceeds ${limit} bytes`);
export const unsupportedContentType = (message: string) =>
  new ApiError(415, 'unsupported_content_type', message);
export const unsupportedMediaType = () =>
  new ApiError(415, 'unsupported_media_type', 'request body must be application/json');
export const notValidated = (status: string) =>
  new ApiError(409, 'not_validated', `file is ${status}, not passed validation`);
export const incompleteUpload = (message: string) => new ApiError(422, 'incomplete_upload', message);
export const uploadClosed = () =>
  new ApiError(409, 'upload_closed', 'this upload was already completed or aborted');
export const linkExpired = () => new ApiError(410, 'link_expired', 'this link has expired');
export const linkRevoked = () => new ApiError(410, 'link_revoked', 'this link has been revoked');
export const quotaExceeded = (message: string) => new ApiError(403, 'quota_exceeded', message);
/** 429 with `Retry-After`: whole seconds, at least 1, after which the same request can succeed. */
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limited', message, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
