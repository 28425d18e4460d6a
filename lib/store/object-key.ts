import { ulid } from 'ulid';
import type { Owner } from '../core/owner.js';
import * as z from '../core/zod.js';

/** Every upload lives under this prefix; the validator, the trigger and the bucket policy key on it. */
export const UPLOADS_PREFIX = 'uploads/';

/**
 * Where share epochs live: an object per file beside the uploads, never a tag
 * of the upload, so revoking writes nothing on the upload and re-posting the
 * upload form cannot reset an epoch.
 */
export const SHARE_EPOCHS_PREFIX = 'share-epochs/';

/**
 * Where the terms of each multipart upload live (its upload id, declared size
 * and part size), an object per upload, written once when the server starts it.
 */
export const MULTIPART_UPLOADS_PREFIX = 'multipart-uploads/';

/**
 * Where the list of each owner's files lives: an object per file, written by
 * the validator when it first sees the file, keyed so that S3's ascending
 * listing yields the newest first ({@link fileIndexKey}).
 */
export const FILE_INDEX_PREFIX = 'file-index/';

/**
 * Where each owner's usage lives (the bytes its files hold and reserve, and
 * how many uploads it was issued lately): a fixed number of small objects
 * per owner (its shards), each changed only by compare-and-swap writes.
 */
export const USAGE_PREFIX = 'usage/';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A file id mapped so that ascending order is newest first: each Crockford
 * digit replaced by its complement (0 ↔ Z). A ULID starts with its time, so
 * later ids sort earlier. Its own inverse.
 */
export function newestFirstId(fileId: string): string {
  return [...fileId].map((digit) => CROCKFORD[CROCKFORD.length - 1 - CROCKFORD.indexOf(digit)]).join('');
}

const FILE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const KEY_PATTERN = /^uploads\/([0-9a-f]{32})\/([0-9A-HJKMNP-TV-Z]{26})$/;

/** A file id as it appears in a path: a ULID (Crockford base32, 26 characters). */
export const fileIdSchema = z.string().check(z.regex(FILE_ID_PATTERN, 'must be a file id'));

/**
 * A new server-chosen file id: a ULID, sortable by creation time, whose 80
 * random bits come from the platform's CSPRNG (ulid's default source), so ids
 * cannot be guessed.
 */
export const newFileId = (): string => ulid();

/** The object key for an owner's file: `uploads/<owner-segment>/<fileId>`. */
export function objectKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${UPLOADS_PREFIX}${owner.segment}/${fileId}`;
}

/** The key of a file's share epoch: `share-epochs/<owner-segment>/<fileId>`. */
export function shareEpochKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${SHARE_EPOCHS_PREFIX}${owner.segment}/${fileId}`;
}

/** The key of a multipart upload's record: `multipart-uploads/<owner-segment>/<fileId>`. */
export function multipartRecordKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${MULTIPART_UPLOADS_PREFIX}${owner.segment}/${fileId}`;
}

/** The prefix of an owner's usage: its shards and its gathering claim. */
export function usagePrefix(owner: Pick<Owner, 'segment'>): string {
  return `${USAGE_PREFIX}${owner.segment}/`;
}

/** The key of one shard of an owner's usage: `usage/<owner-segment>/<shard>`. */
export function usageKey(owner: Pick<Owner, 'segment'>, shard: number): string {
  return `${usagePrefix(owner)}${shard}`;
}

/** The shard a key under the owner's usage prefix holds; `undefined` for anything else there. */
export function shardOfUsageKey(owner: Pick<Owner, 'segment'>, key: string): number | undefined {
  const prefix = usagePrefix(owner);
  if (!key.startsWith(prefix)) return undefined;
  const name = key.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,5})$/.test(name) ? Number(name) : undefined;
}

/** The key of an owner's gathering claim, beside its usage shards: `usage/<owner-segment>/gathering`. */
export function gatheringClaimKey(owner: Pick<Owner, 'segment'>): string {
  return `${usagePrefix(owner)}gathering`;
}

/** The prefix of an owner's entries in the file index. */
export function fileIndexPrefix(owner: Pick<Owner, 'segment'>): string {
  return `${FILE_INDEX_PREFIX}${owner.segment}/`;
}

/** The key of a file's entry in its owner's file index: `file-index/<owner-segment>/<newest-first id>`. */
export function fileIndexKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${fileIndexPrefix(owner)}${newestFirstId(fileId)}`;
}

/**
 * Where a multipart upload's closing is claimed, create-once, by the first of
 * a completion or an abort: `multipart-closing/<owner-segment>/<fileId>`.
 */
export const MULTIPART_CLOSING_PREFIX = 'multipart-closing/';

/** The key of a multipart upload's closing claim. */
export function multipartClosingKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${MULTIPART_CLOSING_PREFIX}${owner.segment}/${fileId}`;
}

/** Splits a key made by {@link objectKey}; `undefined` for any other key. */
export function parseObjectKey(key: string): { segment: string; fileId: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { segment: match[1], fileId: match[2] } : undefined;
}
