import { PresignApiError, PresignNetworkError, PresignStorageError } from '../../client/src/index.js';

/** What went wrong, for people: the API's and S3's errors in words, and the token hint on a 401. */
export function problemText(error: unknown): string {
  if (error instanceof PresignApiError && error.code === 'unauthorized')
    return 'The token was refused (missing, expired or not for this API). Make a new one with: npm run token -- <you>';
  if (error instanceof PresignApiError) return error.message;
  if (error instanceof PresignStorageError)
    return `Storage refused the upload (${error.status}${error.storageCode ? ` ${error.storageCode}` : ''}).`;
  if (error instanceof PresignNetworkError) return 'The request did not get through (network error).';
  return error instanceof Error ? error.message : String(error);
}

/** Whether the error says the token is bad, so the token field should get the focus. */
export const isTokenProblem = (error: unknown): boolean =>
  error instanceof PresignApiError && error.code === 'unauthorized';
