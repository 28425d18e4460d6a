import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { fileIndexKey, objectKey } from '../../../lib/store/object-key.js';
import { parsePendingMarkerKey, pendingMarkerKey } from '../../../lib/store/pending-markers.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
import { type SweepDependencies, sweepPendingUploads } from '../../../lib/validation/pending-sweep.js';
import {
  parsePendingUploadsEvent,
  pendingUploadsEvent,
} from '../../../lib/validation/pending-uploads-event.js';
import { movableClock } from '../../support/clock.js';
import { unitStore } from '../../support/runtime.js';

const STATE_BUCKET = 'unit-test-state';
const OWNER = { segment: '9f86d081884c7d659a2feaa0c55ad015' };
const MINUTE = 60_000;
const ISSUED = Date.parse('2026-11-23T09:00:00.000Z');
/** How long after its issue a marker is due, and how long a reservation outlives its form. */
const SWEEP_AFTER_MS = 5 * MINUTE;
const GRACE_MS = 60 * MINUTE;
const FORM_MS = 5 * MINUTE;

/**
 * The state bucket (an unversioned key-value store, listed in key order, as
 * S3 pages it) and which upload keys hold anything: what the sweep reads.
 */
class FakeS3 {
  readonly state = new Map<string, string>();
  readonly landed = new Set<string>();
  listings = 0;

