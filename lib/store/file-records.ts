import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Owner } from '../core/owner.js';
import { type FileIndex, type FileIndexEntry, isTombstone } from './file-index.js';
import { clientMetadataOf, decodeMetaValue, META } from './object-encoding.js';
import { multipartRecordKey, objectKey, shareEpochKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';
import { FileNotFound, FileNotPassed } from './store-errors.js';
import type { FileRecord, FileTags, VerdictTrust } from './verdict-trust.js';

type OwnerRef = Pick<Owner, 'segment'>;

/**
 * Runs an S3 read of a file record, turning the races a caller can lose into
 * the store's refusals: the object gone is FileNotFound, replaced or refused
 * by the read gate (its verdict changed under us) is FileNotPassed. Anything
 * else is rethrown as a fault.
 */
async function asRefusal<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    const kind = classifyS3Error(error);
    if (kind === 'missing') throw new FileNotFound();
    if (kind === 'replaced' || kind === 'denied') throw new FileNotPassed('pending');
    throw error;
  }
}

export interface FileRecordsSettings {
  s3: S3Client;
  /** The uploads bucket, versioned. */
  bucket: string;
  /** The state bucket: a deleted file's share epoch and multipart record go with it. */
  stateBucket: string;
  fileIndex: FileIndex;
  trust: VerdictTrust;
  /** Deletes one version of a key (one already gone is fine). */
  deleteVersion: (key: string, versionId: string) => Promise<void>;
}

/**
 * An owner's files as the API reads and deletes them: each from its record in
 * the file index (one GET), whatever the number of times its form was posted.
 */
export function createFileRecords({
  s3,
  bucket,
  stateBucket,
  fileIndex,
  trust,
  deleteVersion,
}: FileRecordsSettings) {
  const { tagsOfEntry, recordOfEntry, unseenTags } = trust;

  /** The file's record, or `undefined` when the index holds none. Throws FileNotFound for a deleted file's tombstone. */
  async function readEntry(owner: OwnerRef, fileId: string): Promise<FileIndexEntry | undefined> {
    const read = await fileIndex.readIndexEntry(owner, fileId);
    if (isTombstone(read?.entry)) throw new FileNotFound();
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
   * from none. Throws FileNotFound when no such file exists under this owner's
   * segment, which is also what another owner's id looks like.
   */
  async function readFileTags(owner: OwnerRef, fileId: string): Promise<FileTags> {
    const key = objectKey(owner, fileId);
    const entry = await readEntry(owner, fileId);
    if (entry) return tagsOfEntry(key, entry);
    if (!(await unseenFileExists(key))) throw new FileNotFound();
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
   * policy lets read unvalidated objects can call it (getFile). Throws FileNotFound
   * for an unknown, deleted or another owner's file.
   */
  async function readFileRecord(owner: OwnerRef, fileId: string): Promise<FileRecord> {
    const key = objectKey(owner, fileId);
    const entry = await readEntry(owner, fileId);
    if (entry) return recordOfEntry(fileId, key, entry);
    const head = await asRefusal(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
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
   * is looked at. Throws FileNotFound for an unknown, deleted or another owner's file,
   * FileNotPassed unless it passed (a file the validator has not seen
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
      if (!(await unseenFileExists(key))) throw new FileNotFound();
      throw new FileNotPassed('pending');
    }
    const record = recordOfEntry(fileId, key, entry);
    await precheck(record);
    if (record.status !== 'passed') throw new FileNotPassed(record.status);
    return record;
  }

  /**
   * Deletes an owner's file without listing its key: a delete marker first,
   * the tombstone that keeps the file deleted (a version a still-valid form
   * posts later is never the file: the validator deletes it on sight), then
   * the recorded first version, its share epoch and multipart record, and
   * its record last (so that the validator, seeing the key meanwhile, finds
   * the marker). A file the validator has not recorded yet gets a tombstone
   * record instead, create-once: the validator then deletes each of its
   * versions as their events come. Throws FileNotFound when the owner has no such
   * file, which is also what a second delete answers.
   */
  async function deleteFile(owner: OwnerRef, fileId: string): Promise<void> {
    const key = objectKey(owner, fileId);
    const read = await fileIndex.readIndexEntry(owner, fileId);
    if (isTombstone(read?.entry)) throw new FileNotFound();
    let entry = read?.entry as FileIndexEntry | undefined;
    if (!entry) {
      if (!(await unseenFileExists(key))) throw new FileNotFound();
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

  return {
    listFileIds: fileIndex.listFileIds,
    readFileTags,
    readRecordedFile,
    readFileRecord,
    readPassedFileRecord,
    deleteFile,
  };
}
