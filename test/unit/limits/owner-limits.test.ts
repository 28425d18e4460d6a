import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, notFound } from '../../../lib/core/errors.js';
import {
  LISTING_SPARES_TOO_FEW,
  type LimitsDependencies,
  releaseDeletedFile,
  releaseReservation,
  reserveUpload,
  reserveUploads,
  settleVerdict,
  usageOf,
} from '../../../lib/limits/owner-limits.js';
import { MAX_OPEN_RESERVATIONS, shardOf, shareOf, USAGE_SHARDS } from '../../../lib/limits/usage-ledger.js';
import { fileIdSchema } from '../../../lib/store/object-key.js';
import { emptyUsage } from '../../../lib/store/usage-store.js';
import { movableClock } from '../../support/clock.js';
import { refusal } from '../../support/refusals.js';
import { memoryUsageShards } from '../../support/usage-shards.js';

const OWNER = { segment: '0123456789abcdef0123456789abcdef' };
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 10, 0, 0);
/** The limits' clock: every test starts at NOW and moves it by hand. */
const clock = movableClock(NOW);

const limitsOf = (limits: Partial<LimitsDependencies['limits']>) => ({
  rateWindowMs: HOUR,
  landingGraceMs: HOUR,
  ...limits,
});

beforeEach(() => clock.set(NOW));

const statusesOf = (outcomes: PromiseSettledResult<unknown>[]) =>
  outcomes.map((outcome) =>
    outcome.status === 'fulfilled'
      ? 201
      : outcome.reason instanceof ApiError
        ? outcome.reason.statusCode
        : 500,
  );
const count = (list: number[], value: number) => list.filter((item) => item === value).length;

describe('the shards', () => {
  it('split a limit exactly: the shares add up to it, none differs from another by more than one', () => {
    for (const total of [0, 1, 63, 64, 100, 250, 5000, 67_108_864, 2_000_000_000]) {
      const shares = Array.from({ length: USAGE_SHARDS }, (_, shard) => shareOf(total, shard));

      expect(shares.reduce((sum, share) => sum + share, 0)).toBe(total);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it('a file id the ledger chooses is a file id, and names the shard holding its reservation', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 9 }) };
    const until = new Date(NOW + 300_000);

    const fileIds = await reserveUploads(
      dependencies,
      OWNER,
      Array.from({ length: 40 }, () => ({ bytes: 10, until })),
    );

    expect(new Set(fileIds).size).toBe(40);
    for (const fileId of fileIds) {
      expect(fileIdSchema.safeParse(fileId).success).toBe(true);
      expect(store.shard(shardOf(fileId)).open[fileId]).toEqual({ bytes: 10, until: until.getTime() });
    }
  });

  it('concurrent requests of one process start on distinct shards, so none of their writes loses', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 9, uploadsPerHour: 5000 }) };
    const until = new Date(NOW + 300_000);

    const fileIds = await Promise.all(
      Array.from({ length: 50 }, () => reserveUpload(dependencies, OWNER, { bytes: 1, until })),
    );

    expect(new Set(fileIds.map(shardOf)).size).toBe(50);
    expect(store.lost()).toBe(0);
    expect(store.writes()).toBe(50);
  });
});

