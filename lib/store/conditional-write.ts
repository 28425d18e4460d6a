import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { quotedETag, unquotedETag } from './object-encoding.js';
import { classifyS3Error } from './s3-errors.js';
import { readStateObject, type StateObject } from './state-object.js';

/** What a conditional write of a state object came to. */
export type WriteOutcome =
  /** This write landed. */
  | 'written'
  /** The object is not the one the write expected (412, or gone under `If-Match`): another write came first. */
  | 'lost'
  /** Two conditional writes reached S3 at once (409): neither may have landed. */
  | 'collided';

/** One write of a small object of the state bucket, over exactly what the writer read. */
export interface StateWrite {
  key: string;
  body: string;
  contentType: string;
  /** Write only over the object read with this ETag, or only where no object is (`absent`). */
  over: { eTag: string } | 'absent';
  /** Tags for the state bucket's lifecycle, as a query string. */
  tagging?: string;
}

export interface ConditionalWriterSettings {
  s3: S3Client;
  /** The state bucket: unversioned, so conditional writes hold there on Ceph RGW too. */
  stateBucket: string;
  /** How `If-Match` takes an ETag: AWS quoted, Ceph RGW bare. */
  conditionalETag: 'quoted' | 'unquoted';
}

/**
 * The one conditional write of the state bucket, every record's only way in:
 * a PUT with `If-None-Match: *` (create-once) or `If-Match` the ETag read
 * (replace only what was read). A write that loses is reported, never
 * retried here: what to do then is the caller's decision ({@link swapStateObject}
 * is the usual one). Throws any other S3 error.
 */
export function createConditionalWriter({ s3, stateBucket, conditionalETag }: ConditionalWriterSettings) {
  const ifMatchOf = (eTag: string) => (conditionalETag === 'quoted' ? quotedETag(eTag) : unquotedETag(eTag));

  async function writeIfUnchanged(write: StateWrite): Promise<WriteOutcome> {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: stateBucket,
          Key: write.key,
          Body: write.body,
          ContentType: write.contentType,
          ...(write.over === 'absent' ? { IfNoneMatch: '*' } : { IfMatch: ifMatchOf(write.over.eTag) }),
          ...(write.tagging ? { Tagging: write.tagging } : {}),
        }),
      );
      return 'written';
    } catch (error) {
      const kind = classifyS3Error(error);
      if (kind === 'conflict') return 'collided';
      if (kind === 'replaced' || (kind === 'missing' && write.over !== 'absent')) return 'lost';
      throw error;
    }
  }

  /** A state object's text and ETag, `undefined` when none is stored. */
  const read = (key: string): Promise<StateObject | undefined> => readStateObject(s3, stateBucket, key);

  return { writeIfUnchanged, read };
}

export type ConditionalWriter = ReturnType<typeof createConditionalWriter>;

/** What a swap decides from the object it read: the body to write (none: nothing to write) and its result. */
export interface SwapDecision<T> {
  body?: string;
  result: T;
}

export interface SwapOptions {
  contentType: string;
  /**
   * A lost write (another came first) either makes this one moot (`settled`:
   * what the other wrote already covers it, so the result stands) or is read
   * again and decided anew (`retry`).
   */
  whenLost: 'settled' | 'retry';
  /**
   * The pause before try `attempt` (1, 2, …) in ms, or `undefined` to give up
   * with {@link SwapOptions.givenUp}'s error.
   */
  pauseBefore: (attempt: number) => number | undefined;
  givenUp: () => Error;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Changes one state object by compare-and-swap: reads it, lets `decide`
 * compute the next body from what it read, and writes that only over the
 * very object read (`If-Match` its ETag, `If-None-Match: *` for the first).
 * Concurrent swaps are applied one after the other, none on a stale view:
 * a write that collides (409) is always tried again, one that loses (412)
 * as `whenLost` says. Errors `decide` throws pass through, nothing written.
 */
export async function swapStateObject<T>(
  writer: ConditionalWriter,
  key: string,
  decide: (current: StateObject | undefined) => Promise<SwapDecision<T>> | SwapDecision<T>,
  options: SwapOptions,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      const pause = options.pauseBefore(attempt);
      if (pause === undefined) throw options.givenUp();
      if (pause > 0) await sleep(pause);
    }
    const current = await writer.read(key);
    const decision = await decide(current);
    if (decision.body === undefined) return decision.result;
    const outcome = await writer.writeIfUnchanged({
      key,
      body: decision.body,
      contentType: options.contentType,
      over: current?.eTag ? { eTag: current.eTag } : 'absent',
    });
    if (outcome === 'written' || (outcome === 'lost' && options.whenLost === 'settled'))
      return decision.result;
  }
}
