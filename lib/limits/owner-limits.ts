import type { Clock } from '../core/clock.js';
import { ApiError, quotaExceeded, rateLimited } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import type { FileStore } from '../store/file-store.js';
import { newFileId } from '../store/object-key.js';
import type { UsageRecord } from '../store/usage-store.js';
import {
  copyRecord,
  countIssued,
  type LimitSettings,
  lapsedReservations,
  MAX_OPEN_RESERVATIONS,
  nextLapseMs,
  pruneRecord,
  rateRetryAfterMs,
  reservedBytes,
  uploadsInWindow,
} from './usage-ledger.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** What the limits need: the store's usage object, and the limits in force. */
export interface LimitsDependencies {
  store: Pick<FileStore, 'changeUsage' | 'uploadLanded'>;
  limits: LimitSettings;
  /**
   * When the request must have answered (ms since the epoch): a change that
   * keeps losing to others gives up with 429 before it, never times out.
   */
  giveUpAt?: number;
  /** What reservations lapse, the rate's window moves and releases are dated by. */
  clock: Clock;
}

/** The 200 body of GET /usage. */
export interface UsageView {
  usedBytes: number;
  reservedBytes: number;
  /** `null` when no quota is set. */
  quotaBytes: number | null;
  uploadsThisHour: number;
  /** `null` when no rate is set. */
  uploadsPerHour: number | null;
}

/**
 * The record tidied at `now`: buckets out of the window and old releases
 * dropped, and every reservation past its lapse released if nothing landed
 * under its key (S3 is asked, once per reservation and call), else marked
 * landed, to wait for its verdict. This is how an expired, unused form gives
 * its bytes back: at the next change or read of the owner's usage, with no
 * scheduled job.
 */
async function tidied(
  { store, limits }: LimitsDependencies,
  owner: OwnerRef,
  stored: UsageRecord,
  now: number,
  landedCache: Map<string, boolean>,
): Promise<UsageRecord> {
  const record = copyRecord(stored);
  pruneRecord(record, now, limits);
  for (const fileId of lapsedReservations(record, now, limits)) {
    let landed = landedCache.get(fileId);
    if (landed === undefined) {
      landed = await store.uploadLanded(owner, fileId);
      landedCache.set(fileId, landed);
    }
    const reservation = record.open[fileId];
    if (!reservation) continue;
    if (landed) record.open[fileId] = { ...reservation, landed: true };
    else delete record.open[fileId];
  }
  return record;
}

/** Why `count` uploads of `bytes` in all may not be issued now, or `undefined` when they may. */
function refusal(
  record: UsageRecord,
  { count, bytes }: { count: number; bytes: number },
  now: number,
  limits: LimitSettings,
): ApiError | undefined {
  if (limits.uploadsPerHour !== undefined && uploadsInWindow(record) + count > limits.uploadsPerHour) {
    return rateLimited(
      `at most ${limits.uploadsPerHour} uploads per hour: retry later`,
      rateRetryAfterMs(record, now, limits) / 1000,
    );
  }
  if (Object.keys(record.open).length + count > MAX_OPEN_RESERVATIONS) {
    return rateLimited(
      `at most ${MAX_OPEN_RESERVATIONS} uploads may be open at once: finish or abort some first`,
      nextLapseMs(record, now, limits) / 1000,
    );
  }
  if (limits.quotaBytes !== undefined) {
    const committed = record.usedBytes + reservedBytes(record);
    if (committed + bytes > limits.quotaBytes) {
      return quotaExceeded(
        `${bytes} bytes more would exceed the quota of ${limits.quotaBytes} bytes (${committed} used or reserved)`,
      );
    }
  }
  return undefined;
}

/**
 * Applies `change` to the owner's usage as tidied now ({@link tidied}), by
 * compare-and-swap: `change` edits the record in place and returns a result;
 * the record is written back when it differs from what was read. S3 is asked
 * whether a lapsed reservation landed once per call, however often it retries.
 */
function changeTidied<T>(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  change: (record: UsageRecord, now: number) => Promise<T> | T,
): Promise<T> {
  const landedCache = new Map<string, boolean>();
  return dependencies.store.changeUsage(
    owner,
    async (stored) => {
      const now = dependencies.clock().getTime();
      const record = await tidied(dependencies, owner, stored, now, landedCache);
      return { record, result: await change(record, now) };
    },
    dependencies.giveUpAt,
  );
}

