import {
  GetObjectTaggingCommand,
  type GetObjectTaggingCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { notFound, notValidated } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import { decodeMetaValue, META, TAG, type ValidationStatus } from './file-metadata.js';
import { objectKey } from './object-key.js';
import { bucket, s3 } from './s3-client.js';
import { isMissingObject } from './s3-errors.js';

/** The tags of one upload: the validator's verdict on it. */
export interface FileTags {
  key: string;
  status: ValidationStatus;
  reason?: string;
  detectedType?: string;
  /** The ETag (unquoted) of the bytes the verdict is about. */
  validatedEtag?: string;
}

/** What the API knows of one upload, read from the object itself (no database). */
export interface FileRecord extends FileTags {
  fileId: string;
  filename: string;
  contentType: string;
  size: number;
  uploadedAt: string;
  /** The current object's ETag, unquoted. */
  eTag: string;
}

const STATUSES: readonly ValidationStatus[] = ['pending', 'passed', 'failed'];

/** Runs an S3 read, turning "no such object" into the API's 404. */
async function orNotFound<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw isMissingObject(error) ? notFound() : error;
  }
}

/**
 * Reads the tags of an owner's file (GetObjectTagging, which the tag-gated
 * bucket policy does not refuse). Throws 404 when the object does not exist
 * under this owner's segment, which is also what another owner's id looks like.
 */
export async function readFileTags(owner: Pick<Owner, 'segment'>, fileId: string): Promise<FileTags> {
  const key = objectKey(owner, fileId);
  const tagging: GetObjectTaggingCommandOutput = await orNotFound(
    s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
  );
  const tags = Object.fromEntries((tagging.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  return {
    key,
    status: STATUSES.find((candidate) => candidate === tags[TAG.status]) ?? 'pending',
    ...(tags[TAG.reason] ? { reason: tags[TAG.reason] } : {}),
    ...(tags[TAG.detectedType] ? { detectedType: tags[TAG.detectedType] } : {}),
    ...(tags[TAG.validatedEtag] ? { validatedEtag: tags[TAG.validatedEtag] } : {}),
  };
}

async function withMetadata(fileId: string, tags: FileTags): Promise<FileRecord> {
  const head: HeadObjectCommandOutput = await orNotFound(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: tags.key })),
  );
  const metadata = head.Metadata ?? {};
  return {
    ...tags,
    fileId,
    filename: decodeMetaValue(metadata[META.filename]) ?? fileId,
    contentType: metadata[META.declaredType] ?? head.ContentType ?? 'application/octet-stream',
    size: head.ContentLength ?? 0,
    uploadedAt: (head.LastModified ?? new Date(0)).toISOString(),
    eTag: (head.ETag ?? '').replaceAll('"', ''),
  };
}

/**
 * Reads an owner's file, whatever its status: tags, then HEAD for metadata
 * and size. Only roles the bucket policy lets read unvalidated objects can
 * call it on those (getFile). Throws 404 for an unknown or another owner's file.
 */
export async function readFileRecord(owner: Pick<Owner, 'segment'>, fileId: string): Promise<FileRecord> {
  return withMetadata(fileId, await readFileTags(owner, fileId));
}

/**
 * Reads an owner's file that passed validation: tags first, and HEAD only once
 * they say `passed`, because the bucket policy refuses even a HEAD of anything
 * else to the roles that sign downloads. The verdict must be about the bytes
 * there now (its ETag the object's); bytes posted again since are pending
 * until judged. `precheck` (e.g. a share epoch check) runs after the tags are
 * read. Throws 404 for an unknown or another owner's file, 409
 * `not_validated` unless it passed.
 */
export async function readPassedFileRecord(
  owner: Pick<Owner, 'segment'>,
  fileId: string,
  precheck: (tags: FileTags) => void | Promise<void> = () => undefined,
): Promise<FileRecord> {
  const tags = await readFileTags(owner, fileId);
  await precheck(tags);
  if (tags.status !== 'passed') throw notValidated(tags.status);
  const record = await withMetadata(fileId, tags);
  if (record.eTag !== tags.validatedEtag) throw notValidated('pending');
  return record;
}
