import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, notFound } from '../../../lib/core/errors.js';
import {
  type LimitsDependencies,
  releaseDeletedFile,
  releaseReservation,
  reserveUpload,
  reserveUploads,
  settleVerdict,
  usageOf,
} from '../../../lib/limits/owner-limits.js';
import { MAX_OPEN_RESERVATIONS } from '../../../lib/limits/usage-ledger.js';
import { emptyUsage, type UsageDecision, type UsageRecord } from '../../../lib/store/usage-store.js';
import { movableClock } from '../../support/clock.js';

const OWNER = { segment: '0123456789abcdef0123456789abcdef' };
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 27, 10, 0, 0);
/** The limits' clock: every test starts at NOW and moves it by hand. */
const clock = movableClock(NOW);

/** The store's usage object in memory: every change applied to the one record, as the real CAS would. */
function memoryStore(landed: (fileId: string) => boolean = () => false) {
  let record: UsageRecord = emptyUsage();
  let writes = 0;
  return {
    changeUsage: async <T>(
      _owner: unknown,
      decide: (stored: UsageRecord) => Promise<UsageDecision<T>> | UsageDecision<T>,
    ): Promise<T> => {
      const decision = await decide(structuredClone(record));
      if (decision.record && JSON.stringify(decision.record) !== JSON.stringify(record)) {
        record = decision.record;
        writes += 1;
      }
      return decision.result;
    },
    uploadLanded: vi.fn(async (_owner: unknown, fileId: string) => landed(fileId)),
    record: () => record,
    writes: () => writes,
  };
}

const limitsOf = (limits: Partial<LimitsDependencies['limits']>) => ({
  rateWindowMs: HOUR,
  landingGraceMs: HOUR,
  ...limits,
});

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

beforeEach(() => clock.set(NOW));

