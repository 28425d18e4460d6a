import { randomInt } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { quotaExceeded, rateLimited } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import { newFileId } from '../store/object-key.js';
import { emptyUsage, type StoredShard, type UsageRecord, type UsageStore } from '../store/usage-store.js';
import {
  isLeased,
  isMostlyStored,
  leaseShard,
  leaseShards,
  rememberMostlyStored,
  rememberWon,
} from './shard-choice.js';
import {
  ALL_SHARDS,
  byteRoom,
  copyRecord,
  countIssued,
  countRoom,
  fileIdOnShard,
  GATHER_MS,
  type LimitSettings,
  lapsedReservations,
  MAX_OPEN_RESERVATIONS,
  nextLapseMs,
  openRoom,
  pruneRecord,
  rateRetryAfterMs,
  reservedBytes,
  shardOf,
  shareOf,
  USAGE_SHARDS,
  uploadsInWindow,
} from './usage-ledger.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** The store's part the limits use: the shards of each owner's usage, and whether an upload landed. */
export type LimitsStore = Pick<
  UsageStore,
  | 'readUsage'
  | 'listUsageShards'
  | 'tryWriteUsage'
  | 'changeUsage'
  | 'claimGathering'
  | 'releaseGathering'
  | 'uploadLanded'
>;

/** What the limits need: the store's usage shards, and the limits in force. */
export interface LimitsDependencies {
  store: LimitsStore;
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
  landedCache: Map<string, Promise<boolean>>,
): Promise<UsageRecord> {
  const record = copyRecord(stored);
  pruneRecord(record, now, limits);
  for (const fileId of lapsedReservations(record, now, limits)) {
    // The promise is kept, so shards read at once ask S3 once about a reservation split over them.
    let asked = landedCache.get(fileId);
    if (asked === undefined) {
      asked = store.uploadLanded(owner, fileId);
      landedCache.set(fileId, asked);
    }
    const landed = await asked;
    const reservation = record.open[fileId];
    if (!reservation) continue;
    if (landed) record.open[fileId] = { ...reservation, landed: true };
    else delete record.open[fileId];
  }
  return record;
}

/**
 * Applies `change` to one shard of the owner's usage as tidied now
 * ({@link tidied}), by compare-and-swap: `change` edits the record in place
 * and returns a result; the record is written back when it differs from what
 * was read. S3 is asked whether a lapsed reservation landed once per call,
 * however often it retries.
 */
function changeTidied<T>(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  shard: number,
  change: (record: UsageRecord, now: number) => Promise<T> | T,
): Promise<T> {
  const landedCache = new Map<string, Promise<boolean>>();
  return dependencies.store.changeUsage(
    owner,
    shard,
    async (stored) => {
      const now = dependencies.clock().getTime();
      const record = await tidied(dependencies, owner, stored, now, landedCache);
      return { record, result: await change(record, now) };
    },
    dependencies.giveUpAt,
  );
}

/** Takes back the count of an upload just counted, whose reservation was then undone (all or nothing). */
function uncountIssued(record: UsageRecord): void {
  const last = record.issued.at(-1);
  if (!last) return;
  if (last[1] > 1) last[1] -= 1;
  else record.issued.pop();
}

/** Gives back a file's open reservation, remembering the release; whether it had one. */
function releaseOpen(record: UsageRecord, fileId: string, now: number): boolean {
  if (!record.open[fileId]) return false;
  delete record.open[fileId];
  record.released[fileId] = now;
  return true;
}

/** One shard as read and tidied, with the ETag its write must name. */
interface ShardView {
  shard: number;
  record: UsageRecord;
  /** The record exactly as stored: a write is needed only when the tidied one differs. */
  stored: string;
  eTag?: string;
}

async function readTidied(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  shard: number,
  landedCache: Map<string, Promise<boolean>>,
): Promise<ShardView> {
  const { record, eTag }: StoredShard = await dependencies.store.readUsage(owner, shard);
  const now = dependencies.clock().getTime();
  return {
    shard,
    record: await tidied(dependencies, owner, record, now, landedCache),
    stored: JSON.stringify(record),
    ...(eTag ? { eTag } : {}),
  };
}

