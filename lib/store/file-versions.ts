import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectVersionsCommand,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
  type Tag,
} from '@aws-sdk/client-s3';
import type { ClientMetadata } from '../core/client-metadata.js';
import { GUARDDUTY_SCAN_TAG, type GuardDutyScanResult } from '../core/file-checks.js';
import type { VerdictSigner } from '../core/verdict-signature.js';
import { type EntryVerdict, type FileIndex, type FileIndexEntry, isTombstone } from './file-index.js';
import {
  clientMetadataOf,
  decodeMetaValue,
  META,
  mergeValidationTags,
  quotedETag,
  type RecordedVerdict,
  TAG,
  toTagValue,
  unquotedETag,
  type VerdictToRecord,
  withScanResult,
} from './object-encoding.js';
import { parseObjectKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';
import type { VerdictTrust } from './verdict-trust.js';

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

/** Pages of one key's versions the validator lists, the once per file it lists them, before it gives up. */
const MAX_VERSION_PAGES = 50;
/** Tries of a compare-and-swap write before giving up (each loses only to another writer's success). */
const CONDITIONAL_WRITE_TRIES = 20;

/** The file a record describes, in the key's own terms. */
const fileOfKey = (key: string) => parseObjectKey(key) as { segment: string; fileId: string };

export interface FileVersionsSettings {
  s3: S3Client;
  /** The uploads bucket, versioned. */
  bucket: string;
  fileIndex: FileIndex;
  trust: VerdictTrust;
  /** Signs verdicts: only the validator's store has one. */
  signVerdict?: VerdictSigner;
}

/**
 * A file's versions as the validator sees them: its record (which version is
 * the file, and its signed verdict), the one listing of its key, what a
 * version is judged by, and the verdict's tags and record written back.
 */
export function createFileVersions({ s3, bucket, fileIndex, trust, signVerdict }: FileVersionsSettings) {
  const version = (ref: ObjectRef) => (ref.versionId ? { VersionId: ref.versionId } : {});
  const ifMatch = (ref: ObjectRef) => (ref.eTag ? { IfMatch: quotedETag(ref.eTag) } : {});
  const { verdictOfTags } = trust;

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

  return {
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
  };
}