describe('reserveUpload', () => {
  it('reserves up to the quota and refuses the byte beyond with 403 quota_exceeded', async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const until = new Date(NOW + 300_000);

    // Act
    const A = await reserveUpload(dependencies, OWNER, { bytes: 60, until });
    const B = await reserveUpload(dependencies, OWNER, { bytes: 40, until });
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));

    // Assert
    expect(refused).toMatchObject({ statusCode: 403, code: 'quota_exceeded' });
    expect(Object.keys(store.record().open)).toEqual([A, B]);
  });

  it('refuses past the rate with 429 and a Retry-After when the oldest bucket leaves the window', async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ uploadsPerHour: 2 }) };
    const until = new Date(NOW + 300_000);
    const A = await reserveUpload(dependencies, OWNER, { bytes: 1, until });
    clock.set(NOW + 10 * 60_000);
    const B = await reserveUpload(dependencies, OWNER, { bytes: 1, until });

    // Act
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));
    const retryAfter = Number(refused.headers['retry-after']);
    clock.set(NOW + 10 * 60_000 + retryAfter * 1000);
    const D = await reserveUpload(dependencies, OWNER, { bytes: 1, until });

    // Assert: the first upload counts for at least an hour, at most a bucket (1 min) more.
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(retryAfter).toBeGreaterThanOrEqual(50 * 60);
    expect(retryAfter).toBeLessThanOrEqual(51 * 60);
    expect(Object.keys(store.record().open)).toEqual([A, B, D]);
  });

  it(`holds at most ${MAX_OPEN_RESERVATIONS} open reservations (429), whatever the quota`, async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 12 }) };
    const until = new Date(NOW + 300_000);
    await reserveUploads(
      dependencies,
      OWNER,
      Array.from({ length: MAX_OPEN_RESERVATIONS }, () => ({ bytes: 1, until })),
    );

    // Act
    const refused = await refusal(reserveUpload(dependencies, OWNER, { bytes: 1, until }));

    // Assert
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('gives back a lapsed form with nothing under its key, keeps one that landed, and asks S3 once each', async () => {
    // Arrange
    let LANDED = '';
    const store = memoryStore((fileId) => fileId === LANDED);
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100, landingGraceMs: 60_000 }) };
    const until = new Date(NOW + 300_000);
    await reserveUpload(dependencies, OWNER, { bytes: 50, until });
    LANDED = await reserveUpload(dependencies, OWNER, { bytes: 50, until });

    // Act: past the forms' expiry and the grace after it.
    clock.set(NOW + 300_000 + 60_001);
    const NEXT = await reserveUpload(dependencies, OWNER, { bytes: 50, until: new Date(NOW + 700_000) });
    const view = await usageOf(dependencies, OWNER);

    // Assert
    expect(store.record().open).toEqual({
      [LANDED]: { bytes: 50, until: until.getTime(), landed: true },
      [NEXT]: { bytes: 50, until: NOW + 700_000 },
    });
    expect(view).toMatchObject({ reservedBytes: 100, usedBytes: 0, quotaBytes: 100 });
    expect(store.uploadLanded).toHaveBeenCalledTimes(2);
  });

  it('does not give back a form before its grace is over', async () => {
    // Arrange
    const store = memoryStore();
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

describe('reserveUploads', () => {
  const until = new Date(NOW + 300_000);

  it('reserves a batch with one write, one distinct fileId per upload in order, each counted once', async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100, uploadsPerHour: 10 }) };

    // Act
    const fileIds = await reserveUploads(dependencies, OWNER, [
      { bytes: 10, until },
      { bytes: 20, until },
      { bytes: 30, until },
    ]);

    // Assert
    expect(new Set(fileIds).size).toBe(3);
    expect(fileIds.map((fileId) => store.record().open[fileId]?.bytes)).toEqual([10, 20, 30]);
    expect(store.writes()).toBe(1);
    expect(await usageOf(dependencies, OWNER)).toMatchObject({ reservedBytes: 60, uploadsThisHour: 3 });
  });

  it('refuses a batch whose total goes over the quota with 403, reserving none of it', async () => {
    // Arrange: 60 of 100 bytes are taken; each file would fit alone, the three together do not.
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const taken = await reserveUpload(dependencies, OWNER, { bytes: 60, until });

    // Act
    const refused = await refusal(
      reserveUploads(dependencies, OWNER, [
        { bytes: 15, until },
        { bytes: 15, until },
        { bytes: 15, until },
      ]),
    );

    // Assert
    expect(refused).toMatchObject({ statusCode: 403, code: 'quota_exceeded' });
    expect(refused.message).toContain('45 bytes more');
    expect(Object.keys(store.record().open)).toEqual([taken]);
  });

  it('refuses a batch that the rate has room for only in part with 429, counting none of it', async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ uploadsPerHour: 3 }) };
    await reserveUpload(dependencies, OWNER, { bytes: 1, until });

    // Act
    const refused = await refusal(
      reserveUploads(dependencies, OWNER, [
        { bytes: 1, until },
        { bytes: 1, until },
        { bytes: 1, until },
      ]),
    );
    const rest = await reserveUploads(dependencies, OWNER, [
      { bytes: 1, until },
      { bytes: 1, until },
    ]);

    // Assert
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(rest).toHaveLength(2);
    expect(await usageOf(dependencies, OWNER)).toMatchObject({ uploadsThisHour: 3 });
  });

  it(`refuses a batch that would hold more than ${MAX_OPEN_RESERVATIONS} open reservations`, async () => {
    // Arrange
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 10 ** 12 }) };
    await reserveUploads(
      dependencies,
      OWNER,
      Array.from({ length: MAX_OPEN_RESERVATIONS - 1 }, () => ({ bytes: 1, until })),
    );

    // Act
    const refused = await refusal(
      reserveUploads(dependencies, OWNER, [
        { bytes: 1, until },
        { bytes: 1, until },
      ]),
    );

    // Assert
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limited' });
    expect(Object.keys(store.record().open)).toHaveLength(MAX_OPEN_RESERVATIONS - 1);
  });
});