describe('reserveUpload', () => {
  it('reserves up to the quota, gathering parts from several shards, and refuses the byte beyond with 403', async () => {
    // Arrange: 100 bytes over 64 shards hold one or two each, so 60 and 40 are each gathered.
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const until = new Date(NOW + 300_000);

    // Act
    const a = await reserveUpload(dependencies, OWNER, { bytes: 60, until });
    const b = await reserveUpload(dependencies, OWNER, { bytes: 40, until });
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));

    // Assert
    expect(refused).toMatchObject({ statusCode: 403, code: 'quota_exceeded' });
    expect(await usageOf(dependencies, OWNER)).toMatchObject({ reservedBytes: 100, uploadsThisHour: 2 });
    const home = store.shard(shardOf(a)).open[a];
    expect(Object.values(home?.pieces ?? {}).reduce((sum, part) => sum + part, home?.bytes ?? 0)).toBe(60);
    expect(store.shard(shardOf(b)).open[b]).toBeDefined();
  });

  it('refuses past the rate with 429 and a Retry-After when the oldest bucket leaves the window', async () => {
    // Arrange
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ uploadsPerHour: 2 }) };
    const until = new Date(NOW + 300_000);
    await reserveUpload(dependencies, OWNER, { bytes: 1, until });
    clock.set(NOW + 10 * 60_000);
    await reserveUpload(dependencies, OWNER, { bytes: 1, until });

    // Act
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));
    const retryAfter = Number(refused.headers['retry-after']);
    clock.set(NOW + 10 * 60_000 + retryAfter * 1000);
    await reserveUpload(dependencies, OWNER, { bytes: 1, until });

    // Assert: the first upload counts for at least an hour, at most a bucket (1 min) more.
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(retryAfter).toBeGreaterThanOrEqual(50 * 60);
    expect(retryAfter).toBeLessThanOrEqual(51 * 60);
    expect(Object.keys(store.open())).toHaveLength(3);
  });

  it(`holds at most ${MAX_OPEN_RESERVATIONS} open reservations (429), whatever the quota`, async () => {
    // Arrange
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 12 }) };
    const until = new Date(NOW + 300_000);
    for (let i = 0; i < MAX_OPEN_RESERVATIONS; i++) {
      await reserveUpload(dependencies, OWNER, { bytes: 1, until });
    }

    // Act
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));

    // Assert
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  }, 60_000);

  it('gives back a lapsed form with nothing under its key, keeps one that landed, and asks S3 once each', async () => {
    // Arrange
    let landedId = '';
    const store = memoryUsageShards((fileId) => fileId === landedId);
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100, landingGraceMs: 60_000 }) };
    const until = new Date(NOW + 300_000);
    await reserveUpload(dependencies, OWNER, { bytes: 50, until });
    landedId = await reserveUpload(dependencies, OWNER, { bytes: 50, until });

    // Act: past the forms' expiry and the grace after it.
    clock.set(NOW + 300_000 + 60_001);
    const next = await reserveUpload(dependencies, OWNER, { bytes: 50, until: new Date(NOW + 700_000) });
    const view = await usageOf(dependencies, OWNER);

    // Assert
    expect(Object.keys(store.open()).sort()).toEqual([landedId, next].sort());
    expect(store.shard(shardOf(landedId)).open[landedId]).toMatchObject({ landed: true });
    expect(view).toMatchObject({ reservedBytes: 100, usedBytes: 0, quotaBytes: 100 });
    expect(store.uploadLanded).toHaveBeenCalledTimes(2);
  });

  it('does not give back a form before its grace is over', async () => {
    // Arrange
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100, landingGraceMs: 60_000 }) };
    await reserveUpload(dependencies, OWNER, { bytes: 100, until: new Date(NOW + 1000) });

    // Act
    clock.set(NOW + 1000 + 59_000);
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until: new Date(NOW) }));

    // Assert
    expect(refused.code).toBe('quota_exceeded');
    expect(store.uploadLanded).not.toHaveBeenCalled();
  });
});

describe('a burst from one owner', () => {
  const until = new Date(NOW + 300_000);

  it('100 concurrent requests of a 64th of the quota: exactly 64 granted, 36 refused by the quota', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 64 * 1024, uploadsPerHour: 5000 }) };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () => reserveUpload(dependencies, OWNER, { bytes: 1024, until })),
    );

    const statuses = statusesOf(outcomes);
    expect(count(statuses, 201)).toBe(64);
    expect(count(statuses, 403)).toBe(36);
    expect((await usageOf(dependencies, OWNER)).reservedBytes).toBe(64 * 1024);
  });

  it('30 concurrent requests of a tenth of the quota, each gathered from several shards: exactly 10 granted', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 1000, uploadsPerHour: 5000 }) };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, () => reserveUpload(dependencies, OWNER, { bytes: 100, until })),
    );

    const statuses = statusesOf(outcomes);
    expect(count(statuses, 201)).toBe(10);
    expect(count(statuses, 403)).toBe(20);
    expect((await usageOf(dependencies, OWNER)).reservedBytes).toBe(1000);
  });

  it('200 concurrent requests of a hundredth of the quota on a store with latency: exactly 100 granted, 100 × 403', async () => {
    // Arrange: a hundredth is more than half a shard's share, so 36 of the grants are gathered from
    // the leftovers of two shards while the other requests contend for them.
    const store = memoryUsageShards(() => false, 3);
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 640_000, uploadsPerHour: 250 }) };

    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, () => reserveUpload(dependencies, OWNER, { bytes: 6400, until })),
    );

    // Assert
    const statuses = statusesOf(outcomes);
    expect(count(statuses, 201)).toBe(100);
    expect(count(statuses, 403)).toBe(100);
    expect((await usageOf(dependencies, OWNER)).reservedBytes).toBe(640_000);
  }, 60_000);

  it('spending the hourly budget 50 at a time: every request granted until it is spent, then 429', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 9, uploadsPerHour: 250 }) };
    const wave = () =>
      Promise.allSettled(
        Array.from({ length: 50 }, () => reserveUpload(dependencies, OWNER, { bytes: 1, until })),
      );

    const waves = [];
    for (let i = 0; i < 6; i++) waves.push(statusesOf(await wave()));

    expect(waves.slice(0, 5)).toEqual(Array(5).fill(Array(50).fill(201)));
    expect(waves[5]).toEqual(Array(50).fill(429));
    expect((await usageOf(dependencies, OWNER)).uploadsThisHour).toBe(250);
  });
});

