import {
  type ApiError,
  incompleteUpload,
  notFound,
  notValidated,
  rateLimited,
  uploadClosed,
} from '../core/errors.js';
import {
  ChangeContended,
  FileNotFound,
  FileNotPassed,
  UploadClosed,
  UploadIncomplete,
} from '../store/store-errors.js';

/** The API's answer to a refusal of the store, or `undefined` for anything else (a fault: 500). */
export function apiErrorOfStoreRefusal(error: unknown): ApiError | undefined {
  if (error instanceof FileNotFound) return notFound();
  if (error instanceof FileNotPassed) return notValidated(error.status);
  if (error instanceof UploadClosed) return uploadClosed();
  if (error instanceof UploadIncomplete) return incompleteUpload(error.message);
  if (error instanceof ChangeContended) return rateLimited(error.message, error.retryAfterSeconds);
  return undefined;
}
