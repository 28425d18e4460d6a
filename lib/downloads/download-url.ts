import { ApiError, notValidated } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import { type FileRecord, readPassedFileRecord } from '../store/file-record.js';
import { type Disposition, dispositionHeader } from './content-disposition.js';
import { type PresignedDownload, presignDownload } from './presign-download.js';

/** Download URL lifetime bounds, in seconds (issue 5). */
export const DOWNLOAD_TTL_DEFAULT = 300;
export const DOWNLOAD_TTL_MAX = 3600;

export interface DownloadOptions {
  ttlSeconds: number;
  disposition: Disposition;
  now?: Date;
}

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

/**
 * A presigned GET for a validated file, served with its original filename and
 * its validated type. Throws 409 `not_validated` when the file has not passed.
 */
export function presignFileDownload(
  record: FileRecord,
  options: DownloadOptions,
): Promise<PresignedDownload> {
  const contentType = servableType(record);
  return presignDownload({
    key: record.key,
    ttlSeconds: options.ttlSeconds,
    contentDisposition: dispositionHeader(record.filename, options.disposition, contentType),
    contentType,
    ...(options.now ? { now: options.now } : {}),
  });
}

/**
 * Issues a download URL for one of the owner's files: `expiresAt` is the
 * earlier of the requested lifetime and the signing credentials' expiration.
 * Throws 404 for an unknown or another owner's file, 409 when not validated.
 */
export async function issueDownloadUrl(
  owner: Pick<Owner, 'segment'>,
  fileId: string,
  options: DownloadOptions,
): Promise<{ url: string; expiresAt: string }> {
  const record = await readPassedFileRecord(owner, fileId);
  const { url, expiresAt } = await presignFileDownload(record, options);
  return { url, expiresAt: expiresAt.toISOString() };
}