  async send(command: object): Promise<unknown> {
    if (command instanceof ListObjectVersionsCommand) {
      const prefix = command.input.Prefix ?? '';
      return { Versions: this.landed.has(prefix) ? [{ Key: prefix, VersionId: 'v1', ETag: '"e"' }] : [] };
    }
    if (command instanceof ListObjectsV2Command) {
      this.listings += 1;
      const { Prefix = '', MaxKeys = 1000, ContinuationToken } = command.input;
      const keys = [...this.state.keys()].filter((key) => key.startsWith(Prefix)).sort();
      const start = ContinuationToken ? keys.findIndex((key) => key > ContinuationToken) : 0;
      const page = start < 0 ? [] : keys.slice(start, start + MaxKeys);
      const truncated = start >= 0 && start + MaxKeys < keys.length;
      return {
        Contents: page.map((Key) => ({ Key })),
        IsTruncated: truncated,
        ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
      };
    }
    const {
      Bucket,
      Key = '',
      Body,
    } = (command as { input: { Bucket?: string; Key?: string; Body?: unknown } }).input;
    if (Bucket !== STATE_BUCKET) throw new Error(`unexpected ${command.constructor.name} on ${Bucket}`);
    if (command instanceof GetObjectCommand) {
      const text = this.state.get(Key);
      if (text === undefined)
        throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
      return { Body: { transformToString: async () => text }, ETag: '"x"' };
    }
    if (command instanceof PutObjectCommand) {
      this.state.set(Key, String(Body));
      return {};
    }
    if (command instanceof DeleteObjectCommand) {
      this.state.delete(Key);
      return {};
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  }

  markers(): string[] {
    return [...this.state.keys()].filter((key) => key.startsWith('pending/')).sort();
  }
}

const s3 = createS3Client({ region: 'us-east-1' });
const store = unitStore(s3);
let fake: FakeS3;
let handOff: MockInstance<(keys: string[]) => Promise<void>>;
const clock = movableClock(ISSUED);

/** An upload issued `minutesAfter` ISSUED, marked pending until its form expires, as the issuer marks it. */
async function issue(minutesAfter = 0): Promise<{ fileId: string; key: string }> {
  const fileId = ulid(ISSUED + minutesAfter * MINUTE);
  const issuedAt = ISSUED + minutesAfter * MINUTE;
  await store.markPending(OWNER, fileId, { until: new Date(issuedAt + FORM_MS) });
  return { fileId, key: objectKey(OWNER, fileId) };
}

/** The file's record, as the validator writes it with its verdict. */
function record(fileId: string): void {
  fake.state.set(
    fileIndexKey(OWNER, fileId),
    JSON.stringify({
      filename: 'cat.png',
      contentType: 'image/png',
      size: 1,
      uploadedAt: new Date(ISSUED).toISOString(),
      clientMetadata: null,
      versionId: 'v1',
      eTag: 'e',
      verdict: { status: 'passed', signature: 'sig' },
    }),
  );
}

const sweep = (overrides: Partial<SweepDependencies> = {}) =>
  sweepPendingUploads({
    store,
    clock,
    handOff: handOff as unknown as SweepDependencies['handOff'],
    sweepAfterMs: SWEEP_AFTER_MS,
    landingGraceMs: GRACE_MS,
    ...overrides,
  });

beforeEach(() => {
  fake = new FakeS3();
  vi.spyOn(s3, 'send').mockImplementation(((command: object) => fake.send(command)) as never);
  handOff = vi.fn(async () => undefined);
  clock.set(ISSUED);
});

describe('pending markers', () => {
  it('are keyed by the time the file id was issued, and read back from their key alone', () => {
    // Arrange
    const fileId = ulid(ISSUED);

    // Act
    const key = pendingMarkerKey(OWNER, fileId);
    const parsed = parsePendingMarkerKey(key);

    // Assert
    expect(key).toBe(`pending/2026-11-23T09:00:00.000Z/${OWNER.segment}/${fileId}`);
    expect(parsed).toEqual({
      markerKey: key,
      key: objectKey(OWNER, fileId),
      segment: OWNER.segment,
      fileId,
      dueAt: new Date(ISSUED),
      issued: true,
    });
    expect(parsePendingMarkerKey(pendingMarkerKey(OWNER, fileId, new Date(ISSUED + MINUTE)))?.issued).toBe(
      false,
    );
    expect(parsePendingMarkerKey(`pending/2026-11-23T09:00:00.000Z/${OWNER.segment}/../x`)).toBeUndefined();
    expect(parsePendingMarkerKey(`pending/not-a-time/${OWNER.segment}/${fileId}`)).toBeUndefined();
  });
});

describe('the pending-uploads event', () => {
  it('names up to 10 upload keys, and nothing else reads as one', () => {
    // Arrange
    const keys = Array.from({ length: 10 }, (_, index) => objectKey(OWNER, ulid(ISSUED + index)));

    // Act
    const parsed = parsePendingUploadsEvent(pendingUploadsEvent(keys));

    // Assert
    expect(parsed).toEqual(keys);
    expect(
      parsePendingUploadsEvent(pendingUploadsEvent([...keys, objectKey(OWNER, ulid())])),
    ).toBeUndefined();
    expect(parsePendingUploadsEvent(pendingUploadsEvent(['share-epochs/x/y']))).toBeUndefined();
    expect(parsePendingUploadsEvent(pendingUploadsEvent([]))).toBeUndefined();
    expect(parsePendingUploadsEvent({ Records: [] })).toBeUndefined();
  });
});

describe('sweepPendingUploads', () => {
  it('reads only the markers due, oldest first, and stops listing at the first one not due', async () => {
    // Arrange: one stuck upload, then 30 recent ones.
    const stuck = await issue(0);
    fake.landed.add(stuck.key);
    for (let index = 0; index < 30; index++) await issue(10);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const report = await sweep({ pageSize: 10 });

    // Assert
    expect(report).toMatchObject({ due: 1, handedOff: 1, more: false });
    expect(fake.listings).toBe(1);
    expect(handOff.mock.calls).toEqual([[[stuck.key]]]);
  });

  it('hands landed files the validator has not recorded to it, 10 a time, and keeps their markers', async () => {
    // Arrange
    const uploads = [];
    for (let index = 0; index < 25; index++) uploads.push(await issue(0));
    for (const upload of uploads) fake.landed.add(upload.key);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const report = await sweep();

    // Assert
    expect(report).toMatchObject({ due: 25, handedOff: 25, failed: 0 });
    expect(handOff.mock.calls.map(([keys]) => keys.length).sort()).toEqual([10, 10, 5]);
    expect(handOff.mock.calls.flatMap(([keys]) => keys).sort()).toEqual(uploads.map(({ key }) => key).sort());
    expect(fake.markers()).toHaveLength(25);
  });

  it('hands a recorded file over once more (its run may have died after the record), the validator dropping the marker', async () => {
    // Arrange
    const upload = await issue(0);
    record(upload.fileId);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    await sweep();

    // Assert
    expect(handOff.mock.calls).toEqual([[[upload.key]]]);
    expect(fake.markers()).toEqual([pendingMarkerKey(OWNER, upload.fileId)]);
  });

  it('moves the marker of an upload with nothing landed yet to when nothing can land, then drops it there', async () => {
    // Arrange
    await issue(0);
    const lapse = new Date(ISSUED + FORM_MS + GRACE_MS);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const first = await sweep();
    clock.set(lapse.getTime() + SWEEP_AFTER_MS - 1);
    const early = await sweep();
    clock.set(lapse.getTime() + SWEEP_AFTER_MS);
    const late = await sweep();

    // Assert
    expect(first).toMatchObject({ due: 1, deferred: 1, handedOff: 0 });
    expect(early.due).toBe(0);
    expect(late).toMatchObject({ due: 1, dropped: 1, handedOff: 0 });
    expect(fake.markers()).toEqual([]);
    expect(handOff).not.toHaveBeenCalled();
  });

  it('hands over a late upload whose marker it moved once it is recorded, and drops that marker itself', async () => {
    // Arrange: nothing landed at the first sweep; the file lands and is judged later (its
    // validator dropped the marker of its issue, which the sweep had moved).
    const upload = await issue(0);
    clock.set(ISSUED + 6 * MINUTE);
    await sweep();
    record(upload.fileId);
    fake.landed.add(upload.key);
    clock.set(ISSUED + FORM_MS + GRACE_MS + SWEEP_AFTER_MS);

    // Act
    const report = await sweep();

    // Assert
    expect(report).toMatchObject({ due: 1, handedOff: 1 });
    expect(handOff.mock.calls).toEqual([[[upload.key]]]);
    expect(fake.markers()).toEqual([]);
  });

  it('drops the marker of a file deleted before it was judged, handing nothing over', async () => {
    // Arrange
    const upload = await issue(0);
    fake.state.set(fileIndexKey(OWNER, upload.fileId), JSON.stringify({ deleted: true }));
    fake.landed.add(upload.key);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const report = await sweep();

    // Assert
    expect(report).toMatchObject({ due: 1, dropped: 1, handedOff: 0 });
    expect(fake.markers()).toEqual([]);
    expect(handOff).not.toHaveBeenCalled();
  });

  it('keeps the markers of files it could not hand over, for the next sweep', async () => {
    // Arrange
    const upload = await issue(0);
    fake.landed.add(upload.key);
    handOff.mockRejectedValueOnce(new Error('throttled'));
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const failed = await sweep();
    const next = await sweep();

    // Assert
    expect(failed).toMatchObject({ due: 1, handedOff: 0, failed: 1 });
    expect(next).toMatchObject({ due: 1, handedOff: 1, failed: 0 });
    expect(fake.markers()).toEqual([pendingMarkerKey(OWNER, upload.fileId)]);
  });

  it('reads at most its pages of markers in one sweep, and says more are due', async () => {
    // Arrange
    for (let index = 0; index < 5; index++) fake.landed.add((await issue(0)).key);
    clock.set(ISSUED + 6 * MINUTE);

    // Act
    const report = await sweep({ pageSize: 2, maxPages: 2 });

    // Assert
    expect(report).toMatchObject({ due: 4, handedOff: 4, more: true });
    expect(fake.listings).toBe(2);
  });
});
