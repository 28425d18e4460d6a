import { vi } from 'vitest';
import {
  emptyUsage,
  type StoredShard,
  type UsageDecision,
  type UsageRecord,
} from '../../lib/store/usage-store.js';

/**
 * The store's usage shards in memory, with S3's conditional writes: a write
 * names the ETag it read (none: only if nothing is stored) and loses when the
 * shard changed since. Every call yields first (waits up to `latencyMs`), so
 * concurrent calls interleave.
 */
export function memoryUsageShards(landed: (fileId: string) => boolean = () => false, latencyMs = 0) {
  const shards = new Map<number, { record: UsageRecord; eTag: string }>();
  let writes = 0;
  let lost = 0;
  const pause = () =>
    latencyMs > 0 ? new Promise((done) => setTimeout(done, Math.random() * latencyMs)) : Promise.resolve();
  const readUsage = async (_owner: unknown, shard: number): Promise<StoredShard> => {
    await pause();
    const stored = shards.get(shard);
    return stored ? { record: structuredClone(stored.record), eTag: stored.eTag } : { record: emptyUsage() };
  };
  const tryWriteUsage = async (
    _owner: unknown,
    shard: number,
    record: UsageRecord,
    eTag: string | undefined,
  ): Promise<boolean> => {
    await pause();
    if (shards.get(shard)?.eTag !== eTag) {
      lost += 1;
      return false;
    }
    writes += 1;
    shards.set(shard, { record: structuredClone(record), eTag: `e${writes}` });
    return true;
  };
  let gathering: { token: string; until: number } | undefined;
  let gatherings = 0;
  /** Which shards are stored, as one listing of the owner's prefix names them. */
  const listUsageShards = vi.fn(
    async (_owner: unknown, shardCount: number): Promise<number[] | undefined> => {
      await pause();
      return [...shards.keys()].filter((shard) => shard < shardCount);
    },
  );
  return {
    readUsage: vi.fn(readUsage),
    listUsageShards,
    tryWriteUsage,
    /** The owner's gathering claim, as the store keeps it: one holder until it lapses. */
    claimGathering: async (_owner: unknown, now: number, holdMs: number): Promise<string | undefined> => {
      await pause();
      if (gathering && gathering.until > now) return undefined;
      gatherings += 1;
      gathering = { token: `g${gatherings}`, until: now + holdMs };
      return gathering.token;
    },
    releaseGathering: async (_owner: unknown, token: string): Promise<void> => {
      await pause();
      if (gathering?.token === token) gathering = undefined;
    },
    /** How many times the gathering was claimed. */
    gatherings: () => gatherings,
    changeUsage: async <T>(
      owner: unknown,
      shard: number,
      decide: (stored: UsageRecord) => Promise<UsageDecision<T>> | UsageDecision<T>,
    ): Promise<T> => {
      for (;;) {
        const { record, eTag } = await readUsage(owner, shard);
        const before = JSON.stringify(record);
        const decision = await decide(record);
        if (!decision.record || JSON.stringify(decision.record) === before) return decision.result;
        if (await tryWriteUsage(owner, shard, decision.record, eTag)) return decision.result;
      }
    },
    uploadLanded: vi.fn(async (_owner: unknown, fileId: string) => landed(fileId)),
    /** Every open entry over all shards, by file id. */
    open: () =>
      Object.assign({}, ...[...shards.values()].map(({ record }) => record.open)) as UsageRecord['open'],
    usedBytes: () => [...shards.values()].reduce((sum, { record }) => sum + record.usedBytes, 0),
    shard: (shard: number) => shards.get(shard)?.record ?? emptyUsage(),
    shardsWritten: () => shards.size,
    writes: () => writes,
    lost: () => lost,
  };
}