/** Full reads in flight in this process, by owner segment: concurrent requests of one owner share one. */
const fullReadsInFlight = new Map<string, { startedAt: number; read: Promise<ShardView[]> }>();

/** A shard that is not stored, as a read of it would give it: empty, no ETag (a write creates it). */
function unstoredView(shard: number): ShardView {
  const record = emptyUsage();
  return { shard, record, stored: JSON.stringify(record) };
}

/**
 * Every shard of the owner's usage, tidied: one listing of the owner's usage
 * prefix (one page of at most 65 keys, whatever the owner holds), then a GET
 * of each shard it names, at once (of all 64, without the listing, for an
 * owner seen to have most of them stored). A shard it does not name reads as empty,
 * as a GET of it would have just before: one created since is seen as it was
 * before that write, and a write over the empty view asks for nothing to be
 * there yet, so it loses, never overwrites. Requests of one owner in this
 * process that need a full read while one is on its way share it, if it
 * started after their own last write (`notBefore`, from `performance.now()`;
 * the views are never changed in place), so a burst's refusals cost one full
 * read, not one each.
 */
function readAllShards(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  landedCache: Map<string, Promise<boolean>>,
  notBefore = 0,
): Promise<ShardView[]> {
  const inFlight = fullReadsInFlight.get(owner.segment);
  // Only a read that started after the caller's own last write sees that write.
  if (inFlight && inFlight.startedAt >= notBefore) return inFlight.read;
  const startedAt = performance.now();
  const read = readStoredShards(dependencies, owner, landedCache).finally(() => {
    if (fullReadsInFlight.get(owner.segment)?.read === read) fullReadsInFlight.delete(owner.segment);
  });
  fullReadsInFlight.set(owner.segment, { startedAt, read });
  return read;
}

/**
 * From this many stored shards on, a full read of the owner skips the listing:
 * it would spare few GETs for a round trip more (a LIST is also priced as
 * about a dozen GETs). Shards are never removed, so an owner that reached it
 * stays there.
 */
export const LISTING_SPARES_TOO_FEW = 48;

/** Which shards to read: those a listing names, or every one for an owner that has most of them (or when the listing came back cut short). */
async function shardsToRead(dependencies: LimitsDependencies, owner: OwnerRef): Promise<readonly number[]> {
  if (isMostlyStored(owner.segment)) return ALL_SHARDS;
  const listed = await dependencies.store.listUsageShards(owner, USAGE_SHARDS);
  if (listed && listed.length < LISTING_SPARES_TOO_FEW) return listed;
  rememberMostlyStored(owner.segment);
  return listed ?? ALL_SHARDS;
}

/** The shards {@link shardsToRead} names, read at once; the others as not stored. */
async function readStoredShards(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  landedCache: Map<string, Promise<boolean>>,
): Promise<ShardView[]> {
  const stored = new Set(await shardsToRead(dependencies, owner));
  return Promise.all(
    Array.from({ length: USAGE_SHARDS }, (_, shard) =>
      stored.has(shard) ? readTidied(dependencies, owner, shard, landedCache) : unstoredView(shard),
    ),
  );
}

/** One reservation to write: the file it is for, its bytes on this shard, its lapse. */
interface Entry {
  fileId: string;
  bytes: number;
  until: number;
}

/** Writes `view` back with the entry added (counted as an issued upload when `home`); whether it won. */
function tryAdd(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  view: ShardView,
  entry: Entry,
  extra: { home: true; pieces?: Record<string, number> } | { pieceOf: number },
): Promise<boolean> {
  const now = dependencies.clock().getTime();
  const record = copyRecord(view.record);
  if ('home' in extra) {
    record.open[entry.fileId] = {
      bytes: entry.bytes,
      until: entry.until,
      ...(extra.pieces ? { pieces: extra.pieces } : {}),
    };
    countIssued(record, now, dependencies.limits);
  } else {
    record.open[entry.fileId] = { bytes: entry.bytes, until: entry.until, pieceOf: extra.pieceOf };
  }
  return dependencies.store.tryWriteUsage(owner, view.shard, record, view.eTag);
}

