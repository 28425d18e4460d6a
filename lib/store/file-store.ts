import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { notFound, notValidated } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import {
  decodeMetaValue,
  encodeMetaValue,
  META,
  mergeValidationTags,
  PENDING_TAGGING,
  quotedETag,
  type RecordedVerdict,
  unquotedETag,
  type VerdictToRecord,
  verdictFromTags,
} from './object-encoding.js';
import { objectKey, shareEpochKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** The verdict on one upload, as its tags record it. */
export interface FileTags extends RecordedVerdict {
  key: string;
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

/** One object as an S3 event names it; reads are pinned to its version and ETag when given. */
export interface ObjectRef {
  key: string;
  versionId?: string;
  /** Quoted or bare; a read answers 412 (`replaced`) once the key holds other bytes. */
  eTag?: string;
}

/** What the validator needs to judge an upload: HEAD and the tag set, read together. */
export interface UploadSnapshot {
  size: number;
  contentType?: string;
  declaredType?: string;
  declaredSize?: string;
  /** The object's ETag, unquoted. */
  eTag: string;
  /** The object's tags as they are, foreign ones included. */
  tags: Tag[];
  verdict: RecordedVerdict;
}

/** What a presigned POST for one new upload pins. */
export interface UploadForm {
  key: string;
  contentType: string;
  /** The exact size in bytes: S3 refuses a body of any other length. */
  size: number;
  filename: string;
  owner: OwnerRef;
  /** Lifetime in seconds. */
  expiresIn: number;
}

/** What a presigned GET of one object serves. */
export interface DownloadRequest {
  key: string;
  /** Sent back by S3 as `Content-Disposition`. */
  contentDisposition: string;
  /** Sent back by S3 as `Content-Type`. */
  contentType: string;
  /** Lifetime in seconds. */
  expiresIn: number;
  /** The signing time; X-Amz-Date has whole seconds. */
  now: Date;
}

export interface FileStoreSettings {
  s3: S3Client;
  bucket: string;
}

export type FileStore = ReturnType<typeof createFileStore>;

/** Runs an S3 read, turning "no such object" into the API's 404. */
async function orNotFound<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw classifyS3Error(error) === 'missing' ? notFound() : error;
  }
}

/**
 * The one module that knows how a file lives in S3, the product's only
 * database: its key, its metadata and tag encoding, its share epoch, how S3
 * errors read, and the presigned URLs that reach it. Built once per container
 * with the function's S3 client.
 */
