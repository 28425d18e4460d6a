import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
  type Tag,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ClientMetadata } from '../core/client-metadata.js';
import { notFound, notValidated } from '../core/errors.js';
import {
  combineChecks,
  type FileChecks,
  GUARDDUTY_SCAN_TAG,
  type GuardDutyScanResult,
  type MalwareScanMode,
  malwareCheckOf,
} from '../core/file-checks.js';
import type { Owner } from '../core/owner.js';
import type { VerdictClaims, VerdictSigner, VerdictVerifier } from '../core/verdict-signature.js';
import { createFileIndex, type EntryVerdict, type FileIndexEntry, isTombstone } from './file-index.js';
import { createMultipartStore } from './multipart-store.js';
import {
  clientMetadataOf,
  decodeMetaValue,
  META,
  mergeValidationTags,
  PENDING_TAGGING,
  quotedETag,
  type RecordedVerdict,
  TAG,
  toTagValue,
  unquotedETag,
  uploadMetadata,
  type VerdictToRecord,
  verdictFromTags,
  withScanResult,
} from './object-encoding.js';
import { multipartRecordKey, objectKey, parseObjectKey, shareEpochKey } from './object-key.js';
import { createPendingMarkers } from './pending-markers.js';
import { classifyS3Error } from './s3-errors.js';
import { readStateObject } from './state-object.js';
import { createUsageStore } from './usage-store.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** The verdict on one upload: its first version's, and only if the validator signed it for that version. */
export interface FileTags extends RecordedVerdict {
  /**
   * Each check's own result; `status` and `reason` above combine them
   * ({@link combineChecks}): `passed` only when every enabled check passed.
   */
  checks: FileChecks;
  key: string;
  /** The first version under the key: the only bytes the file ever names (empty until the validator has seen the file). */
  versionId: string;
  /** That version's ETag, unquoted (empty until the validator has seen the file). */
  eTag: string;
  /** When that version landed, as the validator first saw it. */
  uploadedAt: string;
  /** That version's size in bytes. */
  storedBytes: number;
}

/** What the API knows of one upload, read from its record in the file index. */
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

/** What the validator knows of a file before it reads any version: its record, if it wrote one. */
export type FileState =
  /** No record yet: the validator has not seen the file (or DELETE /files removed it). */
  | { kind: 'unseen' }
  /** Deleted while its upload form could still be posted: no version under the key is the file. */
  | { kind: 'deleted' }
  /** The file's record, and the ETag a compare-and-swap write over it names. */
  | { kind: 'recorded'; entry: FileIndexEntry; eTag: string | undefined };

/** What one listing of a key's versions shows, the once per file the validator lists it. */
export interface KeyListing {
  /** Every version listed, oldest first. */
  versions: { versionId: string; eTag: string }[];
  /** The key's first version, unless the file was deleted. */
  first?: { versionId: string; eTag: string };
  /** Whether a delete marker is under the key: DELETE /files (or the lifecycle) removed the file. */
  deleted: boolean;
  /** Every version listed but the first: later posts of its form (all of them once it is deleted). */
  others: string[];
}

