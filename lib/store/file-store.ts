import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ClientMetadata } from '../core/client-metadata.js';
import { ApiError, notFound, notValidated } from '../core/errors.js';
import {
  combineChecks,
  type FileChecks,
  GUARDDUTY_SCAN_TAG,
  type GuardDutyScanResult,
  type MalwareScanMode,
} from '../core/file-checks.js';
import type { Owner } from '../core/owner.js';
import type { VerdictClaims, VerdictSigner, VerdictVerifier } from '../core/verdict-signature.js';
import { createFileIndex } from './file-index.js';
import { createMultipartStore } from './multipart-store.js';
import {
  clientMetadataOf,
  decodeMetaValue,
  fileChecks,
  META,
  mergeValidationTags,
  PENDING_TAGGING,
  quotedETag,
  type RecordedVerdict,
  toTagValue,
  unquotedETag,
  uploadMetadata,
  type VerdictToRecord,
  verdictFromTags,
  withScanResult,
} from './object-encoding.js';
import { multipartRecordKey, objectKey, shareEpochKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';
import { readStateObject } from './state-object.js';
import { createUsageStore } from './usage-store.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** A key's versions, oldest first, and when its oldest delete marker was made (ms), if it has one. */
interface KeyVersions {
  versions: { versionId: string; eTag: string; lastModified: number; size: number }[];
  deletedAt: number | undefined;
}

/** The version a file names: the key's oldest, unless a delete marker is as old (the file was deleted). */
function fileVersion({ versions, deletedAt }: KeyVersions): KeyVersions['versions'][number] | undefined {
  const [oldest] = versions;
  if (!oldest || (deletedAt !== undefined && deletedAt <= oldest.lastModified)) return undefined;
  return oldest;
}

/** The verdict on one upload: its first version's, and only if the validator signed it for that version. */
export interface FileTags extends RecordedVerdict {
  /**
   * Each check's own result; `status` and `reason` above combine them
   * ({@link combineChecks}): `passed` only when every enabled check passed.
   */
  checks: FileChecks;
  key: string;
  /** The first version under the key: the only bytes the file ever names. */
  versionId: string;
  /** That version's ETag, unquoted. */
  eTag: string;
  /**
   * When that version landed, as the version listing reports it: what GET
   * /files/{fileId} and GET /files both show (Ceph RGW moves it when the
   * version is tagged, AWS does not).
   */
  uploadedAt: string;
  /** That version's size in bytes, as the version listing reports it. */
  storedBytes: number;
}

/** What the API knows of one upload, read from its first version itself (no database). */
export interface FileRecord extends FileTags {
  fileId: string;
  filename: string;
  /** The uploader's own JSON object, pinned with the upload; `null` when it gave none. */
  clientMetadata: ClientMetadata | null;
  contentType: string;
  size: number;
}

/** One object as an S3 event names it; reads are pinned to its version and ETag when given. */
export interface ObjectRef {
  key: string;
  versionId?: string;
  /** Quoted or bare; a read answers 412 (`replaced`) once the key holds other bytes. */
  eTag?: string;
}

/** What the validator needs to judge one version of an upload: HEAD, its tags and the key's first version. */
export interface UploadSnapshot {
  /** The version judged: the event's, or `null` in an unversioned bucket. */
  versionId: string;
  /** Whether this version is the key's first: any later one was posted again with the same form. */
  isFirstVersion: boolean;
  size: number;
  contentType?: string;
  declaredType?: string;
  declaredSize?: string;
  /** The original filename the upload pinned. */
  filename?: string;
  /** When this version landed, as HEAD reports it now (Ceph RGW moves it when the version is tagged). */
  lastModified?: Date;
  /** The uploader's own JSON object the upload pinned; `null` when none. */
  clientMetadata: ClientMetadata | null;
  /** The object's ETag, unquoted. */
  eTag: string;
  /** The object's tags as they are, foreign ones included. */
  tags: Tag[];
  /** The verdict the tags carry, `pending` unless the validator signed it for this version. */
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
  /** The uploader's own JSON object, pinned as metadata. */
  clientMetadata?: ClientMetadata | undefined;
  /** Lifetime in seconds. */
  expiresIn: number;
}

/** What a presigned GET of one version of an object serves. */
export interface DownloadRequest {
  key: string;
  versionId: string;
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
  /** The uploads bucket, versioned. */
  bucket: string;
  /** The state bucket (share epochs), unversioned so that conditional writes hold on every S3. */
  stateBucket: string;
  /** Checks the validator's signature on a verdict before the store reports it. */
  verifyVerdict: VerdictVerifier;
  /** Signs verdicts: only the validator's store has one. */
  signVerdict?: VerdictSigner;
  /**
   * How `If-Match` takes an ETag on a conditional write: AWS takes it quoted,
   * as ETags are written; Ceph RGW only unquoted.
   */
  conditionalETag: 'quoted' | 'unquoted';
  /** `guardduty`: GuardDuty's tag on a version is a second check its status requires (default `none`). */
  malwareScan?: MalwareScanMode;
}

export type FileStore = ReturnType<typeof createFileStore>;

/** A listing of more versions than this under one key is refused rather than paged through. */
const MAX_VERSION_PAGES = 5;
/** Passes of listing and deleting a key's versions: each loses only to a re-post landing meanwhile. */
const DELETE_PASSES = 5;
/** Tries of a compare-and-swap write before giving up (each loses only to another writer's success). */
const CONDITIONAL_WRITE_TRIES = 20;

/**
 * Runs an S3 read of a file record, turning the races a caller can lose into
 * the API's answers: the object gone is 404, replaced or refused by the read
 * gate (its verdict changed under us) is 409 `not_validated`. Anything else is
 * rethrown, a 500.
 */
async function asApiAnswer<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    const kind = classifyS3Error(error);
    if (kind === 'missing') throw notFound();
    if (kind === 'replaced' || kind === 'denied') throw notValidated('pending');
    throw error;
  }
}