/** Gives back a file's open reservation, remembering the release; whether it had one. */
function releaseOpen(record: UsageRecord, fileId: string, now: number): boolean {
  if (!record.open[fileId]) return false;
  delete record.open[fileId];
  record.released[fileId] = now;
  return true;
}

/**
 * Reserves the declared bytes of new uploads of the owner's before they are
 * signed, all or none, with one compare-and-swap write of the owner's usage:
 * at most the quota is ever used plus reserved, whatever runs at once. Counts
 * each upload in the rate's window. Chooses the uploads' fileIds and returns
 * them in order. Throws 429 `rate_limited` (with `Retry-After`) when the
 * uploads would go over the rate or over {@link MAX_OPEN_RESERVATIONS}, 403
 * `quota_exceeded` when their total would go over the quota; then nothing is
 * reserved, and what the read released (lapsed reservations) is written all
 * the same.
 */
export async function reserveUploads(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  uploads: readonly { bytes: number; until: Date }[],
): Promise<string[]> {
  const fileIds = uploads.map(() => newFileId());
  const total = { count: uploads.length, bytes: uploads.reduce((sum, upload) => sum + upload.bytes, 0) };
  const refused = await changeTidied(dependencies, owner, (record, now) => {
    const refused = refusal(record, total, now, dependencies.limits);
    if (refused) return refused;
    uploads.forEach((upload, index) => {
      record.open[fileIds[index] as string] = { bytes: upload.bytes, until: upload.until.getTime() };
      countIssued(record, now, dependencies.limits);
    });
    return undefined;
  });
  if (refused instanceof ApiError) throw refused;
  return fileIds;
}

/** {@link reserveUploads} for one upload: returns its fileId. */
export async function reserveUpload(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  upload: { bytes: number; until: Date },
): Promise<string> {
  const [fileId] = await reserveUploads(dependencies, owner, [upload]);
  return fileId as string;
}

/**
 * Settles a file's reservation on the verdict on its first version: passed,
 * its bytes become used; failed, they are given back. Idempotent: once the
 * reservation is settled (or was released by a delete or an abort, or never
 * made) nothing changes, so a redelivered event counts nothing twice.
 */
export async function settleVerdict(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
  status: 'passed' | 'failed',
): Promise<void> {
  await changeTidied(dependencies, owner, (record) => {
    const reservation = record.open[fileId];
    if (!reservation) return;
    delete record.open[fileId];
    if (status === 'passed') record.usedBytes += reservation.bytes;
  });
}

/**
 * Gives back an upload's reservation that will never land: an aborted
 * multipart upload, or one whose start failed. Idempotent.
 */
export async function releaseReservation(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
): Promise<void> {
  await changeTidied(dependencies, owner, (record, now) => {
    releaseOpen(record, fileId, now);
  });
}

/**
 * Gives back what a file being deleted holds, once: its reservation while it
 * has one (pending: the validator then finds nothing to settle), else its
 * bytes if its content passed (what {@link settleVerdict} counted). The file
 * is read first, afresh on every try: a file with nothing landed yet throws
 * 404 and keeps its reservation, because its still-valid form may land later
 * and the validator must find that reservation to count it. A file released
 * before (a delete repeated, or two at once) changes nothing; a file whose
 * content failed held nothing any more.
 */
export async function releaseDeletedFile(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
  readFile: () => Promise<{ checks: { content: 'pending' | 'passed' | 'failed' }; storedBytes: number }>,
): Promise<void> {
  await changeTidied(dependencies, owner, async (record, now) => {
    if (record.released[fileId] !== undefined) return;
    const file = await readFile();
    if (releaseOpen(record, fileId, now)) return;
    // Nothing used is left to give back (or the owner was never counted).
    if (record.usedBytes === 0 || file.checks.content !== 'passed') return;
    record.usedBytes = Math.max(0, record.usedBytes - file.storedBytes);
    record.released[fileId] = now;
  });
}

/** The owner's usage now (written back when lapsed reservations were released on the way). */
export function usageOf(dependencies: LimitsDependencies, owner: OwnerRef): Promise<UsageView> {
  const { limits } = dependencies;
  return changeTidied(dependencies, owner, (record) => ({
    usedBytes: record.usedBytes,
    reservedBytes: reservedBytes(record),
    quotaBytes: limits.quotaBytes ?? null,
    uploadsThisHour: uploadsInWindow(record),
    uploadsPerHour: limits.uploadsPerHour ?? null,
  }));
}
