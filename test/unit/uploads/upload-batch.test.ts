import { describe, expect, it, vi } from 'vitest';
import { type LimitSettings, shardOf } from '../../../lib/limits/usage-ledger.js';
import type { FileStore } from '../../../lib/store/file-store.js';
import { issueUploads, type UploadDependencies } from '../../../lib/uploads/upload-issuer.js';
import type { CreateUploadRequest } from '../../../lib/uploads/upload-request.js';
import { TEST_NOW, testClock } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';
import { refusal } from '../../support/refusals.js';
import { memoryUsageShards } from '../../support/usage-shards.js';

/** What the store signs a form from. */
type UploadForm = Parameters<FileStore['presignUpload']>[0];

const OWNER = testOwner('auth0|batch');
const RULES = new Map([
  ['image/png', 1000],
  ['application/pdf', 5000],
]);
const NO_LIMITS: LimitSettings = { rateWindowMs: 3_600_000, landingGraceMs: 3_600_000 };

/**
 * A store whose usage object lives in memory and whose forms are signed by a
 * stub that resolves in the reverse order of the calls: the answer's order
 * must come from the request, not from which form was signed first.
 */
function fakeStore() {
  const usage = memoryUsageShards();
  const signed: UploadForm[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const store = {
    ...usage,
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-secret' }),
    presignUpload: vi.fn(async (form: UploadForm) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const order = signed.push(form);
      await new Promise((resolve) => setTimeout(resolve, 20 - order));
      inFlight -= 1;
      return { url: 'https://bucket.test/', fields: { key: form.key } };
    }),
    markPending: vi.fn(async (_owner: unknown, _fileId: string, _terms: { until: Date }) => undefined),
  };
  return {
    store,
    open: usage.open,
    shard: usage.shard,
    writes: usage.writes,
    signed: () => signed,
    mostInFlight: () => mostInFlight,
  };
}

function dependencies(store: ReturnType<typeof fakeStore>['store'], limits = NO_LIMITS): UploadDependencies {
  return { store, rules: RULES, limits, uploadTtlSeconds: 300, clock: testClock };
}

const file = (name: string, size = 100, contentType = 'image/png'): CreateUploadRequest => ({
  filename: name,
  contentType,
  size,
});

describe('issueUploads', () => {
  it('answers a form per file in the request’s order, each at its own key, signed concurrently', async () => {
    // Arrange
    const fake = fakeStore();
    const files = [file('a.png', 1), file('b.pdf', 2, 'application/pdf'), file('c.png', 3)];

    // Act
    const issued = await issueUploads(dependencies(fake.store), OWNER, files);

    // Assert
    expect(issued.map((upload) => upload.maxBytes)).toEqual([1, 2, 3]);
    expect(issued.map((upload) => upload.upload.fields.key)).toEqual(issued.map((upload) => upload.key));
    expect(new Set(issued.map((upload) => upload.fileId)).size).toBe(3);
    for (const upload of issued) expect(upload.key).toBe(`uploads/${OWNER.segment}/${upload.fileId}`);
    expect(fake.signed().map((form) => form.filename)).toEqual(['a.png', 'b.pdf', 'c.png']);
    expect(fake.mostInFlight()).toBe(3);
    expect(new Set(issued.map((upload) => upload.expiresAt))).toEqual(
      new Set([new Date(TEST_NOW.getTime() + 300_000).toISOString()]),
    );
  });

  it('reserves the whole batch before signing, each file on the shard its answered fileId names and marked pending at it', async () => {
    // Arrange: every shard's share of the quota (a 64th) holds either file whole
    const fake = fakeStore();
    const limits = { ...NO_LIMITS, quotaBytes: 64_000, uploadsPerHour: 640 };

    // Act
    const issued = await issueUploads(dependencies(fake.store, limits), OWNER, [
      file('a.png', 100),
      file('b.png', 200),
    ]);

    // Assert
    expect(fake.writes()).toBe(2);
    for (const { fileId } of issued) expect(fake.shard(shardOf(fileId)).open[fileId]).toBeDefined();
    expect(fake.open()).toEqual({
      [issued[0]?.fileId as string]: { bytes: 100, until: TEST_NOW.getTime() + 300_000 },
      [issued[1]?.fileId as string]: { bytes: 200, until: TEST_NOW.getTime() + 300_000 },
    });
    const until = new Date(TEST_NOW.getTime() + 300_000);
    expect(fake.store.markPending.mock.calls).toEqual(issued.map(({ fileId }) => [OWNER, fileId, { until }]));
  });

  it.each([
    ['a type no rule allows', file('evil.html', 10, 'text/html'), 415, 'unsupported_content_type'],
    ['a size above its rule', file('big.png', 1001), 413, 'file_too_large'],
    [
      'S3 metadata over 2 KB',
      { ...file('😀'.repeat(255)), clientMetadata: { note: 'x'.repeat(489) } },
      400,
      'invalid_request',
    ],
  ])(
    'refuses the whole batch for %s in it, naming the file, and reserves and signs nothing',
    async (_, bad, status, code) => {
      // Arrange
      const fake = fakeStore();
      const limits = { ...NO_LIMITS, quotaBytes: 10_000 };
      const files = [file('a.png'), file('b.png'), bad as CreateUploadRequest, file('d.png')];

      // Act
      const refused = await refusal(issueUploads(dependencies(fake.store, limits), OWNER, files));

      // Assert
      expect(refused).toMatchObject({ statusCode: status, code });
      expect(refused.message).toMatch(/^files\[2\]: /);
      expect(fake.writes()).toBe(0);
      expect(fake.store.presignUpload).not.toHaveBeenCalled();
    },
  );

  it('refuses a batch whose total goes over the quota with 403 though each file fits, signing nothing', async () => {
    // Arrange
    const fake = fakeStore();
    const limits = { ...NO_LIMITS, quotaBytes: 1000 };
    const files = [file('a.png', 400), file('b.png', 400), file('c.png', 400)];

    // Act
    const refused = await refusal(issueUploads(dependencies(fake.store, limits), OWNER, files));

    // Assert
    expect(refused).toMatchObject({ statusCode: 403, code: 'quota_exceeded' });
    expect(fake.open()).toEqual({});
    expect(fake.store.presignUpload).not.toHaveBeenCalled();
  });

  it('names no index when one file is asked for alone', async () => {
    // Arrange
    const fake = fakeStore();

    // Act
    const refused = await refusal(
      issueUploads(dependencies(fake.store), OWNER, [file('big.png', 1001)], { batch: false }),
    );

    // Assert
    expect(refused.message).toBe('size 1001 exceeds 1000 for image/png');
  });
});
