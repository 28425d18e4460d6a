import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Owner } from '../core/owner.js';
import * as z from '../core/zod.js';
import { type ConditionalWriter, swapStateObject } from './conditional-write.js';
import { gatheringClaimKey, objectKey, shardOfUsageKey, usageKey, usagePrefix } from './object-key.js';
import type { StateObject } from './state-object.js';
import { ChangeContended } from './store-errors.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** Bytes held on one shard for one upload the API issued, until its verdict, its abort or its lapse moves them. */
export interface OpenReservation {
  /** The bytes this shard holds for it: the declared size, or the part of it this shard holds. */
  bytes: number;
  /** When it lapses (ms since the epoch) unless something landed under its key. */
  until: number;
  /** Something landed under its key: it no longer lapses, only a verdict, an abort or a delete moves it. */
  landed?: true;
  /**
   * On the reservation's home shard (the one its file id names), when other
   * shards hold parts of its bytes: the bytes each of them holds, by shard.
   */
  pieces?: Record<string, number>;
  /** On a shard holding a part for another shard's reservation: when the part was taken (ms). */
  pieceOf?: number;
}

/**
 * One shard of an owner's usage, as one object of the state bucket keeps it.
 * Bounded: open reservations and recent releases are capped by the code that
 * adds them, and the issued uploads are counted in at most a window's worth
 * of buckets.
 */
export interface UsageRecord {
  /**
   * Bytes of passed files this shard counted, less the bytes of deleted files
   * it gave back: below zero when a file counted on other shards was deleted
   * through this one (only the owner's sum means anything).
   */
  usedBytes: number;
  /** Reservations by file id: uploads issued and not yet judged, aborted or lapsed. */
  open: Record<string, OpenReservation>;
  /** When each recently released file was released (ms): a second release of it changes nothing. */
  released: Record<string, number>;
  /** Uploads issued, counted per time bucket: `[bucket number, count]`, oldest first. */
  issued: [number, number][];
}

const recordSchema = z.object({
  usedBytes: z.number().check(z.int()),
  open: z.record(
    z.string(),
    z.object({
      bytes: z.number().check(z.int(), z.nonnegative()),
      until: z.number().check(z.int()),
      landed: z.optional(z.literal(true)),
      pieces: z.optional(z.record(z.string(), z.number().check(z.int(), z.positive()))),
      pieceOf: z.optional(z.number().check(z.int())),
    }),
  ),
  released: z.record(z.string(), z.number().check(z.int())),
  issued: z.array(z.tuple([z.number().check(z.int()), z.number().check(z.int(), z.positive())])),
});

/** A gathering claim as stored; anything unreadable reads as free. */
function claimOf(object: StateObject): { token?: string; until: number } {
  try {
    const claim = JSON.parse(object.text) as { token?: unknown; until?: unknown };
    return {
      ...(typeof claim.token === 'string' ? { token: claim.token } : {}),
      until: typeof claim.until === 'number' ? claim.until : 0,
    };
  } catch {
    return { until: 0 };
  }
}

/** The usage of an owner nothing was ever counted for. */
export const emptyUsage = (): UsageRecord => ({ usedBytes: 0, open: {}, released: {}, issued: [] });

/** What a change decides from the record it read: the record to write (none: no write), and its result. */
export interface UsageDecision<T> {
  record?: UsageRecord;
  result: T;
}

/**
 * A change tries again at most this long after its first read, and never past
 * the caller's deadline: on S3 a try takes tens of milliseconds, so this is
 * dozens of tries, and a request that loses that often is better told to
 * come back than kept until its function times out.
 */
const CHANGE_DEADLINE_MS = 10_000;
/** Backoff between tries: a random wait up to `BASE · 2^try`, never above `CAP` (full jitter). */
const BACKOFF_BASE_MS = 20;
const BACKOFF_CAP_MS = 2000;

export interface UsageStoreSettings {
  s3: S3Client;
  /** The uploads bucket: whether something landed under a reservation's key. */
  bucket: string;
  /** The state bucket, where the shards are: which of an owner's are stored. */
  stateBucket: string;
  /** Every write of a shard: create-once, or over exactly the shard read. */
  writer: ConditionalWriter;
}

/** One shard as read: its record, and the ETag a conditional write over it names (none: never written). */
export interface StoredShard {
  record: UsageRecord;
  eTag?: string;
}

/**
 * Each owner's usage without a database: a fixed number of objects (shards),
 * `usage/<owner-segment>/<shard>` in the state bucket, each read and then
 * written back only over the very object that was read (`If-Match` its ETag,
 * `If-None-Match: *` for the first). A write that loses to another (412, or
 * 409 when two reach S3 at once) writes nothing; the caller reads again, or
 * turns to another shard.
 */