describe('moving bytes, each move once', () => {
  const until = () => new Date(NOW + 300_000);

  it('a passed verdict turns the reservation into used bytes; a redelivered one changes nothing', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });

    await settleVerdict(dependencies, OWNER, A, 'passed');
    await settleVerdict(dependencies, OWNER, A, 'passed');
    await settleVerdict(dependencies, OWNER, A, 'failed');

    expect(store.record()).toMatchObject({ usedBytes: 30, open: {} });
  });

  it('a failed verdict gives the reservation back', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });

    await settleVerdict(dependencies, OWNER, A, 'failed');

    expect(store.record()).toMatchObject({ usedBytes: 0, open: {} });
  });

  it('a delete of a pending file gives its reservation back, and the verdict after it moves nothing', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    const readFile = vi.fn(async () => ({ checks: { content: 'pending' as const }, storedBytes: 30 }));

    await releaseDeletedFile(dependencies, OWNER, A, readFile);
    await settleVerdict(dependencies, OWNER, A, 'passed');

    expect(store.record()).toMatchObject({ usedBytes: 0, open: {} });
  });

  it('a delete before anything landed keeps the reservation: the form posted after it is still counted', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    const nothingLanded = async (): Promise<never> => {
      throw notFound();
    };

    const refused = await refusal(releaseDeletedFile(dependencies, OWNER, A, nothingLanded));
    await settleVerdict(dependencies, OWNER, A, 'passed');

    expect(refused.code).toBe('not_found');
    expect(store.record()).toMatchObject({ usedBytes: 30, open: {} });
  });

  it('a delete of a file whose content passed gives its bytes back whatever the malware check said', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    await settleVerdict(dependencies, OWNER, A, 'passed');

    await releaseDeletedFile(dependencies, OWNER, A, async () => ({
      checks: { content: 'passed' },
      storedBytes: 30,
    }));

    expect(store.record().usedBytes).toBe(0);
  });

  it('a delete of a passed file gives its bytes back once, however often it runs', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const fileIds = await reserveUploads(dependencies, OWNER, [
      { bytes: 30, until: until() },
      { bytes: 30, until: until() },
    ]);
    const A = fileIds[0] as string;
    for (const fileId of fileIds) {
      await settleVerdict(dependencies, OWNER, fileId, 'passed');
    }
    const readFile = async () => ({ checks: { content: 'passed' as const }, storedBytes: 30 });

    await releaseDeletedFile(dependencies, OWNER, A, readFile);
    await releaseDeletedFile(dependencies, OWNER, A, readFile);

    expect(store.record().usedBytes).toBe(30);
  });

  it('a delete of a failed file gives nothing back (it held nothing any more)', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });
    await settleVerdict(dependencies, OWNER, A, 'passed');
    const B = await reserveUpload(dependencies, OWNER, { bytes: 20, until: until() });
    await settleVerdict(dependencies, OWNER, B, 'failed');

    await releaseDeletedFile(dependencies, OWNER, B, async () => ({
      checks: { content: 'failed' },
      storedBytes: 20,
    }));

    expect(store.record().usedBytes).toBe(30);
  });

  it('an abort gives a multipart reservation back once; nothing is written for an owner never counted', async () => {
    const store = memoryStore();
    const dependencies = { store, clock, limits: limitsOf({ quotaBytes: 100 }) };
    await releaseReservation(dependencies, OWNER, 'NONE');
    expect(store.writes()).toBe(0);
    const A = await reserveUpload(dependencies, OWNER, { bytes: 30, until: until() });

    await releaseReservation(dependencies, OWNER, A);
    await releaseReservation(dependencies, OWNER, A);

    expect(store.record()).toMatchObject({ usedBytes: 0, open: {} });
    expect(store.writes()).toBe(2);
  });
});
