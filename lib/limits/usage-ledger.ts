import { randomInt } from 'node:crypto';
import type { OpenReservation, UsageRecord } from '../store/usage-store.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The limits in force, from the configuration; an unset limit is no limit. */
export interface LimitSettings {
  /** `QUOTA_BYTES_PER_OWNER`: used plus reserved bytes may not exceed it. */
  quotaBytes?: number;
  /** `UPLOADS_PER_HOUR_PER_OWNER`: uploads issued within the window may not exceed it. */
  uploadsPerHour?: number;
  /** The rate's window in ms: an hour (shorter only where tests set it). */
  rateWindowMs: number;
  /**
   * How long a form's reservation outlives the form (ms): S3 checks a POST's
   * policy when the request starts, so bytes posted just before the expiry
   * may land a while after it.
   */
  landingGraceMs: number;
}

/** Whether any limit is set: only then do the upload routes reserve and count. */
export const limitsSet = (limits: LimitSettings): boolean =>
  limits.quotaBytes !== undefined || limits.uploadsPerHour !== undefined;

/** The window is counted in this many buckets: the count of a full window is exact to 1/60 of it. */
export const RATE_BUCKETS = 60;

/** Releases a shard remembers, so that a delete repeated or run twice at once releases once. */
export const MAX_RELEASES_KEPT = 100;
export const RELEASES_KEPT_MS = 24 * 60 * 60 * 1000;

const bucketWidth = (limits: LimitSettings) => limits.rateWindowMs / RATE_BUCKETS;

/**
 * When the uploads counted in a bucket leave the window: a whole window after
 * the bucket's end, so an upload is counted for at least a window, never less.
 */
const leavesWindowAt = (bucket: number, limits: LimitSettings) =>
  (bucket + 1) * bucketWidth(limits) + limits.rateWindowMs;

/** A copy of a record, to change without touching the one read. */
export const copyRecord = (record: UsageRecord): UsageRecord => ({
  usedBytes: record.usedBytes,
  open: { ...record.open },
  released: { ...record.released },
  issued: record.issued.map(([bucket, count]) => [bucket, count]),
});

/** Drops buckets that left the window and releases older than a day (or beyond the most kept). */
export function pruneRecord(record: UsageRecord, now: number, limits: LimitSettings): void {
  record.issued = record.issued.filter(([bucket]) => leavesWindowAt(bucket, limits) > now);
  const kept = Object.entries(record.released)
    .filter(([, at]) => now - at < RELEASES_KEPT_MS)
    .sort(([, a], [, b]) => b - a)
    .slice(0, MAX_RELEASES_KEPT);
  record.released = Object.fromEntries(kept);
}

/** Uploads issued within the window. */
export const uploadsInWindow = (record: UsageRecord): number =>
  record.issued.reduce((sum, [, count]) => sum + count, 0);

/** Bytes held by open reservations. */
export const reservedBytes = (record: UsageRecord): number =>
  Object.values(record.open).reduce((sum, reservation) => sum + reservation.bytes, 0);

/** Counts one upload issued now. */
export function countIssued(record: UsageRecord, now: number, limits: LimitSettings): void {
  const bucket = Math.floor(now / bucketWidth(limits));
  const last = record.issued.at(-1);
  if (last && last[0] === bucket) last[1] += 1;
  else record.issued.push([bucket, 1]);
}

/**
 * Milliseconds until the window holds one upload fewer: when the oldest
 * bucket leaves it. A client that waits that long finds room, unless another
 * request of the same owner takes it first.
 */
export function rateRetryAfterMs(record: UsageRecord, now: number, limits: LimitSettings): number {
  const oldest = record.issued[0];
  return oldest ? Math.max(0, leavesWindowAt(oldest[0], limits) - now) : 0;
}

/** Reservations past their lapse that nothing is known to have landed for: to be checked against S3. */
export function lapsedReservations(record: UsageRecord, now: number, limits: LimitSettings): string[] {
  return Object.entries(record.open)
    .filter(([, reservation]) => !reservation.landed && reservation.until + limits.landingGraceMs < now)
    .map(([fileId]) => fileId);
}