/** Whether `view` can hold a whole reservation of `bytes` as its home. */
const holdsWhole = (view: ShardView, bytes: number, limits: LimitSettings): boolean =>
  openRoom(view.record) &&
  countRoom(view.record, view.shard, limits) > 0 &&
  byteRoom(view.record, view.shard, limits) >= bytes;

/** Gives back parts taken for a reservation that was never issued: nothing remembers them. */
async function dropPieces(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
  shards: readonly number[],
): Promise<void> {
  await Promise.all(
    shards.map((shard) =>
      changeTidied(dependencies, owner, shard, (record) => {
        delete record.open[fileId];
      }),
    ),
  );
}

/** The shards in a random order (Fisher-Yates). */
function shuffled(views: readonly ShardView[]): ShardView[] {
  const order = [...views];
  for (let i = order.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j] as ShardView, order[i] as ShardView];
  }
  return order;
}

/**
 * Bytes held by parts of reservations still being gathered by other
 * requests: parts whose home shard holds no entry yet, taken within
 * {@link GATHER_MS}. Their gatherer may yet give them back, so they are not
 * counted as spent when deciding to refuse.
 */
function beingGathered(views: readonly ShardView[], now: number): number {
  let bytes = 0;
  for (const view of views) {
    for (const [fileId, entry] of Object.entries(view.record.open)) {
      if (entry.pieceOf === undefined || now - entry.pieceOf > GATHER_MS) continue;
      if (!views[shardOf(fileId)]?.record.open[fileId]) bytes += entry.bytes;
    }
  }
  return bytes;
}

/**
 * Takes `bytes` from several shards at once, from a full read: the home is
 * a shard with count room (and bytes room, if any has), the rest is taken
 * from the others in a random order, each part written by its own
 * compare-and-swap, the home last (it lists the parts, so a verdict, an
 * abort or a delete reaches them). The file id, or the shards to read again
 * when a write lost (what was taken is given back) or none could be planned.
 */
async function gather(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  views: readonly ShardView[],
  bytes: number,
  until: number,
): Promise<string | number[]> {
  const { limits } = dependencies;
  // In a random order, shards no other request of this process is writing first, so that
  // requests gathering at once mostly pick different shards.
  const mixed = shuffled(views);
  const order = [
    ...mixed.filter((view) => !isLeased(owner.segment, view.shard)),
    ...mixed.filter((view) => isLeased(owner.segment, view.shard)),
  ];
  const homes = order.filter(
    (view) => openRoom(view.record) && countRoom(view.record, view.shard, limits) > 0,
  );
  const home = homes.find((view) => byteRoom(view.record, view.shard, limits) > 0) ?? homes[0];
  if (!home) return views.map((view) => view.shard);
  const fileId = fileIdOnShard(newFileId(), home.shard);
  const homeBytes = Math.min(bytes, byteRoom(home.record, home.shard, limits));
  let wanted = bytes - homeBytes;
  const parts: [ShardView, number][] = [];
  for (const view of order) {
    if (wanted === 0) break;
    if (view === home || !openRoom(view.record)) continue;
    const part = Math.min(wanted, byteRoom(view.record, view.shard, limits));
    if (part > 0) {
      parts.push([view, part]);
      wanted -= part;
    }
  }
  if (wanted > 0) return views.map((view) => view.shard);
  const release = leaseShards(owner.segment, [home.shard, ...parts.map(([view]) => view.shard)]);
  try {
    return await writeGathered(dependencies, owner, { fileId, home, homeBytes, parts, until });
  } finally {
    release();
  }
}

/**
 * Writes a gather's parts, then its home: the file id, or, when a write lost
 * (the parts taken are given back), the shards it wrote, now changed since read.
 */
