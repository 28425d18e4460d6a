import { ApiError, notValidated } from '../core/errors.js';
import { browserExecutes, confirms } from '../core/media-types.js';
import type { FileRecord } from '../store/verdict-trust.js';

/**
 * The type a file may be served as: its declared type, once the validator has
 * passed it and found a type the media catalogue says confirms it (the type
 * itself; `image/apng` for `image/png`; `text/plain` for a declared text type
 * such as `text/csv`). Throws 409 `not_validated` otherwise, and for a type a
 * browser would execute, which no upload rules may allow.
 */
export function servableType(record: FileRecord): string {
  if (record.status !== 'passed') throw notValidated(record.status);
  if (record.detectedType !== undefined && !confirms(record.contentType, record.detectedType)) {
    throw new ApiError(409, 'not_validated', 'file content does not match its declared type');
  }
  if (browserExecutes(record.contentType)) {
    throw new ApiError(409, 'not_validated', 'files of this type are never served');
  }
  return record.contentType;
}
