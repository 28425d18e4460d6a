import type { Owner } from '../core/owner.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import type { FileStore } from '../store/file-store.js';
import type { FileRecord } from '../store/verdict-trust.js';
import { type Disposition, dispositionHeader } from './content-disposition.js';
import { servableType } from './servable-type.js';

/** Download URL lifetime bounds, in seconds. */
export const DOWNLOAD_TTL_DEFAULT = 300;
export const DOWNLOAD_TTL_MAX = 3600;

export interface DownloadOptions {
  ttlSeconds: number;
  disposition: Disposition;
  /** The signing time. */
  now: Date;
}

export interface PresignedDownload {
  url: string;
  /** When the URL stops working: its signing second plus `X-Amz-Expires`. */
  expiresAt: Date;
  expiresIn: number;
}

export type DownloadStore = Pick<FileStore, 'credentials' | 'presignDownload' | 'readPassedFileRecord'>;

/**
 * A presigned GET for a validated file, served with its original filename and
 * its validated type, living the requested time or until the signing
 * credentials expire, whichever is earlier. Throws 409 `not_validated` when
 * the file has not passed.
 */
export async function presignFileDownload(
  store: DownloadStore,
  record: FileRecord,
  { ttlSeconds, disposition, now }: DownloadOptions,
): Promise<PresignedDownload> {
  const contentType = servableType(record);
  const { expiresIn } = await effectiveExpiry(store.credentials, ttlSeconds, now);
  const url = await store.presignDownload({
    key: record.key,
    versionId: record.versionId,
    contentDisposition: dispositionHeader(record.filename, disposition, contentType),
    contentType,
    expiresIn,
    now,
  });
  // X-Amz-Date has whole seconds: the URL dies at that second plus X-Amz-Expires.
  const signedAt = Math.floor(now.getTime() / 1000) * 1000;
  return { url, expiresAt: new Date(signedAt + expiresIn * 1000), expiresIn };
}

/**
 * Issues a download URL for one of the owner's files: `expiresAt` is the
 * earlier of the requested lifetime and the signing credentials' expiration.
 * Throws 404 for an unknown or another owner's file, 409 when not validated.
 */
export async function issueDownloadUrl(
  store: DownloadStore,
  owner: Pick<Owner, 'segment'>,
  fileId: string,
  options: DownloadOptions,
): Promise<{ url: string; expiresAt: string }> {
  const record = await store.readPassedFileRecord(owner, fileId);
  const { url, expiresAt } = await presignFileDownload(store, record, options);
  return { url, expiresAt: expiresAt.toISOString() };
}