async function writeGathered(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  {
    fileId,
    home,
    homeBytes,
    parts,
    until,
  }: { fileId: string; home: ShardView; homeBytes: number; parts: [ShardView, number][]; until: number },
): Promise<string | number[]> {
  const takenAt = dependencies.clock().getTime();
  const won = await Promise.all(
    parts.map(([view, part]) =>
      tryAdd(dependencies, owner, view, { fileId, bytes: part, until }, { pieceOf: takenAt }),
    ),
  );
  const taken = parts.filter((_, i) => won[i]).map(([view]) => view.shard);
  const pieces = Object.fromEntries(parts.map(([view, part]) => [String(view.shard), part]));
  const homeWon =
    won.every(Boolean) &&
    (await tryAdd(
      dependencies,
      owner,
      home,
      { fileId, bytes: homeBytes, until },
      { home: true, ...(parts.length > 0 ? { pieces } : {}) },
    ));
  if (homeWon) return fileId;
  await dropPieces(dependencies, owner, fileId, taken);
  return [home.shard, ...parts.map(([view]) => view.shard)];
}

/** Why nothing can be reserved from a full read, as the 429 or 403 to answer; `undefined` when something may. */
function refusalOf(
  views: readonly ShardView[],
  bytes: number,
  now: number,
  limits: LimitSettings,
): Error | 'wait' | undefined {
  if (views.every((view) => countRoom(view.record, view.shard, limits) === 0)) {
    // The first shard whose oldest bucket leaves the window (a shard whose share is 0 never frees).
    const counting = views.filter((view) => view.record.issued.length > 0);
    const retryAfterMs = Math.min(
      limits.rateWindowMs,
      ...counting.map((view) => rateRetryAfterMs(view.record, now, limits)),
    );
    return rateLimited(`at most ${limits.uploadsPerHour} uploads per hour: retry later`, retryAfterMs / 1000);
  }
  const homes = views.filter(
    (view) => openRoom(view.record) && countRoom(view.record, view.shard, limits) > 0,
  );
  if (homes.length === 0) {
    const lapseMs = Math.min(...views.map((view) => nextLapseMs(view.record, now, limits)));
    return rateLimited(
      `at most ${MAX_OPEN_RESERVATIONS} uploads may be open at once: finish or abort some first`,
      lapseMs / 1000,
    );
  }
  if (limits.quotaBytes === undefined) return undefined;
  const room = views
    .filter((view) => openRoom(view.record))
    .reduce((sum, view) => sum + byteRoom(view.record, view.shard, limits), 0);
  if (room >= bytes) return undefined;
  if (room + beingGathered(views, now) >= bytes) return 'wait';
  const committed =
    limits.quotaBytes - views.reduce((sum, view) => sum + byteRoom(view.record, view.shard, limits), 0);
  return quotaExceeded(
    `${bytes} bytes more would exceed the quota of ${limits.quotaBytes} bytes (${committed} used or reserved)`,
  );
}

/** After a lost write, the shards written are read again, and every shard every this many tries. */
const FULL_READ_EVERY = 4;

/** `views` with the shards `shards` read again. */
async function readAgain(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  views: readonly ShardView[],
  shards: readonly number[],
  landedCache: Map<string, Promise<boolean>>,
): Promise<ShardView[]> {
  const again = new Set(shards);
  return Promise.all(
    views.map((view) =>
      again.has(view.shard) ? readTidied(dependencies, owner, view.shard, landedCache) : view,
    ),
  );
}

/**
 * A request that keeps losing its writes gives up (429) at its own deadline
 * (`giveUpAt`: in AWS 1.5 s before its 10 s timeout), or this long after it
 * started when it has none.
 */
const RESERVE_DEADLINE_MS = 25_000;
/** Single-shard tries before a full read. */
const QUICK_TRIES = 3;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Reserves one upload: first on one shard (the process's lease, see
 * shard-choice.ts), moving to another shard on a lost write rather than
 * waiting; when that shard lacks room, from a full read: a shard that holds
 * it whole, else parts gathered from several; refused only by what the full
 * read shows over all shards.
 */