/** What the validator judges one version of an upload by: its headers, its tags, and its leading bytes. */
export interface UploadSnapshot {
  /** The version judged. */
  versionId: string;
  size: number;
  contentType?: string;
  declaredType?: string;
  declaredSize?: string;
  /** The original filename the upload pinned. */
  filename?: string;
  /** When this version landed, as S3 reports it now (Ceph RGW moves it when the version is tagged). */
  lastModified?: Date;
  /** The uploader's own JSON object the upload pinned; `null` when none. */
  clientMetadata: ClientMetadata | null;
  /** The object's ETag, unquoted. */
  eTag: string;
  /** The object's tags as they are, foreign ones included. */
  tags: Tag[];
  /** The verdict the tags carry, `pending` unless the validator signed it for this version. */
  verdict: RecordedVerdict;
  /** At most the limit asked for of the version's leading bytes. */
  sample: Uint8Array;
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

/** Pages of one key's versions the validator lists, the once per file it lists them, before it gives up. */
const MAX_VERSION_PAGES = 50;
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

/** The file a record describes, in the key's own terms. */
const fileOfKey = (key: string) => parseObjectKey(key) as { segment: string; fileId: string };

/**
 * The one module that knows how a file lives in S3, the product's only
 * database: its key, its metadata and tag encoding, its record in the file
 * index, its share epoch, how S3 errors read, and the presigned URLs that
 * reach it; multipart uploads in their own file ({@link createMultipartStore}).
 * Built once per container with the function's S3 client.
 *
 * A file is the first version under its key. The validator records which
 * version that is, once, in the file's index entry (create-once, when it
 * first sees the key), with what the upload pinned and, once judged, its
 * signed verdict; every later version is deleted on sight. So every read is
 * one GET of that record (plus one request where the record alone cannot
 * answer), whatever the number of times the upload form was posted.
 */
export function createFileStore(settings: FileStoreSettings) {
  const { s3, bucket, stateBucket, verifyVerdict, signVerdict } = settings;
  const malwareScan = settings.malwareScan ?? 'none';
  const version = (ref: ObjectRef) => (ref.versionId ? { VersionId: ref.versionId } : {});
  const ifMatch = (ref: ObjectRef) => (ref.eTag ? { IfMatch: quotedETag(ref.eTag) } : {});
  const ifMatchForWrite = (eTag: string) =>
    settings.conditionalETag === 'quoted' ? quotedETag(eTag) : unquotedETag(eTag);
  const fileIndex = createFileIndex({ s3, stateBucket, ifMatchOf: ifMatchForWrite });

  /** The recorded verdict, if the validator signed it for exactly this version; else `pending`. */
  function trustedVerdict(
    key: string,
    versionId: string,
    eTag: string,
    recorded: RecordedVerdict,
  ): RecordedVerdict {
    // Nothing of an unsigned verdict is reported: no reason, no detected type.
    if (recorded.status === 'pending') return { status: 'pending' };
    const claims: VerdictClaims = {
      bucket,
      key,
      versionId,
      eTag,
      status: recorded.status,
      ...(recorded.reason ? { reason: recorded.reason } : {}),
      ...(recorded.detectedType ? { detectedType: recorded.detectedType } : {}),
    };
    return verifyVerdict(claims, recorded.signature) ? recorded : { status: 'pending' };
  }

  /** The verdict a version's tags carry, trusted only with the validator's signature for it. */
  const verdictOfTags = (key: string, versionId: string, eTag: string, tags: readonly Tag[] | undefined) =>
    trustedVerdict(key, versionId, eTag, verdictFromTags(tags));

  /** A file's checks and status from its record: the signed verdict, and GuardDuty's result as recorded. */
  function tagsOfEntry(key: string, entry: FileIndexEntry): FileTags {
    const content = entry.verdict
      ? trustedVerdict(key, entry.versionId, entry.eTag, { ...entry.verdict, validatedEtag: entry.eTag })
      : { status: 'pending' as const };
    const checks: FileChecks = {
      content: content.status,
      malware: malwareScan === 'guardduty' ? malwareCheckOf(entry.malware) : 'off',
    };
    const { status, reason } = combineChecks(checks, content.reason);
    return {
      key,
      versionId: entry.versionId,
      eTag: entry.eTag,
      uploadedAt: entry.uploadedAt,
      storedBytes: entry.size,
      ...(content.detectedType !== undefined ? { detectedType: content.detectedType } : {}),
      status,
      ...(reason !== undefined ? { reason } : {}),
      checks,
    };
  }

  const recordOfEntry = (fileId: string, key: string, entry: FileIndexEntry): FileRecord => ({
    ...tagsOfEntry(key, entry),
    fileId,
    filename: entry.filename,
    clientMetadata: entry.clientMetadata,
    contentType: entry.contentType,
    size: entry.size,
  });

  /** A file the validator has not recorded yet: pending, its version not known. */
  const unseenTags = (key: string, uploadedAt: string, storedBytes: number): FileTags => ({
    key,
    versionId: '',
    eTag: '',
    uploadedAt,
    storedBytes,
    status: 'pending',
    checks: { content: 'pending', malware: malwareScan === 'guardduty' ? 'pending' : 'off' },
  });

  /** The file's record, or `undefined` when the index holds none. Throws 404 for a deleted file's tombstone. */
  async function readEntry(owner: OwnerRef, fileId: string): Promise<FileIndexEntry | undefined> {
    const read = await fileIndex.readIndexEntry(owner, fileId);
    if (isTombstone(read?.entry)) throw notFound();
    return read?.entry as FileIndexEntry | undefined;
  }

  /**
   * Whether anything is stored under the key of a file the validator has not
   * recorded yet: a GetObjectTagging of its current version (a delete marker
   * or nothing answers 404). A tag read, not a read of bytes: the roles that
   * call it may not read unvalidated objects.
   */
  async function unseenFileExists(key: string): Promise<boolean> {
    try {
      await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (classifyS3Error(error) === 'missing') return false;
      throw error;
    }
  }

  /**
   * Reads the verdict on an owner's file from its record: the content verdict
   * trusted only with the validator's signature for the recorded version, and
   * GuardDuty's result as the validator recorded it. One GET; a file the
   * validator has not seen yet costs one tag read more, to tell it (pending)
   * from none. Throws 404 when no such file exists under this owner's
   * segment, which is also what another owner's id looks like.
   */
  async function readFileTags(owner: OwnerRef, fileId: string): Promise<FileTags> {
    const key = objectKey(owner, fileId);
    const entry = await readEntry(owner, fileId);
    if (entry) return tagsOfEntry(key, entry);
    if (!(await unseenFileExists(key))) throw notFound();
    return unseenTags(key, new Date(0).toISOString(), 0);
  }

  /**
   * An owner's recorded file, whatever its status, from its record alone (one
   * GET): `undefined` when the index holds no record of it (not seen yet, or
   * deleted). What each item of a list costs.
   */
  async function readRecordedFile(owner: OwnerRef, fileId: string): Promise<FileRecord | undefined> {
    const read = await fileIndex.readIndexEntry(owner, fileId);
    if (!read || isTombstone(read.entry)) return undefined;
    return recordOfEntry(fileId, objectKey(owner, fileId), read.entry);
  }

  /**
   * Reads an owner's file, whatever its status, from its record (one GET).
   * Before the validator has recorded it, HEAD of the key's current version
   * describes it, pending: the upload form pins the same metadata on every
   * version, so whichever is current tells the same. Only roles the bucket
   * policy lets read unvalidated objects can call it (getFile). Throws 404
   * for an unknown, deleted or another owner's file.
   */
  async function readFileRecord(owner: OwnerRef, fileId: string): Promise<FileRecord> {
    const key = objectKey(owner, fileId);
    const entry = await readEntry(owner, fileId);
    if (entry) return recordOfEntry(fileId, key, entry);
    const head = await asApiAnswer(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    const metadata = head.Metadata ?? {};
    return {
      ...unseenTags(key, (head.LastModified ?? new Date(0)).toISOString(), head.ContentLength ?? 0),
      fileId,
      filename: decodeMetaValue(metadata[META.filename]) ?? fileId,
      clientMetadata: clientMetadataOf(metadata),
      contentType: metadata[META.declaredType] ?? head.ContentType ?? 'application/octet-stream',
      size: head.ContentLength ?? 0,
    };
  }

  /**
   * Reads an owner's file that passed validation from its record (one GET):
   * the signed verdict must say `passed` for the recorded version, which the
   * caller then pins, so S3's tag-gated read judges exactly that version.
   * `precheck` (a share link's checks) runs on the verdict before its status
   * is looked at. Throws 404 for an unknown, deleted or another owner's file,
   * 409 `not_validated` unless it passed (a file the validator has not seen
   * yet costs one tag read more, to tell it from none).
   */
  async function readPassedFileRecord(
    owner: OwnerRef,
    fileId: string,
    precheck: (tags: FileTags) => void | Promise<void> = () => undefined,
  ): Promise<FileRecord> {
    const key = objectKey(owner, fileId);
    const entry = await readEntry(owner, fileId);
    if (!entry) {
      await precheck(unseenTags(key, new Date(0).toISOString(), 0));
      if (!(await unseenFileExists(key))) throw notFound();
      throw notValidated('pending');
    }
    const record = recordOfEntry(fileId, key, entry);
    await precheck(record);
    if (record.status !== 'passed') throw notValidated(record.status);
    return record;
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

  /** The file's record as the validator reads it before anything else: one GET of its index entry. */
  async function readFileState(key: string): Promise<FileState> {
    const { segment, fileId } = fileOfKey(key);
    const read = await fileIndex.readIndexEntry({ segment }, fileId);
    if (!read) return { kind: 'unseen' };
    if (isTombstone(read.entry)) return { kind: 'deleted' };
    return { kind: 'recorded', entry: read.entry, eTag: read.eTag };
  }

  /**
   * Lists a key's versions, the once per file the validator does (when it
   * first sees the key): the oldest is the file, unless a delete marker is
   * under the key, which only DELETE /files (or the lifecycle, expiring a
   * failed file) puts there. Pages through every version, since the oldest
   * is listed last; a key no listing of {@link MAX_VERSION_PAGES} pages ends
   * is an error (the validator would have had to be down through a flood).
   */
  async function listKeyOnce(key: string): Promise<KeyListing> {
    const newestFirst: { versionId: string; eTag: string }[] = [];
    let deleted = false;
    let markers = {};
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const listed = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, ...markers }),
      );
      if ((listed.DeleteMarkers ?? []).some((marker) => marker.Key === key)) deleted = true;
      // Keys are listed in order and every other key under this prefix is longer, so it comes
      // after all of this key's versions: stop there.
      const others = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].some(
        (entry) => entry.Key !== key,
      );
      for (const entry of listed.Versions ?? []) {
        if (entry.Key !== key || !entry.VersionId) continue;
        newestFirst.push({ versionId: entry.VersionId, eTag: unquotedETag(entry.ETag) });
      }
      if (others || !listed.IsTruncated) {
        const versions = newestFirst.reverse();
        const [first, ...later] = versions;
        if (deleted || !first) return { versions, deleted, others: versions.map((entry) => entry.versionId) };
        return { versions, first, deleted, others: later.map((entry) => entry.versionId) };
      }
      markers = { KeyMarker: listed.NextKeyMarker, VersionIdMarker: listed.NextVersionIdMarker };
    }
    throw new Error(`${key} holds more versions than ${MAX_VERSION_PAGES} pages of a listing`);
  }

  /**
   * The key's current version, by HEAD (which names it): how an event that
   * names no version (Ceph RGW's for a form POST) finds a version posted over
   * the file. `undefined` when a delete marker or nothing is current.
   */
  async function currentVersion(key: string): Promise<{ versionId: string; eTag: string } | undefined> {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.VersionId ? { versionId: head.VersionId, eTag: unquotedETag(head.ETag) } : undefined;
    } catch (error) {
      if (classifyS3Error(error) === 'missing') return undefined;
      throw error;
    }
  }

  /** The tags of one version. Throws the SDK's error as is (a missing version is a 404). */
  async function readVersionTags(key: string, versionId: string): Promise<Tag[]> {
    const { TagSet } = await s3.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
    );
    return TagSet ?? [];
  }

  /** A version's tags and the verdict they carry, trusted only with the validator's signature for it. */
  async function readVersionVerdict(
    key: string,
    versionId: string,
    eTag: string,
  ): Promise<{ tags: Tag[]; verdict: RecordedVerdict }> {
    const tags = await readVersionTags(key, versionId);
    return { tags, verdict: verdictOfTags(key, versionId, eTag, tags) };
  }

  /**
   * Marks a file deleted in the index, create-once, when the validator finds
   * a delete marker under a key it had no record of: later events for the
   * key then cost no listing. Leaves whatever is there already.
   */
  async function recordDeleted(key: string): Promise<void> {
    const { segment, fileId } = fileOfKey(key);
    await fileIndex.createIndexEntry({ segment }, fileId, { deleted: true });
  }

  /** At most `limit` bytes of a body; leaving the loop early destroys the stream. */
  async function leadingBytes(body: unknown, limit: number): Promise<Uint8Array> {
    if (!body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      chunks.push(chunk.subarray(0, limit - length));
      length += Math.min(chunk.length, limit - length);
      if (length >= limit) break;
    }
    return Buffer.concat(chunks, length);
  }

  /**
   * Reads what the validator judges one version by, in one ranged GET
   * (`Range: bytes=0-<limit-1>`, conditioned on the event's ETag): its
   * leading bytes, and from the same answer its size, type, metadata and how
   * many tags it has. Its tag set is read only when that count says there is
   * more than the pending tag the upload pinned (or `tags` gives it already):
   * a version with one tag or none carries no verdict, and whatever single
   * tag it has is replaced by the verdict. An empty object (a range on it is
   * a 416) is described by HEAD instead. Throws the SDK's error as is (a
   * missing version is a 404, another ETag a 412).
   */
  async function readUpload(
    ref: ObjectRef & { versionId: string },
    limit: number,
    tags?: Tag[],
  ): Promise<UploadSnapshot> {
    let head: HeadObjectCommandOutput;
    let sample: Uint8Array;
    let size: number;
    try {
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: ref.key,
          VersionId: ref.versionId,
          Range: `bytes=0-${limit - 1}`,
          ...ifMatch(ref),
        }),
      );
      sample = await leadingBytes(got.Body, limit);
      const total = /\/(\d+)$/.exec(got.ContentRange ?? '')?.[1];
      size = total !== undefined ? Number(total) : (got.ContentLength ?? sample.length);
      head = got;
    } catch (error) {
      if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416)) throw error;
      head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: ref.key, VersionId: ref.versionId, ...ifMatch(ref) }),
      );
      sample = new Uint8Array(0);
      size = head.ContentLength ?? 0;
    }
    const tagCount = (head as { TagCount?: number }).TagCount;
    const tagSet =
      tags ??
      (tagCount === 0
        ? []
        : tagCount === 1
          ? [{ Key: TAG.status, Value: 'pending' }]
          : await readVersionTags(ref.key, ref.versionId));
    const metadata = head.Metadata ?? {};
    const eTag = unquotedETag(head.ETag ?? ref.eTag);
    return {
      versionId: ref.versionId,
      size,
      ...(head.ContentType !== undefined ? { contentType: head.ContentType } : {}),
      ...(metadata[META.declaredType] !== undefined ? { declaredType: metadata[META.declaredType] } : {}),
      ...(metadata[META.declaredSize] !== undefined ? { declaredSize: metadata[META.declaredSize] } : {}),
      ...(metadata[META.filename] !== undefined
        ? { filename: decodeMetaValue(metadata[META.filename]) }
        : {}),
      clientMetadata: clientMetadataOf(metadata),
      ...(head.LastModified ? { lastModified: head.LastModified } : {}),
      eTag,
      tags: tagSet,
      verdict: verdictOfTags(ref.key, ref.versionId, eTag, tagSet),
      sample,
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
    return leadingBytes(response.Body, limit);
  }

  /**
   * Tags a verdict on the judged version, signed by the validator for that
   * version and its ETag, keeping the object's other tags (see
   * {@link mergeValidationTags}). Returns the verdict as signed (what the
   * file's record keeps) and the keys of foreign tags that did not fit within
   * S3's limit of 10. Throws in a store that cannot sign.
   */
  async function recordVerdict(
    ref: ObjectRef,
    snapshot: Pick<UploadSnapshot, 'tags' | 'eTag' | 'versionId'>,
    verdict: Omit<VerdictToRecord, 'signature'>,
    scanResult?: GuardDutyScanResult,
  ): Promise<{ signed: EntryVerdict; dropped: string[] }> {
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
    return { signed: { ...recorded, signature }, dropped };
  }

  /**
   * Changes a file's record with `change` (given the record, or `undefined`
   * when the validator is the first to see the file, when it creates it,
   * create-once), by compare-and-swap over the record read. A change that
   * returns the record unchanged writes nothing. Returns `recorded`, or
   * `deleted` when the file was deleted before or meanwhile (a tombstone, or
   * the record gone), or `other` when the record names another version
   * (nothing is written then).
   */
  async function changeFileRecord(
    key: string,
    versionId: string,
    change: (entry: FileIndexEntry | undefined) => FileIndexEntry,
    known?: FileState,
  ): Promise<'recorded' | 'deleted' | 'other'> {
    const { segment, fileId } = fileOfKey(key);
    let state = known ?? (await readFileState(key));
    const mayCreate = state.kind === 'unseen';
    for (let attempt = 0; attempt < CONDITIONAL_WRITE_TRIES; attempt++) {
      if (state.kind === 'deleted' || (state.kind === 'unseen' && (!mayCreate || attempt > 0))) {
        return 'deleted';
      }
      if (state.kind === 'unseen') {
        if (await fileIndex.createIndexEntry({ segment }, fileId, change(undefined))) return 'recorded';
      } else {
        if (state.entry.versionId !== versionId) return 'other';
        const next = change(state.entry);
        if (JSON.stringify(next) === JSON.stringify(state.entry)) return 'recorded';
        if (state.eTag && (await fileIndex.replaceIndexEntry({ segment }, fileId, next, state.eTag))) {
          return 'recorded';
        }
      }
      const again = await readFileState(key);
      // Created by another run meanwhile: changed as that record.
      state = again.kind === 'unseen' && state.kind === 'unseen' ? { kind: 'deleted' } : again;
    }
    throw new Error(`the record of ${key} kept changing over ${CONDITIONAL_WRITE_TRIES} tries`);
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
   * Deletes an owner's file without listing its key: a delete marker first,
   * the tombstone that keeps the file deleted (a version a still-valid form
   * posts later is never the file: the validator deletes it on sight), then
   * the recorded first version, its share epoch and multipart record, and
   * its record last (so that the validator, seeing the key meanwhile, finds
   * the marker). A file the validator has not recorded yet gets a tombstone
   * record instead, create-once: the validator then deletes each of its
   * versions as their events come. Throws 404 when the owner has no such
   * file, which is also what a second delete answers.
   */
  async function deleteFile(owner: OwnerRef, fileId: string): Promise<void> {
    const key = objectKey(owner, fileId);
    const read = await fileIndex.readIndexEntry(owner, fileId);
    if (isTombstone(read?.entry)) throw notFound();
    let entry = read?.entry as FileIndexEntry | undefined;
    if (!entry) {
      if (!(await unseenFileExists(key))) throw notFound();
      if (!(await fileIndex.createIndexEntry(owner, fileId, { deleted: true }))) {
        // The validator recorded it meanwhile (or another delete came first).
        const again = await fileIndex.readIndexEntry(owner, fileId);
        entry = again && !isTombstone(again.entry) ? again.entry : undefined;
      }
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    if (entry) await deleteVersion(key, entry.versionId);
    await Promise.all(
      [shareEpochKey(owner, fileId), multipartRecordKey(owner, fileId)].map((stateKey) =>
        s3.send(new DeleteObjectCommand({ Bucket: stateBucket, Key: stateKey })),
      ),
    );
    if (entry) await fileIndex.removeIndexEntry(owner, fileId);
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
    ...createPendingMarkers({ s3, stateBucket }),
    listFileIds: fileIndex.listFileIds,
    deleteFile,
    /** The signing credentials, whose expiration bounds every presigned URL's life. */
    credentials: s3.config.credentials,
    readFileTags,
    readRecordedFile,
    readFileRecord,
    readPassedFileRecord,
    readShareEpoch,
    bumpShareEpoch,
    readFileState,
    listKeyOnce,
    currentVersion,
    readVersionVerdict,
    recordDeleted,
    readUpload,
    readLeadingBytes,
    recordVerdict,
    changeFileRecord,
    recordScanResult,
    deleteVersion,
    presignUpload,
    presignDownload,
  };
}
