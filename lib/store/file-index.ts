import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { ClientMetadata } from '../core/client-metadata.js';
import type { Owner } from '../core/owner.js';
import { fileIndexKey, fileIndexPrefix, newestFirstId } from './object-key.js';
import { readStateObject } from './state-object.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** What the file index keeps of a file: what its upload pinned, and when and how large it landed. */
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
}

const entrySchema = z.object({
  filename: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  uploadedAt: z.string(),
  clientMetadata: z.record(z.string(), z.json()).nullable(),
});

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
}

/**
 * Each owner's files, newest first, without a database: an object per file
 * in the state bucket, `file-index/<owner-segment>/<newest-first id>`, whose
 * body is the file's {@link FileIndexEntry}. S3 lists keys in ascending order
 * only; the newest-first id makes that order newest first, so a page is one
 * listing. The validator writes an entry when it first sees a file; DELETE
 * /files removes it. Status is not kept here: it is read from the signed tags.
 */
export function createFileIndex({ s3, stateBucket }: FileIndexSettings) {
  /** Records a file in its owner's index (written again, identically, by a redelivered event). */
  async function indexFile(owner: OwnerRef, fileId: string, entry: FileIndexEntry): Promise<void> {
    await s3.send(
      new PutObjectCommand({
        Bucket: stateBucket,
        Key: fileIndexKey(owner, fileId),
        Body: JSON.stringify(entry),
        ContentType: 'application/json',
      }),
    );
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

  /** A file's index entry; `undefined` when the index holds none (or none readable). */
  async function readIndexEntry(owner: OwnerRef, fileId: string): Promise<FileIndexEntry | undefined> {
    const object = await readStateObject(s3, stateBucket, fileIndexKey(owner, fileId));
    if (!object) return undefined;
    try {
      const parsed = entrySchema.safeParse(JSON.parse(object.text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes a file from its owner's index (nothing to remove is fine). */
  async function removeIndexEntry(owner: OwnerRef, fileId: string): Promise<void> {
    await s3.send(new DeleteObjectCommand({ Bucket: stateBucket, Key: fileIndexKey(owner, fileId) }));
  }

  return { indexFile, listFileIds, readIndexEntry, removeIndexEntry };
}