/**
 * The one module that knows how a file lives in S3, the product's only
 * database: its key, its metadata and tag encoding, its share epoch, how S3
 * errors read, and the presigned URLs that reach it; multipart uploads in
 * their own file ({@link createMultipartStore}). Built once per container
 * with the function's S3 client.
 */
export function createFileStore(settings: FileStoreSettings) {
  const { s3, bucket, stateBucket, verifyVerdict, signVerdict } = settings;
  const malwareScan = settings.malwareScan ?? 'none';
  const version = (ref: ObjectRef) => (ref.versionId ? { VersionId: ref.versionId } : {});
  const ifMatch = (ref: ObjectRef) => (ref.eTag ? { IfMatch: quotedETag(ref.eTag) } : {});
  const fileIndex = createFileIndex({ s3, stateBucket });
  const ifMatchForWrite = (eTag: string) =>
    settings.conditionalETag === 'quoted' ? quotedETag(eTag) : unquotedETag(eTag);

  /**
   * A key's versions, oldest first (ListObjectVersions lists them newest
   * first), and when its oldest delete marker was made. A key listing more
   * than a few thousand entries (a form posted again and again) is refused
   * with 409 rather than paged through.
   */
  async function listVersions(key: string): Promise<KeyVersions> {
    const newestFirst: KeyVersions['versions'] = [];
    let deletedAt: number | undefined;
    let markers = {};
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const listed = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, ...markers }),
      );
      for (const marker of listed.DeleteMarkers ?? []) {
        if (marker.Key !== key) continue;
        const at = marker.LastModified?.getTime() ?? 0;
        deletedAt = deletedAt === undefined ? at : Math.min(deletedAt, at);
      }
      // Keys are listed in order and every other key under this prefix is longer, so it comes
      // after all of this key's versions: stop there rather than page through someone's flood.
      const others = (listed.Versions ?? []).some((entry) => entry.Key !== key);
      for (const entry of listed.Versions ?? []) {
        if (entry.Key !== key || !entry.VersionId) continue;
        newestFirst.push({
          versionId: entry.VersionId,
          eTag: unquotedETag(entry.ETag),
          lastModified: entry.LastModified?.getTime() ?? 0,
          size: entry.Size ?? 0,
        });
      }
      if (others || !listed.IsTruncated) return { versions: newestFirst.reverse(), deletedAt };
      markers = { KeyMarker: listed.NextKeyMarker, VersionIdMarker: listed.NextVersionIdMarker };
    }
    throw new ApiError(409, 'not_validated', 'this file was posted again too many times');
  }

  /**
   * The first version under a key, or `undefined` when it has none, or when
   * the file was deleted: DELETE /files leaves a delete marker older than any
   * version still there, and a version posted after it (a form still valid)
   * never becomes the file. A marker made in the same instant as the oldest
   * version counts as older: the tie always reads as deleted.
   */
  async function firstVersion(key: string): Promise<KeyVersions['versions'][number] | undefined> {
    return fileVersion(await listVersions(key));
  }

  /** The recorded verdict, if the validator signed it for exactly this version; else `pending`. */
  function trustedVerdict(key: string, versionId: string, eTag: string, tags: readonly Tag[] | undefined) {
    const recorded = verdictFromTags(tags);
    // Nothing of an unsigned tag set is reported: no reason, no detected type.
    if (recorded.status === 'pending') return { status: 'pending' as const };
    const claims: VerdictClaims = {
      bucket,
      key,
      versionId,
      eTag,
      status: recorded.status,
      ...(recorded.reason ? { reason: recorded.reason } : {}),
      ...(recorded.detectedType ? { detectedType: recorded.detectedType } : {}),
    };
    return verifyVerdict(claims, recorded.signature) ? recorded : { status: 'pending' as const };
  }

  /**
   * Reads the verdict on an owner's file: its first version's tags
   * (GetObjectVersionTagging, which the tag-gated bucket policy does not
   * refuse), trusted only with the validator's signature for that version.
   * Throws 404 when no such object exists under this owner's segment, which
   * is also what another owner's id looks like.
   */
  async function readFileTags(owner: OwnerRef, fileId: string): Promise<FileTags> {
    const key = objectKey(owner, fileId);
    const first = await asApiAnswer(firstVersion(key));
    if (!first) throw notFound();
    const { TagSet } = await asApiAnswer(
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: first.versionId })),
    );
    const content = trustedVerdict(key, first.versionId, first.eTag, TagSet);
    const checks = fileChecks(malwareScan, content.status, TagSet);
    const { status, reason } = combineChecks(checks, content.reason);
    const { reason: _contentReason, ...verdict } = content;
    return {
      key,
      versionId: first.versionId,
      eTag: first.eTag,
      uploadedAt: new Date(first.lastModified).toISOString(),
      storedBytes: first.size,
      ...verdict,
      status,
      ...(reason !== undefined ? { reason } : {}),
      checks,
    };
  }

  async function withMetadata(fileId: string, tags: FileTags): Promise<FileRecord> {
    const head = await asApiAnswer(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: tags.key, VersionId: tags.versionId })),
    );
    const metadata = head.Metadata ?? {};
    return {
      ...tags,
      fileId,
      filename: decodeMetaValue(metadata[META.filename]) ?? fileId,
      clientMetadata: clientMetadataOf(metadata),
      contentType: metadata[META.declaredType] ?? head.ContentType ?? 'application/octet-stream',
      size: head.ContentLength ?? 0,
    };
  }

  /**
   * Reads an owner's file, whatever its status: its first version's tags,
   * then HEAD of that version for metadata and size. Only roles the bucket
   * policy lets read unvalidated objects can call it on those (getFile).
   * Throws 404 for an unknown or another owner's file.
   */
  async function readFileRecord(owner: OwnerRef, fileId: string): Promise<FileRecord> {
    return withMetadata(fileId, await readFileTags(owner, fileId));
  }

  /**
   * Reads an owner's file that passed validation: tags first, and HEAD only
   * once a signed verdict says `passed`, because the bucket policy refuses
   * even a HEAD of anything else to the roles that sign downloads.
   * `precheck` (a share link's checks) runs after the tags are read. Throws
   * 404 for an unknown or another owner's file, 409 `not_validated` unless it
   * passed (a verdict changed under a read is a 409 too, never a 500).
   */
  async function readPassedFileRecord(
    owner: OwnerRef,
    fileId: string,
    precheck: (tags: FileTags) => void | Promise<void> = () => undefined,
  ): Promise<FileRecord> {
    const tags = await readFileTags(owner, fileId);
    await precheck(tags);
    if (tags.status !== 'passed') throw notValidated(tags.status);
    return withMetadata(fileId, tags);
  }

  /** A file's share epoch and the ETag it was read with (none before the first revocation). */
  async function readEpochObject(owner: OwnerRef, fileId: string): Promise<{ epoch: number; eTag?: string }> {
    // No epoch object yet: no link was revoked.
    const object = await readStateObject(s3, stateBucket, shareEpochKey(owner, fileId));
    if (!object) return { epoch: 0 };
    const epoch = Number.parseInt(object.text || '0', 10);
    return {
      epoch: Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0,
      ...(object.eTag ? { eTag: object.eTag } : {}),
    };
  }

  /** The file's current share epoch: 0 until its links were first revoked. */
  async function readShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    return (await readEpochObject(owner, fileId)).epoch;
  }

  /**
   * Revokes every share link issued so far for the file by moving its epoch
   * on, with a compare-and-swap write: the next epoch is written only over
   * the very object it was computed from (`If-Match` its ETag, or
   * `If-None-Match: *` for the first). So the epoch only ever grows, under any
   * interleaving of revocations, and a revoked link stays revoked. A write
   * that loses (412) needs no retry: another revocation has already moved the
   * epoch past the one read here, revoking every link issued before this
   * request, so concurrent revocations cannot pile up retries. Returns the
   * epoch the file is now at least at.
   */
  async function bumpShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    for (let attempt = 0; attempt < CONDITIONAL_WRITE_TRIES; attempt++) {
      const { epoch, eTag } = await readEpochObject(owner, fileId);
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: stateBucket,
            Key: shareEpochKey(owner, fileId),
            Body: String(epoch + 1),
            ContentType: 'text/plain',
            ...(eTag ? { IfMatch: ifMatchForWrite(eTag) } : { IfNoneMatch: '*' }),
          }),
        );
        return epoch + 1;
      } catch (error) {
        const kind = classifyS3Error(error);
        if (kind === 'replaced') return epoch + 1;
        // Two conditional writes at once, and neither may have landed: read again.
        if (kind !== 'conflict') throw error;
      }
    }
    throw new Error(`share epoch of ${fileId} kept conflicting over ${CONDITIONAL_WRITE_TRIES} tries`);
  }

  /**
   * Reads what the validator judges one version of an upload by: the key's
   * versions (is it the first?), then HEAD and the tag set of that version.
   * The version is the event's, or, when the event names none, the newest
   * with the event's ETag. Throws the SDK's error as is (a missing object or
   * version is a 404); {@link classifyS3Error} reads it.
   */
  async function readUpload(ref: ObjectRef): Promise<UploadSnapshot> {
    const listing = await listVersions(ref.key);
    const { versions } = listing;
    const tagsOf = async (versionId: string) =>
      (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: ref.key, VersionId: versionId })))
        .TagSet ?? [];
    let versionId = ref.versionId;
    let known: Tag[] | undefined;
    if (!versionId) {
      // An event that names no version (Ceph RGW's for a form POST) is about one with its ETag:
      // the newest not yet judged (identical bytes posted twice share an ETag), else the newest.
      const candidates = [...versions]
        .reverse()
        .filter((entry) => !ref.eTag || entry.eTag === unquotedETag(ref.eTag));
      for (const candidate of candidates) {
        const tags = await tagsOf(candidate.versionId);
        if (trustedVerdict(ref.key, candidate.versionId, candidate.eTag, tags).status === 'pending') {
          versionId = candidate.versionId;
          known = tags;
          break;
        }
      }
      versionId ??= candidates[0]?.versionId;
    }
    if (!versionId) throw new NoSuchKey({ message: 'no such version', $metadata: { httpStatusCode: 404 } });
    const pinned = versionId;
    const [head, tagSet] = await Promise.all([
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: ref.key, VersionId: pinned })),
      known ?? tagsOf(pinned),
    ]);
    const metadata = head.Metadata ?? {};
    const tags = tagSet;
    const eTag = unquotedETag(head.ETag ?? ref.eTag);
    return {
      versionId: pinned,
      isFirstVersion: fileVersion(listing)?.versionId === pinned,
      size: head.ContentLength ?? 0,
      ...(head.ContentType !== undefined ? { contentType: head.ContentType } : {}),
      ...(metadata[META.declaredType] !== undefined ? { declaredType: metadata[META.declaredType] } : {}),
      ...(metadata[META.declaredSize] !== undefined ? { declaredSize: metadata[META.declaredSize] } : {}),
      ...(metadata[META.filename] !== undefined
        ? { filename: decodeMetaValue(metadata[META.filename]) }
        : {}),
      clientMetadata: clientMetadataOf(metadata),
      ...(head.LastModified ? { lastModified: head.LastModified } : {}),
      eTag,
      tags,
      verdict: trustedVerdict(ref.key, pinned, eTag, tags),
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
   * Tags a verdict on the judged version, signed by the validator for that
   * version and its ETag, keeping the object's other tags (see
   * {@link mergeValidationTags}). Returns the keys of foreign tags that did
   * not fit within S3's limit of 10. Throws in a store that cannot sign.
   */
  async function recordVerdict(
    ref: ObjectRef,
    snapshot: Pick<UploadSnapshot, 'tags' | 'eTag' | 'versionId'>,
    verdict: Omit<VerdictToRecord, 'signature'>,
    scanResult?: GuardDutyScanResult,
  ): Promise<string[]> {
    if (!signVerdict) throw new Error('this function cannot sign verdicts');
    // Signed exactly as written: a detected type is stored as a valid tag value.
    const recorded = {
      ...verdict,
      ...(verdict.detectedType ? { detectedType: toTagValue(verdict.detectedType) } : {}),
    };
    const signature = signVerdict({
      bucket,
      key: ref.key,
      versionId: snapshot.versionId,
      eTag: snapshot.eTag,
      ...recorded,
    });
    const { tagSet, dropped } = mergeValidationTags(
      withScanResult(snapshot.tags, scanResult),
      { ...recorded, signature },
      snapshot.eTag,
    );
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
   * Writes GuardDuty's result on the version as GuardDuty does (its tag
   * added, every other tag kept): what the validator does when the scan's
   * result event names a version whose tag was lost to another writer's
   * read-modify-write of the tag set. Writes nothing when the tag is there.
   */
  async function recordScanResult(
    ref: ObjectRef,
    snapshot: Pick<UploadSnapshot, 'tags'>,
    scanResult: GuardDutyScanResult,
  ): Promise<void> {
    const current = snapshot.tags.find((tag) => tag.Key === GUARDDUTY_SCAN_TAG)?.Value;
    if (current === scanResult) return;
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: ref.key,
        ...version(ref),
        Tagging: { TagSet: withScanResult(snapshot.tags, scanResult) },
      }),
    );
  }

  /** Deletes one version of the key; one already gone is fine. */
  async function deleteVersion(key: string, versionId: string): Promise<void> {
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    } catch (error) {
      if (classifyS3Error(error) !== 'missing') throw error;
    }
  }

  /**
   * Deletes an owner's file: first a delete marker, the tombstone that keeps
   * the file deleted (a version a still-valid form posts later is never the
   * file), then every version of the key, listed again until none is older
   * than the marker (a re-post racing the delete), then its share epoch,
   * index entry and multipart record. Throws 404 when the owner has no such
   * file, which is also what a second delete answers.
   */
  async function deleteFile(owner: OwnerRef, fileId: string): Promise<void> {
    const key = objectKey(owner, fileId);
    if (!(await asApiAnswer(firstVersion(key)))) {
      // An index entry written after an earlier delete (the validator indexing meanwhile) goes too.
      await fileIndex.removeIndexEntry(owner, fileId);
      throw notFound();
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    for (let pass = 0; pass < DELETE_PASSES; pass++) {
      const { versions } = await listVersions(key);
      if (versions.length === 0) break;
      await Promise.all(versions.map((version) => deleteVersion(key, version.versionId)));
    }
    await Promise.all(
      [shareEpochKey(owner, fileId), multipartRecordKey(owner, fileId)].map((stateKey) =>
        s3.send(new DeleteObjectCommand({ Bucket: stateBucket, Key: stateKey })),
      ),
    );
    await fileIndex.removeIndexEntry(owner, fileId);
  }

  /**
   * A browser-ready presigned POST (the SDK's `createPresignedPost`) for one
   * new upload. Every field is an exact-match policy condition: the bucket,
   * the key, the Content-Type, the metadata ({@link uploadMetadata}: filename,
   * owner segment, declared type and size, clientMetadata) and the `validation-status=pending`
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
        ...Object.fromEntries(
          Object.entries(
            uploadMetadata({
              filename: form.filename,
              ownerSegment: form.owner.segment,
              contentType: form.contentType,
              size: form.size,
              clientMetadata: form.clientMetadata,
            }),
          ).map(([name, value]) => [`x-amz-meta-${name}`, value]),
        ),
      },
    });
  }

  /**
   * A presigned GET (the SDK's `getSignedUrl`) of exactly one version, that makes S3 answer with the
   * given `Content-Disposition` and `Content-Type`, signed at `now` for
   * `expiresIn` seconds.
   */
  function presignDownload(request: DownloadRequest): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: request.key,
      VersionId: request.versionId,
      ResponseContentDisposition: request.contentDisposition,
      ResponseContentType: request.contentType,
    });
    return getSignedUrl(s3, command, { expiresIn: request.expiresIn, signingDate: request.now });
  }

  return {
    bucket,
    ...createMultipartStore({ s3, bucket, stateBucket }),
    ...createUsageStore({ s3, bucket, stateBucket, conditionalETag: settings.conditionalETag }),
    ...fileIndex,
    deleteFile,
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
    recordScanResult,
    presignUpload,
    presignDownload,
  };
}