describe('reserveUploads', () => {
  it('reserves all or nothing: one refused gives back those reserved with it', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 6400 }) };
    const until = new Date(NOW + 300_000);

    const refused = await refusal(
      reserveUploads(dependencies, OWNER, [
        { bytes: 4000, until },
        { bytes: 4000, until },
      ]),
    );
    const granted = await reserveUploads(dependencies, OWNER, [
      { bytes: 3200, until },
      { bytes: 3200, until },
    ]);

    expect(refused).toMatchObject({ statusCode: 403, code: 'quota_exceeded' });
    expect(granted).toHaveLength(2);
    expect(await usageOf(dependencies, OWNER)).toMatchObject({ reservedBytes: 6400, uploadsThisHour: 2 });
  });
});

describe('moving bytes, each move once', () => {
  const until = () => new Date(NOW + 300_000);

  it('a passed verdict turns the reservation into used bytes; a redelivered one changes nothing', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });

    await settleVerdict(dependencies, OWNER, a, 'passed');
    await settleVerdict(dependencies, OWNER, a, 'passed');
    await settleVerdict(dependencies, OWNER, a, 'failed');

    expect(store.usedBytes()).toBe(30);
    expect(store.open()).toEqual({});
  });

  it('a failed verdict gives the reservation back, every part of it', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });

    await settleVerdict(dependencies, OWNER, a, 'failed');

    expect(store.usedBytes()).toBe(0);
    expect(store.open()).toEqual({});
  });

  it('a delete of a pending file gives its reservation back, and the verdict after it moves nothing', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    const readFile = vi.fn(async () => ({ checks: { content: 'pending' as const }, storedBytes: 30 }));

    await releaseDeletedFile(dependencies, OWNER, a, readFile);
    await settleVerdict(dependencies, OWNER, a, 'passed');

    expect(store.usedBytes()).toBe(0);
    expect(store.open()).toEqual({});
  });

  it('a delete before anything landed keeps the reservation: the form posted after it is still counted', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    const nothingLanded = async (): Promise<never> => {
      throw notFound();
    };

    const refused = await refusal(releaseDeletedFile(dependencies, OWNER, a, nothingLanded));
    await settleVerdict(dependencies, OWNER, a, 'passed');

    expect(refused.code).toBe('not_found');
    expect(store.usedBytes()).toBe(30);
    expect(store.open()).toEqual({});
  });

  it('a delete of a file whose content passed gives its bytes back whatever the malware check said', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    await settleVerdict(dependencies, OWNER, a, 'passed');

    await releaseDeletedFile(dependencies, OWNER, a, async () => ({
      checks: { content: 'passed' },
      storedBytes: 30,
    }));

    expect(store.usedBytes()).toBe(0);
    expect((await usageOf(dependencies, OWNER)).usedBytes).toBe(0);
  });

  it('a delete of a passed file gives its bytes back once, however often it runs', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const fileId = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
      await settleVerdict(dependencies, OWNER, fileId, 'passed');
      ids.push(fileId);
    }
    const readFile = async () => ({ checks: { content: 'passed' as const }, storedBytes: 30 });

    await releaseDeletedFile(dependencies, OWNER, ids[0] as string, readFile);
    await releaseDeletedFile(dependencies, OWNER, ids[0] as string, readFile);

    expect(store.usedBytes()).toBe(30);
  });

  it('a delete of a passed file the owner was never counted for lowers nothing below zero', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    await settleVerdict(dependencies, OWNER, a, 'passed');

    await releaseDeletedFile(dependencies, OWNER, '01JD0000000000000000000000', async () => ({
      checks: { content: 'passed' },
      storedBytes: 50,
    }));

    expect(store.usedBytes()).toBe(0);
  });

  it('a delete of a failed file gives nothing back (it held nothing any more)', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    await settleVerdict(dependencies, OWNER, a, 'passed');
    const b = await reserveUpload(dependencies, OWNER, { bytes: 20, until: until() });
    await settleVerdict(dependencies, OWNER, b, 'failed');

    await releaseDeletedFile(dependencies, OWNER, b, async () => ({
      checks: { content: 'failed' },
      storedBytes: 20,
    }));

    expect(store.usedBytes()).toBe(30);
  });

  it('an abort gives a multipart reservation back once; nothing is written for an owner never counted', async () => {
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    await releaseReservation(dependencies, OWNER, '01JD0000000000000000000000');
    expect(store.writes()).toBe(0);
    const a = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    const written = store.writes();

    await releaseReservation(dependencies, OWNER, a);
    const afterFirst = store.writes();
    await releaseReservation(dependencies, OWNER, a);

    expect(store.usedBytes()).toBe(0);
    expect(store.open()).toEqual({});
    expect(afterFirst).toBeGreaterThan(written);
    expect(store.writes()).toBe(afterFirst);
  });
});