async function reserveOne(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  bytes: number,
  until: number,
): Promise<string> {
  const { limits } = dependencies;
  const deadline = Math.min(
    Date.now() + RESERVE_DEADLINE_MS,
    dependencies.giveUpAt ?? Number.POSITIVE_INFINITY,
  );
  const landedCache = new Map<string, Promise<boolean>>();
  const avoid = new Set<number>();
  // A size beyond one shard's share is always gathered: straight to the full read.
  const large = limits.quotaBytes !== undefined && bytes > shareOf(limits.quotaBytes, 0);
  const quickTries = large ? 0 : QUICK_TRIES;
  for (let quick = 0; quick < quickTries; quick++) {
    const lease = leaseShard(owner.segment, avoid);
    if (!lease) break;
    try {
      const view = await readTidied(dependencies, owner, lease.shard, landedCache);
      if (!holdsWhole(view, bytes, limits)) {
        avoid.add(lease.shard);
        continue;
      }
      const fileId = fileIdOnShard(newFileId(), lease.shard);
      if (await tryAdd(dependencies, owner, view, { fileId, bytes, until }, { home: true })) {
        rememberWon(owner.segment, lease.shard);
        return fileId;
      }
      avoid.add(lease.shard);
    } finally {
      lease.release();
    }
  }
  let views: ShardView[] = [];
  // What to read before the next try: every shard, or only those written since the last read.
  let reread: number[] | 'all' = 'all';
  // When this request last wrote (it gave back parts, or lost a write): a shared read must be younger.
  let wroteAt = 0;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    let fullRead = reread === 'all' || attempt % FULL_READ_EVERY === 0;
    views = fullRead
      ? await readAllShards(dependencies, owner, landedCache, wroteAt)
      : await readAgain(dependencies, owner, views, reread as number[], landedCache);
    let refused = refusalOf(views, bytes, dependencies.clock().getTime(), limits);
    if (refused instanceof Error && !fullRead) {
      // Refused only on a full read.
      views = await readAllShards(dependencies, owner, landedCache, wroteAt);
      fullRead = true;
      refused = refusalOf(views, bytes, dependencies.clock().getTime(), limits);
    }
    if (refused instanceof Error) {
      await writeTidied(dependencies, owner, views);
      throw refused;
    }
    reread = 'all';
    if (refused === undefined) {
      const whole = views.filter((view) => holdsWhole(view, bytes, limits)).map((view) => view.shard);
      const lease = whole.length > 0 ? leaseShard(owner.segment, new Set(), whole) : undefined;
      if (lease) {
        try {
          const view = views[lease.shard] as ShardView;
          const fileId = fileIdOnShard(newFileId(), lease.shard);
          if (await tryAdd(dependencies, owner, view, { fileId, bytes, until }, { home: true })) {
            rememberWon(owner.segment, lease.shard);
            await writeTidied(dependencies, owner, views);
            return fileId;
          }
          reread = [lease.shard];
          wroteAt = performance.now();
        } finally {
          lease.release();
        }
      } else if (!large) {
        // Parts of a small size: gathers at once rarely meet.
        const gathered = await gather(dependencies, owner, views, bytes, until);
        if (typeof gathered === 'string') {
          await writeTidied(dependencies, owner, views);
          return gathered;
        }
        reread = gathered;
        wroteAt = performance.now();
      } else {
        // A size beyond a shard's share, one gather at a time per owner: such gathers at once
        // keep taking parts from each other.
        // Waiting a while at most, then reading again: the room may be spent by then (a 403 needs no claim).
        const claim = await claimGathering(
          dependencies,
          owner,
          Math.min(deadline, Date.now() + CLAIM_WAIT_MS),
        );
        if (claim === undefined) continue;
        try {
          // Read afresh now that no other gather runs: the decision is made on what is there.
          views = await readAllShards(dependencies, owner, landedCache, performance.now());
          const decision = refusalOf(views, bytes, dependencies.clock().getTime(), limits);
          if (decision instanceof Error) {
            await writeTidied(dependencies, owner, views);
            throw decision;
          }
          const gathered =
            decision === undefined ? await gather(dependencies, owner, views, bytes, until) : undefined;
          if (typeof gathered === 'string') {
            await writeTidied(dependencies, owner, views);
            return gathered;
          }
          if (gathered) reread = gathered;
          wroteAt = performance.now();
        } finally {
          await dependencies.store.releaseGathering(owner, claim).catch(() => undefined);
        }
      }
    }
    // Lost a write, or others' parts may come back: a short random pause, then read again.
    await sleep(Math.random() * Math.min(500, 20 * 2 ** attempt));
  }
  throw rateLimited('too many changes at once to this owner’s usage: try again', 1);
}

