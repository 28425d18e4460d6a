import { GetObjectTaggingCommand, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { type Disposition, dispositionHeader } from './content-disposition.js';
import { ApiError, notFound, notValidated } from './errors.js';
import { TAG, type ValidationStatus } from './file-metadata.js';
import { type FileRecord, readFileRecord } from './file-record.js';
import { objectKey } from './object-key.js';
import type { Owner } from './owner.js';
import { type PresignedDownload, presignDownload } from './presign-download.js';
import { bucket, s3 } from './s3-client.js';

/** Download URL lifetime bounds, in seconds (issue 5). */
export const DOWNLOAD_TTL_DEFAULT = 300;
export const DOWNLOAD_TTL_MAX = 3600;

export interface DownloadOptions {
  ttlSeconds: number;
  disposition: Disposition;
  now?: Date;
}

/** An object's tag set, with the two tags the API reads parsed. */
export interface FileTags {
  key: string;
  tags: Record<string, string>;
  status: ValidationStatus;
  shareEpoch: number;
}

const statusCode = (error: unknown) =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : 0;

/**
 * Reads only the tags of an owner's object (GetObjectTagging, which the bucket
 * policy does not gate). Throws 404 when there is no such object under this
 * owner's segment.
 */
export async function readFileTags(owner: Pick<Owner, 'segment'>, fileId: string): Promise<FileTags> {
  const key = objectKey(owner, fileId);
  const output = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })).catch((error) => {
    throw error instanceof NoSuchKey || statusCode(error) === 404 ? notFound() : error;
  });
  const tags = Object.fromEntries((output.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  const found = tags[TAG.status];
  const status: ValidationStatus = found === 'passed' || found === 'failed' ? found : 'pending';
  return { key, tags, status, shareEpoch: Number.parseInt(tags[TAG.shareEpoch] ?? '0', 10) || 0 };
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
 * Reads an owner's file for serving it. The bucket policy refuses this
 * function's role even a HEAD on an object that has not passed validation, so
 * a 403 is explained from the object's tags. `precheck` (e.g. a share epoch
 * check) runs before the validation check. Throws 404 for an unknown or
 * another owner's file, 409 `not_validated` unless it has passed.
 */
export async function readServableFile(
  owner: Pick<Owner, 'segment'>,
  fileId: string,
  precheck: (file: Pick<FileTags, 'shareEpoch'>) => void = () => undefined,
): Promise<FileRecord> {
  let record: FileRecord;
  try {
    record = await readFileRecord(owner, fileId);
  } catch (error) {
    if (statusCode(error) !== 403) throw error;
    const tags = await readFileTags(owner, fileId);
    precheck(tags);
    if (tags.status !== 'passed') throw notValidated(tags.status);
    throw error; // Passed yet forbidden: a permission fault, a 500.
  }
  precheck(record);
  servableType(record);
  return record;
}

/**
 * A presigned GET for a validated file, served with its original filename and
 * its validated type. Throws 409 `not_validated` when the file has not passed.
 */
export function presignFileDownload(
  record: FileRecord,
  options: DownloadOptions,
): Promise<PresignedDownload> {
  return presignDownload({
    key: record.key,
    ttlSeconds: options.ttlSeconds,
    contentDisposition: dispositionHeader(record.filename, options.disposition),
    contentType: servableType(record),
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
  const record = await readServableFile(owner, fileId);
  const { url, expiresAt } = await presignFileDownload(record, options);
  return { url, expiresAt: expiresAt.toISOString() };
}