/** An owner no other test used: what this process learns of an owner (its last shard, whether most of its shards are stored) outlives a test. */
const freshOwner = () => ({ segment: randomBytes(16).toString('hex') });

/** The bytes every shard's open reservations hold, parts included. */
const heldBytes = (store: ReturnType<typeof memoryUsageShards>) =>
  Array.from({ length: USAGE_SHARDS }, (_, shard) =>
    Object.values(store.shard(shard).open).reduce((sum, entry) => sum + entry.bytes, 0),
  ).reduce((sum, bytes) => sum + bytes, 0);

describe('a full read', () => {
  it('lists the owner’s shards once and reads only those stored, and counts what they hold', async () => {
    const owner = freshOwner();
    // Arrange: reservations land on a few shards of the 64.
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 9 }) };
    const fileIds = await reserveUploads(
      dependencies,
      owner,
      Array.from({ length: 3 }, () => ({ bytes: 10, until: new Date(NOW + 300_000) })),
    );
    const stored = store.shardsWritten();
    store.readUsage.mockClear();
    store.listUsageShards.mockClear();

    // Act
    const view = await usageOf(dependencies, owner);

    // Assert
    expect(view).toMatchObject({ reservedBytes: 30, uploadsThisHour: 3 });
    expect(store.listUsageShards).toHaveBeenCalledTimes(1);
    expect(store.readUsage).toHaveBeenCalledTimes(stored);
    expect(new Set(store.readUsage.mock.calls.map(([, shard]) => shard))).toEqual(
      new Set(fileIds.map((fileId) => shardOf(fileId))),
    );
  });

  it('reads nothing but the listing for an owner never counted', async () => {
    const owner = freshOwner();
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };

    expect(await usageOf(dependencies, owner)).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    expect(store.readUsage).not.toHaveBeenCalled();
    expect(store.writes()).toBe(0);
  });

  it('reads every shard when the listing came back cut short', async () => {
    const owner = freshOwner();
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    await reserveUpload(dependencies, owner, { bytes: 10, until: new Date(NOW + 300_000) });
    store.readUsage.mockClear();
    store.listUsageShards.mockResolvedValueOnce(undefined);

    expect((await usageOf(dependencies, owner)).reservedBytes).toBe(10);
    expect(store.readUsage).toHaveBeenCalledTimes(USAGE_SHARDS);
  });

  it(`skips the listing, in this process, for an owner with ${LISTING_SPARES_TOO_FEW} or more shards stored`, async () => {
    const owner = freshOwner();
    const store = memoryUsageShards();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 9 }) };
    for (let shard = 0; shard < LISTING_SPARES_TOO_FEW; shard++) {
      await store.tryWriteUsage(owner, shard, emptyUsage(), undefined);
    }

    // Act
    await usageOf(dependencies, owner);
    const readsOfFirst = store.readUsage.mock.calls.length;
    await usageOf(dependencies, owner);

    // Assert: the first read listed and read what was listed; the next read every shard, unlisted.
    expect(store.listUsageShards).toHaveBeenCalledTimes(1);
    expect(readsOfFirst).toBe(LISTING_SPARES_TOO_FEW);
    expect(store.readUsage.mock.calls.length - readsOfFirst).toBe(USAGE_SHARDS);
  });

  it.each([
    ['one shard’s share, each whole on one shard', 100, 64, 10],
    ['ten shards’ shares, each gathered in parts', 1000, 6, 3],
  ])(
    'a listing that leaves out stored shards never lets a reservation of %s past the quota',
    async (_, bytes, held, tries) => {
      // Arrange: a quota of 6400 over 64 shards, `held` reservations taken, then every listing stale
      // (it names none of the shards): each request believes every shard empty until its write over one loses.
      const owner = freshOwner();
      const store = memoryUsageShards();
      const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 6400, uploadsPerHour: 5000 }) };
      const until = new Date(NOW + 300_000);
      for (let i = 0; i < held; i++) await reserveUpload(dependencies, owner, { bytes, until });
      expect(heldBytes(store)).toBe(held * bytes);
      expect(store.shardsWritten()).toBeGreaterThan(1);
      store.listUsageShards.mockResolvedValue([]);

      // Act
      const outcomes = await Promise.allSettled(
        Array.from({ length: tries }, () =>
          reserveUpload({ ...dependencies, giveUpAt: Date.now() + 1000 }, owner, { bytes, until }),
        ),
      );

      // Assert: none granted; what the shards hold is what was held, no more.
      expect(statusesOf(outcomes).filter((status) => status === 201)).toEqual([]);
      expect(heldBytes(store)).toBe(held * bytes);
    },
  );
});
