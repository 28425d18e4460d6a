import { ApiError, notValidated } from '../core/errors.js';
import type { FileRecord } from '../store/file-store.js';

/**
 * The type a file may be served as: its declared type, once the validator has
 * passed it and found that very type. Throws 409 `not_validated` otherwise.
 */
export function servableType(record: FileRecord): string {
  if (record.status !== 'passed') throw notValidated(record.status);
  if (record.detectedType !== undefined && record.detectedType !== record.contentType) {
    throw new ApiError(409, 'not_validated', 'file content does not match its declared type');
  }
  return record.contentType;
}
