import { ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { Owner } from '../core/owner.js';
import { quotedETag, unquotedETag } from './object-encoding.js';
import { objectKey, usageKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';
import { readStateObject } from './state-object.js';
import { ChangeContended } from './store-errors.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** Bytes held for one upload the API issued, until its verdict, its abort or its lapse moves them. */
export interface OpenReservation {
  /** The declared size. */
  bytes: number;
  /** When it lapses (ms since the epoch) unless something landed under its key. */
  until: number;
  /** Something landed under its key: it no longer lapses, only a verdict, an abort or a delete moves it. */
  landed?: true;
}

/**
 * An owner's usage, as one object of the state bucket keeps it. Bounded: open
 * reservations and recent releases are capped by the code that adds them, and
 * the issued uploads are counted in at most a window's worth of buckets.
 */
export interface UsageRecord {
  /** Bytes of files whose upload was reserved and that passed validation, not deleted since. */
  usedBytes: number;
  /** Reservations by file id: uploads issued and not yet judged, aborted or lapsed. */
  open: Record<string, OpenReservation>;
  /** When each recently released file was released (ms): a second release of it changes nothing. */
  released: Record<string, number>;
  /** Uploads issued, counted per time bucket: `[bucket number, count]`, oldest first. */
  issued: [number, number][];
}

const recordSchema = z.object({
  usedBytes: z.number().int().nonnegative(),
  open: z.record(
    z.string(),
    z.object({
      bytes: z.number().int().positive(),
      until: z.number().int(),
      landed: z.literal(true).optional(),
    }),
  ),
  released: z.record(z.string(), z.number().int()),
  issued: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
});

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
const CHANGE_DEADLINE_MS = 3000;
/** Backoff between tries: a random wait up to `BASE · 2^try`, never above `CAP` (full jitter). */
const BACKOFF_BASE_MS = 20;
const BACKOFF_CAP_MS = 2000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface UsageStoreSettings {
  s3: S3Client;
  /** The uploads bucket: whether something landed under a reservation's key. */
  bucket: string;
  /** The state bucket (unversioned: conditional writes hold there on Ceph RGW too). */
  stateBucket: string;
  /** How `If-Match` takes an ETag: AWS quoted, Ceph RGW unquoted. */
  conditionalETag: 'quoted' | 'unquoted';
}

/**
 * Each owner's usage without a database: one object, `usage/<owner-segment>`
 * in the state bucket, read and then written back only over the very object
 * that was read (`If-Match` its ETag, `If-None-Match: *` for the first). A
 * write that loses to another (412, or 409 when two reach S3 at once) reads
 * again and decides anew, so concurrent changes are applied one after the
 * other and none is lost or applied on a stale view.
 */
export function createUsageStore({ s3, bucket, stateBucket, conditionalETag }: UsageStoreSettings) {
  const ifMatch = (eTag: string) => (conditionalETag === 'quoted' ? quotedETag(eTag) : unquotedETag(eTag));

  async function read(owner: OwnerRef): Promise<{ record: UsageRecord; eTag?: string }> {
    const object = await readStateObject(s3, stateBucket, usageKey(owner));
    if (!object) return { record: emptyUsage() };
    // Only the state bucket's writers could make it unreadable: refuse rather than count from zero.
    const record = recordSchema.parse(JSON.parse(object.text)) as UsageRecord;
    return { record, ...(object.eTag ? { eTag: object.eTag } : {}) };
  }

  /** An owner's usage as stored now (an owner never counted reads as empty). */
  async function readUsage(owner: OwnerRef): Promise<UsageRecord> {
    return (await read(owner)).record;
  }

  /**
   * Applies one change to an owner's usage with a compare-and-swap write:
   * `decide` gets the record as stored and returns the record to write (or
   * none, and nothing is written) and a result. When another write came
   * first, the record is read again and `decide` runs again on it, with a
   * jittered backoff, for up to 6 s or until `giveUpAt` (ms since the epoch:
   * the request's own deadline); then it gives up with ChangeContended
   * (retry after 1 s) rather than write on a stale view, or time out.
   * Errors `decide` throws pass through, nothing written.
   */
  async function changeUsage<T>(
    owner: OwnerRef,
    decide: (record: UsageRecord) => Promise<UsageDecision<T>> | UsageDecision<T>,
    giveUpAt: number = Number.POSITIVE_INFINITY,
  ): Promise<T> {
    const deadline = Math.min(Date.now() + CHANGE_DEADLINE_MS, giveUpAt);
    const busy = () => new ChangeContended('too many changes at once to this owner’s usage: try again', 1);
    if (Date.now() >= deadline) throw busy();
    for (let attempt = 0; ; attempt++) {
      const { record, eTag } = await read(owner);
      const before = JSON.stringify(record);
      const decision = await decide(record);
      if (!decision.record || JSON.stringify(decision.record) === before) return decision.result;
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: stateBucket,
            Key: usageKey(owner),
            Body: JSON.stringify(decision.record),
            ContentType: 'application/json',
            ...(eTag ? { IfMatch: ifMatch(eTag) } : { IfNoneMatch: '*' }),
          }),
        );
        return decision.result;
      } catch (error) {
        const kind = classifyS3Error(error);
        // Another write came first (412), or two reached S3 at once (409): read again.
        if (kind !== 'replaced' && kind !== 'conflict') throw error;
      }
      const pause = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      if (Date.now() + pause >= deadline) throw busy();
      await sleep(pause);
    }
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

  return { readUsage, changeUsage, uploadLanded };
}

export type UsageStore = ReturnType<typeof createUsageStore>;
