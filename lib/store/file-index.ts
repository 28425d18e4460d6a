import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ClientMetadata } from '../core/client-metadata.js';
import { GUARDDUTY_SCAN_RESULTS, type GuardDutyScanResult } from '../core/file-checks.js';
import type { Owner } from '../core/owner.js';
import * as z from '../core/zod.js';
import type { ConditionalWriter } from './conditional-write.js';
import { fileIndexKey, fileIndexPrefix, newestFirstId } from './object-key.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** The validator's verdict on a file's first version, as its record keeps it: the tags' own, signature included. */
export interface EntryVerdict {
  status: 'passed' | 'failed';
  reason?: string;
  detectedType?: string;
  /** The validator's signature over the bucket, key, version, ETag and this verdict (as on the version's tags). */
  signature: string;
}

/**
 * What the file index keeps of a file: its record. Written create-once by the
 * validator when it first sees the file (its first version, what the upload
 * pinned, and the verdict), changed afterwards only by compare-and-swap. A
 * read needs nothing else of S3 to describe the file, however many times its
 * form was posted again.
 */
export interface FileIndexEntry {
  filename: string;
  /** The declared content type. */
  contentType: string;
  /** The size of the bytes that landed. */
  size: number;
  /**
   * When the file landed: its Last-Modified when the validator first saw it,
   * before any tagging (Ceph RGW moves Last-Modified when a version is tagged).
   */
  uploadedAt: string;
  clientMetadata: ClientMetadata | null;
  /** The key's first version: the only bytes the file ever names. */
  versionId: string;
  /** That version's ETag, unquoted. */
  eTag: string;
  /** The validator's signed verdict on that version; absent until it lands. */
  verdict?: EntryVerdict;
  /** GuardDuty's result on that version, as the validator took it from GuardDuty's event or tag. */
  malware?: GuardDutyScanResult;
  /**
   * The sequencer of the event whose run judged the file: a later event with
   * it is that event redelivered (its webhook goes again), any other one is
   * about a version posted over the file.
   */
  judgedBy?: string;
}

/** A file deleted while its upload form could still be posted: every version under its key is deleted on sight. */
export interface FileTombstone {
  deleted: true;
}

export type IndexEntry = FileIndexEntry | FileTombstone;

/** An index entry as read, with the ETag a compare-and-swap write over it names. */
export type ReadEntry = { entry: IndexEntry; eTag: string | undefined };

export const isTombstone = (entry: IndexEntry | undefined): entry is FileTombstone =>
  entry !== undefined && 'deleted' in entry;

const verdictSchema = z.object({
  status: z.enum(['passed', 'failed']),
  reason: z.optional(z.string()),
  detectedType: z.optional(z.string()),
  signature: z.string(),
});

const entrySchema = z.object({
  filename: z.string(),
  contentType: z.string(),
  size: z.number().check(z.int(), z.nonnegative()),
  uploadedAt: z.string(),
  clientMetadata: z.nullable(z.record(z.string(), z.json())),
  versionId: z.string().check(z.minLength(1)),
  eTag: z.string(),
  verdict: z.optional(verdictSchema),
  malware: z.optional(z.enum(GUARDDUTY_SCAN_RESULTS)),
  judgedBy: z.optional(z.string()),
});

const tombstoneSchema = z.object({ deleted: z.literal(true) });

/**
 * Tags a tombstone carries, so that the state bucket's lifecycle can expire
 * it once no upload form of its file can be posted any more.
 */
export const TOMBSTONE_TAGGING = 'file-record=tombstone';

/** One page of an owner's file ids, newest first. */
export interface FileIdPage {
  fileIds: string[];
  /** Whether the index holds more after the last id. */
  truncated: boolean;
}

export interface FileIndexSettings {
  s3: S3Client;
  /** The state bucket, where the index lives beside share epochs and multipart records. */
  stateBucket: string;
  /** Every write of an entry goes through it: create-once, or over the entry read. */
  writer: ConditionalWriter;
}