/** Milliseconds until the earliest open reservation may lapse (an hour when every one has landed). */
export function nextLapseMs(record: UsageRecord, now: number, limits: LimitSettings): number {
  const lapses = Object.values(record.open)
    .filter((reservation: OpenReservation) => !reservation.landed)
    .map((reservation) => reservation.until + limits.landingGraceMs - now);
  return lapses.length > 0 ? Math.max(0, Math.min(...lapses)) : 60 * 60 * 1000;
}

/**
 * How many objects (shards) each owner's usage is split over. Each holds a
 * fixed share of the quota and of the hourly count, so concurrent requests of
 * one owner write different objects instead of queueing on one; 64 lets 50
 * requests at once each have a shard of their own, and keeps a full read
 * (GET /usage, a refusal) bounded: one listing and at most 64 parallel GETs.
 */
export const USAGE_SHARDS = 64;

/** Every shard's number, in order. */
export const ALL_SHARDS: readonly number[] = Array.from({ length: USAGE_SHARDS }, (_, shard) => shard);

/** Open reservations (or parts of one) a shard may hold: each object stays a few kilobytes. */
export const MAX_OPEN_PER_SHARD = 32;

/** Open reservations one owner may hold over all its shards. */
export const MAX_OPEN_RESERVATIONS = USAGE_SHARDS * MAX_OPEN_PER_SHARD;

/**
 * A part of a reservation whose home shard holds no entry yet is one being
 * gathered right now, for this long at most (a request's life); older, its
 * gatherer died and the part waits for its lapse like any reservation.
 */
export const GATHER_MS = 30_000;

/** Shard `shard`'s share of `total`: the floor of an even split, the remainder spread over the first shards. */
export const shareOf = (total: number, shard: number): number =>
  Math.floor(total / USAGE_SHARDS) + (shard < total % USAGE_SHARDS ? 1 : 0);

const FILE_ID_TAIL = 2;
const TAIL_VALUES = CROCKFORD.length ** FILE_ID_TAIL;

/** The home shard of a file: its id's last two digits, modulo the shard count (any id, old ones too). */
export function shardOf(fileId: string): number {
  const value = [...fileId.slice(-FILE_ID_TAIL)].reduce(
    (sum, digit) => sum * CROCKFORD.length + Math.max(0, CROCKFORD.indexOf(digit)),
    0,
  );
  return value % USAGE_SHARDS;
}

/**
 * A file id whose home is `shard`: `fileId` (a fresh ULID) with its last two
 * random digits redrawn among the 16 values that name that shard, so 74 of
 * its 80 random bits stay.
 */
export function fileIdOnShard(fileId: string, shard: number): string {
  const value = randomInt(TAIL_VALUES / USAGE_SHARDS) * USAGE_SHARDS + shard;
  const tail = [Math.floor(value / CROCKFORD.length), value % CROCKFORD.length].map(
    (digit) => CROCKFORD[digit],
  );
  return `${fileId.slice(0, -FILE_ID_TAIL)}${tail.join('')}`;
}

/** Bytes shard `shard` may still reserve: its share of the quota less what it holds (unbounded without a quota). */
export function byteRoom(record: UsageRecord, shard: number, limits: LimitSettings): number {
  if (limits.quotaBytes === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(0, shareOf(limits.quotaBytes, shard) - record.usedBytes - reservedBytes(record));
}

/** Uploads shard `shard` may still count this window (unbounded without a rate). */
export function countRoom(record: UsageRecord, shard: number, limits: LimitSettings): number {
  if (limits.uploadsPerHour === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(0, shareOf(limits.uploadsPerHour, shard) - uploadsInWindow(record));
}

/** Whether a shard may take one more open entry. */
export const openRoom = (record: UsageRecord): boolean =>
  Object.keys(record.open).length < MAX_OPEN_PER_SHARD;