export function createUsageStore({ s3, bucket, stateBucket, writer }: UsageStoreSettings) {
  /** A shard's record as stored (a shard never written reads as empty). */
  function recordOf(object: StateObject | undefined): UsageRecord {
    // Only the state bucket's writers could make it unreadable: refuse rather than count from zero.
    return object ? (recordSchema.parse(JSON.parse(object.text)) as UsageRecord) : emptyUsage();
  }

  /** One shard of an owner's usage as stored now (a shard never written reads as empty). */
  async function readUsage(owner: OwnerRef, shard: number): Promise<StoredShard> {
    const object = await writer.read(usageKey(owner, shard));
    return { record: recordOf(object), ...(object?.eTag ? { eTag: object.eTag } : {}) };
  }

  /**
   * Which of the owner's first `shardCount` shards are stored, from one
   * listing of its usage prefix: it holds at most the shards and the
   * gathering claim, so one page of `shardCount + 1` keys has them all.
   * `undefined` when the page came back cut short (something other than this
   * store wrote under the prefix): the caller reads every shard instead.
   */
  async function listUsageShards(owner: OwnerRef, shardCount: number): Promise<number[] | undefined> {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: stateBucket, Prefix: usagePrefix(owner), MaxKeys: shardCount + 1 }),
    );
    if (listed.IsTruncated) return undefined;
    const shards = (listed.Contents ?? []).map(({ Key }) => (Key ? shardOfUsageKey(owner, Key) : undefined));
    return shards.filter((shard): shard is number => shard !== undefined && shard < shardCount);
  }

  /**
   * Writes a shard over exactly the version read (`eTag`; none: only if
   * nothing is stored yet). Whether it was written: `false` when another
   * write came first (412) or two reached S3 at once (409).
   */
  async function tryWriteUsage(
    owner: OwnerRef,
    shard: number,
    record: UsageRecord,
    eTag: string | undefined,
  ): Promise<boolean> {
    const outcome = await writer.writeIfUnchanged({
      key: usageKey(owner, shard),
      body: JSON.stringify(record),
      contentType: 'application/json',
      over: eTag ? { eTag } : 'absent',
    });
    return outcome === 'written';
  }

  /**
   * Applies one change to one shard by compare-and-swap ({@link swapStateObject}):
   * `decide` gets the record as stored and returns the record to write (or
   * none, and nothing is written) and a result. When another write came
   * first, the shard is read again and `decide` runs again on it, with a
   * jittered backoff, for up to 10 s or until `giveUpAt` (ms since the epoch:
   * the request's own deadline); then it gives up with ChangeContended
   * (retry after 1 s) rather than write on a stale view, or time out.
   * Errors `decide` throws pass through, nothing written.
   */
  function changeUsage<T>(
    owner: OwnerRef,
    shard: number,
    decide: (record: UsageRecord) => Promise<UsageDecision<T>> | UsageDecision<T>,
    giveUpAt: number = Number.POSITIVE_INFINITY,
  ): Promise<T> {
    const deadline = Math.min(Date.now() + CHANGE_DEADLINE_MS, giveUpAt);
    const busy = () => new ChangeContended('too many changes at once to this owner’s usage: try again', 1);
    if (Date.now() >= deadline) return Promise.reject(busy());
    return swapStateObject(
      writer,
      usageKey(owner, shard),
      async (current) => {
        const record = recordOf(current);
        const before = JSON.stringify(record);
        const decision = await decide(record);
        const changed = decision.record !== undefined && JSON.stringify(decision.record) !== before;
        return { ...(changed ? { body: JSON.stringify(decision.record) } : {}), result: decision.result };
      },
      {
        contentType: 'application/json',
        whenLost: 'retry',
        pauseBefore: (attempt) => {
          const pause = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
          return Date.now() + pause >= deadline ? undefined : pause;
        },
        givenUp: busy,
      },
    );
  }

  /**
   * Claims the owner's gathering, so that one request at a time takes parts
   * of a reservation from several shards (requests doing it at once would keep
   * taking parts from each other). The claim is an object holding a random
   * token and when it lapses (`now + holdMs`), written only over a free or
   * lapsed claim, so a request that died holding it blocks no one for long.
   * The token when this request holds it now, `undefined` when another does.
   * Only a liveness aid: each shard's own compare-and-swap keeps the quota.
   */
  async function claimGathering(owner: OwnerRef, now: number, holdMs: number): Promise<string | undefined> {
    const key = gatheringClaimKey(owner);
    const current = await writer.read(key);
    if (current && claimOf(current).until > now) return undefined;
    const token = randomUUID();
    const outcome = await writer.writeIfUnchanged({
      key,
      body: JSON.stringify({ token, until: now + holdMs }),
      contentType: 'application/json',
      over: current?.eTag ? { eTag: current.eTag } : 'absent',
    });
    return outcome === 'written' ? token : undefined;
  }

  /** Frees the owner's gathering claim if `token`'s is still the one there (a lapsed one may have been taken over). */
  async function releaseGathering(owner: OwnerRef, token: string): Promise<void> {
    const key = gatheringClaimKey(owner);
    const current = await writer.read(key);
    if (!current?.eTag || claimOf(current).token !== token) return;
    await writer.writeIfUnchanged({
      key,
      body: JSON.stringify({ until: 0 }),
      contentType: 'application/json',
      over: { eTag: current.eTag },
    });
  }

  /**
   * Whether anything (a version or a delete marker) is stored under the key
   * of an owner's file: a reservation whose form expired is released only
   * when nothing is.
   */
  async function uploadLanded(owner: OwnerRef, fileId: string): Promise<boolean> {
    const key = objectKey(owner, fileId);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 2 }));
    return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].some((entry) => entry.Key === key);
  }

  return {
    readUsage,
    listUsageShards,
    tryWriteUsage,
    changeUsage,
    claimGathering,
    releaseGathering,
    uploadLanded,
  };
}

export type UsageStore = ReturnType<typeof createUsageStore>;