/** How long a request waits for the gathering claim before it reads all shards again. */
const CLAIM_WAIT_MS = 2_000;

/** How long a gathering claim holds before others may take it over: a gather takes a few round trips. */
const GATHERING_HOLD_MS = 5_000;

/**
 * Waits for the owner's gathering claim ({@link UsageStore.claimGathering}),
 * asking again after a jittered pause while another request holds it; its
 * token, or `undefined` once `deadline` (ms since the epoch) has passed.
 */
async function claimGathering(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  deadline: number,
): Promise<string | undefined> {
  while (Date.now() < deadline) {
    const claim = await dependencies.store.claimGathering(
      owner,
      dependencies.clock().getTime(),
      GATHERING_HOLD_MS,
    );
    if (claim !== undefined) return claim;
    await sleep(200 + Math.random() * 400);
  }
  return undefined;
}

/** Writes back shards whose tidying released or marked reservations, so the next read need not ask S3 again. */
async function writeTidied(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  views: readonly ShardView[],
): Promise<void> {
  const changed = views.filter((view) => view.eTag && JSON.stringify(view.record) !== view.stored);
  await Promise.all(
    changed.map((view) =>
      dependencies.store.tryWriteUsage(owner, view.shard, view.record, view.eTag).catch(() => false),
    ),
  );
}

/**
 * Reserves `uploads` for new uploads of the owner's before they are signed,
 * all or nothing, and returns the file ids the ledger chose for them, in
 * order (each id names the shard holding its reservation). Each shard of the
 * owner's usage holds a fixed share of the quota and of the hourly count and
 * never lets what it holds exceed it, so at most the quota is ever used plus
 * reserved, whatever runs at once. Counts each upload in the rate's window.
 * Throws 429 `rate_limited` (with `Retry-After`) over the rate or over
 * {@link MAX_OPEN_RESERVATIONS}, 403 `quota_exceeded` over the quota, both
 * decided from a read of every shard.
 */
export async function reserveUploads(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  uploads: readonly { bytes: number; until: Date }[],
): Promise<string[]> {
  const outcomes = await Promise.allSettled(
    uploads.map((upload) => reserveOne(dependencies, owner, upload.bytes, upload.until.getTime())),
  );
  const refused = outcomes.find((outcome) => outcome.status === 'rejected');
  if (!refused) return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<string>).value);
  const reserved = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  // Nothing was signed for them: their bytes go back, and they count for nothing in the rate.
  await Promise.all(
    reserved.map((fileId) =>
      moveReservation(dependencies, owner, fileId, (record, _bytes, _now, home) => {
        if (home) uncountIssued(record);
      }),
    ),
  );
  throw refused.reason;
}

/**
 * Reserves one upload ({@link reserveUploads} of one) and returns the file
 * id the ledger chose for it.
 */
export async function reserveUpload(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  upload: { bytes: number; until: Date },
): Promise<string> {
  const [fileId] = await reserveUploads(dependencies, owner, [upload]);
  return fileId as string;
}

/**
 * Applies `move` to the parts other shards hold of a file's reservation (read
 * from its home shard first, since the home lists them), then to the home
 * itself: the home goes last, so a step that fails half-way finds the
 * reservation again when tried again.
 */
