import {
  GetObjectTaggingCommand,
  type GetObjectTaggingCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  NotFound,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { notFound } from './errors.js';
import { decodeMetaValue, META, TAG, type ValidationStatus } from './file-metadata.js';
import { objectKey } from './object-key.js';
import type { Owner } from './owner.js';
import { bucket, s3 } from './s3-client.js';

/** What the API knows of one upload, read from the object itself (no database). */
export interface FileRecord {
  fileId: string;
  key: string;
  filename: string;
  contentType: string;
  size: number;
  status: ValidationStatus;
  reason?: string;
  detectedType?: string;
  uploadedAt: string;
  /** Share links issued in an earlier epoch are revoked. */
  shareEpoch: number;
  /** Every tag on the object, to rewrite the set without losing any. */
  tags: Record<string, string>;
}

const STATUSES: readonly ValidationStatus[] = ['pending', 'passed', 'failed'];

function isMissing(error: unknown): boolean {
  return (
    error instanceof NotFound ||
    (error instanceof S3ServiceException && ['NoSuchKey', 'NotFound'].includes(error.name)) ||
    (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
  );
}

/**
 * Reads an owner's file: HEAD for metadata and size, GetObjectTagging for the
 * verdict. Throws 404 when the object does not exist under this owner's
 * segment, which is also what another owner's file id looks like.
 */
export async function readFileRecord(owner: Pick<Owner, 'segment'>, fileId: string): Promise<FileRecord> {
  const key = objectKey(owner, fileId);
  let head: HeadObjectCommandOutput;
  let tagging: GetObjectTaggingCommandOutput;
  try {
    [head, tagging] = await Promise.all([
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
    ]);
  } catch (error) {
    if (isMissing(error)) throw notFound();
    throw error;
  }
  const tags = Object.fromEntries((tagging.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  const metadata = head.Metadata ?? {};
  const status = STATUSES.find((candidate) => candidate === tags[TAG.status]) ?? 'pending';
  return {
    fileId,
    key,
    filename: decodeMetaValue(metadata[META.filename]) ?? fileId,
    contentType: metadata[META.declaredType] ?? head.ContentType ?? 'application/octet-stream',
    size: head.ContentLength ?? 0,
    status,
    ...(tags[TAG.reason] ? { reason: tags[TAG.reason] } : {}),
    ...(tags[TAG.detectedType] ? { detectedType: tags[TAG.detectedType] } : {}),
    uploadedAt: (head.LastModified ?? new Date(0)).toISOString(),
    shareEpoch: Number.parseInt(tags[TAG.shareEpoch] ?? '0', 10) || 0,
    tags,
  };
}
