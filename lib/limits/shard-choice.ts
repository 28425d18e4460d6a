import { randomInt } from 'node:crypto';
import { ALL_SHARDS } from './usage-ledger.js';

/**
 * Which shard of an owner's usage a reservation tries first, chosen so that
 * writes of one owner rarely meet: requests in flight at once in this process
 * never start on the same shard (a lease), and a process goes back to the
 * shard it last won for that owner (sticky), so in AWS, where an instance
 * serves one request at a time, busy instances settle on distinct shards.
 * Process-local and advisory: correctness never depends on it, only on the
 * compare-and-swap of each shard. The same holds for what else this process
 * remembers of an owner's shards: whether most of them are stored.
 */

/** Owners remembered in each of the maps below: they stay small in a long-lived process. */
const OWNERS_REMEMBERED = 1000;

const leased = new Map<string, Map<number, number>>();
const lastWon = new Map<string, number>();

const leasesOf = (segment: string): Map<number, number> => {
  let leases = leased.get(segment);
  if (!leases) {
    leases = new Map();
    leased.set(segment, leases);
  }
  return leases;
};

/**
 * A shard to try for the owner, leased until `release` is called: the one
 * it last won if free, else a random one no request of this process holds
 * and `avoid` does not name (any not avoided when every shard is leased;
 * `undefined` when `avoid` names them all).
 */
export function leaseShard(
  segment: string,
  avoid: ReadonlySet<number>,
  prefer?: readonly number[],
): { shard: number; release: () => void } | undefined {
  const leases = leasesOf(segment);
  const open = (shard: number) => !avoid.has(shard);
  const candidates = prefer ?? ALL_SHARDS;
  const free = candidates.filter((shard) => open(shard) && !leases.has(shard));
  const sticky = lastWon.get(segment);
  let shard: number | undefined;
  if (sticky !== undefined && free.includes(sticky)) shard = sticky;
  else if (free.length > 0) shard = free[randomInt(free.length)];
  else {
    const any = candidates.filter(open);
    shard = any.length > 0 ? any[randomInt(any.length)] : undefined;
  }
  if (shard === undefined) return undefined;
  const chosen = shard;
  leases.set(chosen, (leases.get(chosen) ?? 0) + 1);
  return {
    shard: chosen,
    release: () => {
      const left = (leases.get(chosen) ?? 1) - 1;
      if (left > 0) leases.set(chosen, left);
      else leases.delete(chosen);
      if (leases.size === 0) leased.delete(segment);
    },
  };
}

/** Owners of which this process saw most shards stored: a full read of them skips the listing. */
const mostlyStored = new Map<string, true>();

/** Remembers `value` for the owner as its newest entry, forgetting the oldest past {@link OWNERS_REMEMBERED}. */
function remember<T>(owners: Map<string, T>, segment: string, value: T): void {
  owners.delete(segment);
  owners.set(segment, value);
  if (owners.size > OWNERS_REMEMBERED) {
    const oldest = owners.keys().next().value;
    if (oldest !== undefined) owners.delete(oldest);
  }
}

/** Remembers the shard a reservation of the owner was just written to. */
export const rememberWon = (segment: string, shard: number): void => remember(lastWon, segment, shard);

/** Remembers that a listing named most of the owner's shards (shards are never removed, so it stays so). */
export const rememberMostlyStored = (segment: string): void => remember(mostlyStored, segment, true);

/** Whether this process saw most of the owner's shards stored. */
export const isMostlyStored = (segment: string): boolean => mostlyStored.has(segment);

/** Whether a request of this process holds a lease on the owner's shard. */
export const isLeased = (segment: string, shard: number): boolean => leased.get(segment)?.has(shard) ?? false;

/** Leases the owner's `shards` at once (a gather's parts), until `release` is called. */
export function leaseShards(segment: string, shards: readonly number[]): () => void {
  const leases = leasesOf(segment);
  for (const shard of shards) leases.set(shard, (leases.get(shard) ?? 0) + 1);
  return () => {
    for (const shard of shards) {
      const left = (leases.get(shard) ?? 1) - 1;
      if (left > 0) leases.set(shard, left);
      else leases.delete(shard);
    }
    if (leases.size === 0) leased.delete(segment);
  };
}