async function moveReservation(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
  move: (record: UsageRecord, bytes: number, now: number, home: boolean) => void,
): Promise<void> {
  const home = shardOf(fileId);
  const { record } = await dependencies.store.readUsage(owner, home);
  const pieces = Object.keys(record.open[fileId]?.pieces ?? {}).map(Number);
  await Promise.all(
    pieces.map((shard) =>
      changeTidied(dependencies, owner, shard, (piece, now) => {
        const part = piece.open[fileId];
        if (!part) return;
        delete piece.open[fileId];
        move(piece, part.bytes, now, false);
      }),
    ),
  );
  await changeTidied(dependencies, owner, home, (homeRecord, now) => {
    const reservation = homeRecord.open[fileId];
    if (!reservation) return;
    delete homeRecord.open[fileId];
    move(homeRecord, reservation.bytes, now, true);
  });
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
  await moveReservation(dependencies, owner, fileId, (record, bytes) => {
    if (status === 'passed') record.usedBytes += bytes;
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
  await moveReservation(dependencies, owner, fileId, (record, _bytes, now, home) => {
    if (home) record.released[fileId] = now;
  });
}

/**
 * Gives back what a file being deleted holds, once: its reservation while it
 * has one (pending: the validator then finds nothing to settle), else its
 * bytes if its content passed (what {@link settleVerdict} counted), taken
 * from its home shard, never more than the owner's used bytes over all
 * shards. The file is read first, afresh on every try: a file with nothing
 * landed yet throws 404 and keeps its reservation, because its still-valid
 * form may land later and the validator must find that reservation to count
 * it. A file released before (a delete repeated, or two at once) changes
 * nothing; a file whose content failed held nothing any more.
 */
export async function releaseDeletedFile(
  dependencies: LimitsDependencies,
  owner: OwnerRef,
  fileId: string,
  readFile: () => Promise<{ checks: { content: 'pending' | 'passed' | 'failed' }; storedBytes: number }>,
): Promise<void> {
  const home = shardOf(fileId);
  let ownerUsed: number | undefined;
  await changeTidied(dependencies, owner, home, async (record, now) => {
    if (record.released[fileId] !== undefined) return;
    const file = await readFile();
    const reservation = record.open[fileId];
    if (reservation) {
      // Parts first: giving them back twice (this change tried again) finds nothing the second time.
      await Promise.all(
        Object.keys(reservation.pieces ?? {}).map((shard) =>
          changeTidied(dependencies, owner, Number(shard), (piece) => {
            delete piece.open[fileId];
          }),
        ),
      );
      releaseOpen(record, fileId, now);
      return;
    }
    if (file.checks.content !== 'passed') return;
    if (ownerUsed === undefined) {
      const views = await readAllShards(dependencies, owner, new Map());
      ownerUsed = views.reduce((sum, view) => sum + (view.shard === home ? 0 : view.record.usedBytes), 0);
    }
    // Nothing used is left to give back (or the owner was never counted).
    const used = ownerUsed + record.usedBytes;
    if (used <= 0) return;
    record.usedBytes -= Math.min(used, file.storedBytes);
    record.released[fileId] = now;
  });
}

/** The owner's usage now, summed over its shards (written back where lapsed reservations were released). */
export async function usageOf(dependencies: LimitsDependencies, owner: OwnerRef): Promise<UsageView> {
  const { limits } = dependencies;
  const views = await readAllShards(dependencies, owner, new Map());
  await writeTidied(dependencies, owner, views);
  return {
    usedBytes: Math.max(
      0,
      views.reduce((sum, view) => sum + view.record.usedBytes, 0),
    ),
    reservedBytes: views.reduce((sum, view) => sum + reservedBytes(view.record), 0),
    quotaBytes: limits.quotaBytes ?? null,
    uploadsThisHour: views.reduce((sum, view) => sum + uploadsInWindow(view.record), 0),
    uploadsPerHour: limits.uploadsPerHour ?? null,
  };
}