export function createFileStore({ s3, bucket }: FileStoreSettings) {
  const version = (ref: ObjectRef) => (ref.versionId ? { VersionId: ref.versionId } : {});
  const ifMatch = (ref: ObjectRef) => (ref.eTag ? { IfMatch: quotedETag(ref.eTag) } : {});

  /**
   * Reads the tags of an owner's file (GetObjectTagging, which the tag-gated
   * bucket policy does not refuse). Throws 404 when the object does not exist
   * under this owner's segment, which is also what another owner's id looks like.
   */
  async function readFileTags(owner: OwnerRef, fileId: string): Promise<FileTags> {
    const key = objectKey(owner, fileId);
    const { TagSet } = await orNotFound(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })));
    return { key, ...verdictFromTags(TagSet) };
  }

  async function withMetadata(fileId: string, tags: FileTags): Promise<FileRecord> {
    const head = await orNotFound(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: tags.key })));
    const metadata = head.Metadata ?? {};
    return {
      ...tags,
      fileId,
      filename: decodeMetaValue(metadata[META.filename]) ?? fileId,
      contentType: metadata[META.declaredType] ?? head.ContentType ?? 'application/octet-stream',
      size: head.ContentLength ?? 0,
      uploadedAt: (head.LastModified ?? new Date(0)).toISOString(),
      eTag: unquotedETag(head.ETag),
    };
  }

  /**
   * Reads an owner's file, whatever its status: tags, then HEAD for metadata
   * and size. Only roles the bucket policy lets read unvalidated objects can
   * call it on those (getFile). Throws 404 for an unknown or another owner's file.
   */
  async function readFileRecord(owner: OwnerRef, fileId: string): Promise<FileRecord> {
    return withMetadata(fileId, await readFileTags(owner, fileId));
  }

  /**
   * Reads an owner's file that passed validation: tags first, and HEAD only
   * once they say `passed`, because the bucket policy refuses even a HEAD of
   * anything else to the roles that sign downloads. The verdict must be about
   * the bytes there now (its ETag the object's); bytes posted again since are
   * pending until judged. `precheck` (a share epoch check) runs after the tags
   * are read. Throws 404 for an unknown or another owner's file, 409
   * `not_validated` unless it passed.
   */
  async function readPassedFileRecord(
    owner: OwnerRef,
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

  /** The file's current share epoch: 0 until its links were first revoked. */
  async function readShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    try {
      const { Body } = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: shareEpochKey(owner, fileId) }),
      );
      const epoch = Number.parseInt((await Body?.transformToString()) ?? '0', 10);
      return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
    } catch (error) {
      if (classifyS3Error(error) === 'missing') return 0;
      throw error;
    }
  }

  /**
   * Revokes every share link issued so far for the file by moving its epoch
   * on. Two revocations at once may both write the same next epoch: either way
   * every earlier link is revoked.
   */
  async function bumpShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    const next = (await readShareEpoch(owner, fileId)) + 1;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: shareEpochKey(owner, fileId),
        Body: String(next),
        ContentType: 'text/plain',
      }),
    );
    return next;
  }

  /**
   * Reads what the validator judges an upload by: HEAD (conditioned on the
   * event's ETag, so a replaced object answers 412) and the tag set, at once.
   * Throws the SDK's error as is; {@link classifyS3Error} reads it.
   */
  async function readUpload(ref: ObjectRef): Promise<UploadSnapshot> {
    const [head, tagging] = await Promise.all([
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: ref.key, ...version(ref), ...ifMatch(ref) })),
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: ref.key, ...version(ref) })),
    ]);
    const metadata = head.Metadata ?? {};
    const tags = tagging.TagSet ?? [];
    return {
      size: head.ContentLength ?? 0,
      ...(head.ContentType !== undefined ? { contentType: head.ContentType } : {}),
      ...(metadata[META.declaredType] !== undefined ? { declaredType: metadata[META.declaredType] } : {}),
      ...(metadata[META.declaredSize] !== undefined ? { declaredSize: metadata[META.declaredSize] } : {}),
      eTag: unquotedETag(head.ETag ?? ref.eTag),
      tags,
      verdict: verdictFromTags(tags),
    };
  }

  /**
   * Reads at most `limit` leading bytes of an object with a ranged GET
   * (`Range: bytes=0-<limit-1>`), conditioned on its ETag and version when
   * given. Even a server that ignored the Range header could not make it read
   * more: leaving the loop early destroys the stream. Throws the SDK's error as is.
   */
  async function readLeadingBytes(ref: ObjectRef, limit: number): Promise<Uint8Array> {
    const response = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: ref.key,
        Range: `bytes=0-${limit - 1}`,
        ...ifMatch(ref),
        ...version(ref),
      }),
    );
    if (!response.Body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
      chunks.push(chunk.subarray(0, limit - length));
      length += Math.min(chunk.length, limit - length);
      if (length >= limit) break;
    }
    return Buffer.concat(chunks, length);
  }

  /**
   * Tags a verdict on the bytes with `snapshot.eTag`, keeping the object's
   * other tags (see {@link mergeValidationTags}). Returns the keys of foreign
   * tags that did not fit within S3's limit of 10.
   */
  async function recordVerdict(
    ref: ObjectRef,
    snapshot: Pick<UploadSnapshot, 'tags' | 'eTag'>,
    verdict: VerdictToRecord,
  ): Promise<string[]> {
    const { tagSet, dropped } = mergeValidationTags(snapshot.tags, verdict, snapshot.eTag);
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: ref.key,
        ...version(ref),
        Tagging: { TagSet: tagSet },
      }),
    );
    return dropped;
  }

  /**
   * A browser-ready presigned POST (the SDK's `createPresignedPost`) for one
   * new upload. Every field is an exact-match policy condition: the bucket,
   * the key, the Content-Type, the metadata (filename as base64url, owner
   * segment, declared type and size) and the `validation-status=pending`
   * tagging; `content-length-range` pins the exact size. S3 refuses anything else.
   */
  function presignUpload(form: UploadForm): Promise<{ url: string; fields: Record<string, string> }> {
    return createPresignedPost(s3, {
      Bucket: bucket,
      Key: form.key,
      Expires: form.expiresIn,
      Conditions: [['content-length-range', form.size, form.size]],
      Fields: {
        'Content-Type': form.contentType,
        tagging: PENDING_TAGGING,
        [`x-amz-meta-${META.filename}`]: encodeMetaValue(form.filename),
        [`x-amz-meta-${META.owner}`]: form.owner.segment,
        [`x-amz-meta-${META.declaredType}`]: form.contentType,
        [`x-amz-meta-${META.declaredSize}`]: String(form.size),
      },
    });
  }

  /**
   * A presigned GET (the SDK's `getSignedUrl`) that makes S3 answer with the
   * given `Content-Disposition` and `Content-Type`, signed at `now` for
   * `expiresIn` seconds.
   */
  function presignDownload(request: DownloadRequest): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: request.key,
      ResponseContentDisposition: request.contentDisposition,
      ResponseContentType: request.contentType,
    });
    return getSignedUrl(s3, command, { expiresIn: request.expiresIn, signingDate: request.now });
  }

  return {
    bucket,
    /** The signing credentials, whose expiration bounds every presigned URL's life. */
    credentials: s3.config.credentials,
    readFileTags,
    readFileRecord,
    readPassedFileRecord,
    readShareEpoch,
    bumpShareEpoch,
    readUpload,
    readLeadingBytes,
    recordVerdict,
    presignUpload,
    presignDownload,
  };
}
