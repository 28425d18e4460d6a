import type { OpenReservation, UsageRecord } from '../store/usage-store.js';

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

/** Open reservations one owner may hold: the usage object stays small (about 70 bytes each). */
export const MAX_OPEN_RESERVATIONS = 1000;

/** Releases remembered, so that a delete repeated or run twice at once releases once. */
export const MAX_RELEASES_KEPT = 500;
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