function parseEntry(text: string): IndexEntry | undefined {
  try {
    const json: unknown = JSON.parse(text);
    const tombstone = tombstoneSchema.safeParse(json);
    if (tombstone.success) return { deleted: true };
    const parsed = entrySchema.safeParse(json);
    return parsed.success ? (parsed.data as FileIndexEntry) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each owner's files, newest first, without a database: an object per file
 * in the state bucket, `file-index/<owner-segment>/<newest-first id>`, whose
 * body is the file's record ({@link FileIndexEntry}). S3 lists keys in
 * ascending order only; the newest-first id makes that order newest first, so
 * a page is one listing. The validator writes an entry when it first sees a
 * file; DELETE /files removes it.
 */
export function createFileIndex({ s3, stateBucket, writer }: FileIndexSettings) {
  /**
   * Writes a file's entry only if the index holds none for it (`If-None-Match: *`):
   * `true` when this write created it, `false` when another entry (a
   * tombstone, or another run's record) was there first. A tombstone is tagged
   * for the state bucket's lifecycle. Throws any other S3 error.
   */
  async function createIndexEntry(owner: OwnerRef, fileId: string, entry: IndexEntry): Promise<boolean> {
    // Lost (412): an entry is there. Collided (409): two creations at once; the other one is what the caller reads.
    const outcome = await writer.writeIfUnchanged({
      key: fileIndexKey(owner, fileId),
      body: JSON.stringify(entry),
      contentType: 'application/json',
      over: 'absent',
      ...(isTombstone(entry) ? { tagging: TOMBSTONE_TAGGING } : {}),
    });
    return outcome === 'written';
  }

  /**
   * Replaces a file's entry only if it is still the one read with `eTag`
   * (`If-Match`): `false` when it changed or went meanwhile. Throws any other S3 error.
   */
  async function replaceIndexEntry(
    owner: OwnerRef,
    fileId: string,
    entry: FileIndexEntry,
    eTag: string,
  ): Promise<boolean> {
    const outcome = await writer.writeIfUnchanged({
      key: fileIndexKey(owner, fileId),
      body: JSON.stringify(entry),
      contentType: 'application/json',
      over: { eTag },
    });
    return outcome === 'written';
  }

  /**
   * Up to `max` of an owner's file ids, newest first, after the file `after`
   * names (a newest-first id, as a cursor keeps it), in one ListObjectsV2.
   */
  async function listFileIds(owner: OwnerRef, options: { after?: string; max: number }): Promise<FileIdPage> {
    const prefix = fileIndexPrefix(owner);
    const listed = await s3.send(
      new ListObjectsV2Command({
        Bucket: stateBucket,
        Prefix: prefix,
        MaxKeys: options.max,
        ...(options.after ? { StartAfter: `${prefix}${options.after}` } : {}),
      }),
    );
    const fileIds = (listed.Contents ?? [])
      .map((object) => object.Key?.slice(prefix.length) ?? '')
      .filter((id) => id.length > 0)
      .map(newestFirstId);
    return { fileIds, truncated: listed.IsTruncated === true };
  }

  /** A file's index entry and its ETag, in one GET; `undefined` when the index holds none (or none readable). */
  async function readIndexEntry(owner: OwnerRef, fileId: string): Promise<ReadEntry | undefined> {
    const object = await writer.read(fileIndexKey(owner, fileId));
    if (!object) return undefined;
    const entry = parseEntry(object.text);
    return entry ? { entry, eTag: object.eTag } : undefined;
  }

  /** Removes a file from its owner's index (nothing to remove is fine). */
  async function removeIndexEntry(owner: OwnerRef, fileId: string): Promise<void> {
    await s3.send(new DeleteObjectCommand({ Bucket: stateBucket, Key: fileIndexKey(owner, fileId) }));
  }

  return { createIndexEntry, replaceIndexEntry, listFileIds, readIndexEntry, removeIndexEntry };
}

export type FileIndex = ReturnType<typeof createFileIndex>;
