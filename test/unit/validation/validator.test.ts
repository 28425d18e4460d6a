import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  type PutObjectTaggingCommandInput,
  S3ServiceException,
  type Tag,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { parseUploadRules } from '../../../lib/config/upload-rules.js';
import { createFileStore } from '../../../lib/store/file-store.js';
import { META, TAG } from '../../../lib/store/object-encoding.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
import {
  VALIDATION_CONCURRENCY,
  type ValidatorDependencies,
  validateUploadEvent as validateWith,
} from '../../../lib/validation/validator.js';

const s3 = createS3Client({ region: 'us-east-1' });
const validator: ValidatorDependencies = {
  store: createFileStore({ s3, bucket: 'unit-test-bucket' }),
  rules: parseUploadRules(undefined),
};
const validateUploadEvent = (event: unknown) => validateWith(validator, event);

const SEGMENT = '9f86d081884c7d659a2feaa0c55ad015';
const KEY = `uploads/${SEGMENT}/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E`;
const MiB = 1024 * 1024;

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');

interface StoredObject {
  body: Uint8Array;
  eTag: string;
  contentType: string;
  metadata: Record<string, string>;
  tags: Tag[];
}

const s3Error = (name: string, httpStatusCode: number) =>
  new S3ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });

const bare = (eTag: string | undefined) => eTag?.replace(/"/g, '');

/** An in-memory bucket that answers the four calls the validator makes, as S3 would. */
class FakeBucket {
  readonly objects = new Map<string, StoredObject>();
  /** Errors to throw for a key, instead of answering. */
  readonly failures = new Map<string, Error>();
  inFlight = 0;
  maxInFlight = 0;

  put(
    key: string,
    body: Uint8Array,
    init: Partial<StoredObject> & { declared?: Partial<Record<'type' | 'size', string>> } = {},
  ) {
    const declaredType = init.declared?.type ?? 'image/png';
    const metadata: Record<string, string> = { [META.filename]: 'cat.png', [META.owner]: 'auth0%7C123' };
    if (declaredType) metadata[META.declaredType] = declaredType;
    const declaredSize = init.declared?.size ?? String(body.length);
    if (declaredSize) metadata[META.declaredSize] = declaredSize;
    this.objects.set(key, {
      body,
      eTag: init.eTag ?? 'e1b849f9631ffc1829b2e31402373e3c',
      contentType: init.contentType ?? declaredType ?? 'binary/octet-stream',
      metadata,
      tags: init.tags ?? [{ Key: TAG.status, Value: 'pending' }],
    });
  }

  async send(command: object): Promise<unknown> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return this.answer(command);
    } finally {
      this.inFlight -= 1;
    }
  }

  private answer(command: object): unknown {
    const { Key, IfMatch } = (command as { input: { Key: string; IfMatch?: string } }).input;
    const failure = this.failures.get(Key);
    if (failure) throw failure;
    const object = this.objects.get(Key);
    if (!object)
      throw command instanceof HeadObjectCommand ? s3Error('NotFound', 404) : s3Error('NoSuchKey', 404);
    if (IfMatch !== undefined && bare(IfMatch) !== object.eTag) throw s3Error('PreconditionFailed', 412);
    if (command instanceof HeadObjectCommand) {
      return {
        ContentLength: object.body.length,
        ContentType: object.contentType,
        ETag: `"${object.eTag}"`,
        Metadata: object.metadata,
      };
    }
    if (command instanceof GetObjectTaggingCommand) return { TagSet: object.tags.map((tag) => ({ ...tag })) };
    if (command instanceof GetObjectCommand) {
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(command.input.Range ?? '') ?? [];
      const slice = object.body.subarray(Number(first), Number(last) + 1);
      return { Body: Readable.from([Buffer.from(slice)]), ContentLength: slice.length };
    }
    if (command instanceof PutObjectTaggingCommand) {
      object.tags = command.input.Tagging?.TagSet ?? [];
      return {};
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  }
}

/** A fresh copy of a genuine AWS S3 event fixture. */
function loadEvent(name: string): S3Event {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/s3-events/${name}`, import.meta.url), 'utf8'),
  ) as S3Event;
}

/** An ObjectCreated:Post event for each key (the fixture's record, cloned). */
function eventFor(...keys: string[]): S3Event {
  const [record] = loadEvent('object-created-post.json').Records;
  if (!record) throw new Error('fixture has no record');
  return {
    Records: keys.map((key) => {
      const copy = structuredClone(record);
      copy.s3.object.key = key;
      return copy;
    }),
  };
}

const tagsOf = (tags: Tag[] | undefined) =>
  Object.fromEntries((tags ?? []).map((tag) => [tag.Key, tag.Value]));

let bucket: FakeBucket;
let send: MockInstance<(command: object) => Promise<unknown>>;
let stdout: MockInstance;

const commands = <T extends object>(type: new (...args: never[]) => T): T[] =>
  send.mock.calls.map(([command]) => command).filter((command): command is T => command instanceof type);
const puts = (): PutObjectTaggingCommandInput[] =>
  commands(PutObjectTaggingCommand).map((command) => command.input);

/** EMF documents written to stdout by the metrics module. */
function emfDocuments(): Record<string, unknown>[] {
  return stdout.mock.calls
    .flatMap(([chunk]) => String(chunk).split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeEach(() => {
  bucket = new FakeBucket();
  send = vi.spyOn(s3, 'send') as unknown as MockInstance<(command: object) => Promise<unknown>>;
  send.mockImplementation((command) => bucket.send(command));
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('validateUploadEvent', () => {
  it('tags a real PNG passed with its detected type, keeping other tags', async () => {
    // Arrange
    bucket.put(KEY, PNG, {
      tags: [
        { Key: TAG.status, Value: 'pending' },
        { Key: 'team', Value: 'blue' },
      ],
    });

    // Act
    const outcomes = await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(tagsOf(bucket.objects.get(KEY)?.tags)).toEqual({
      [TAG.status]: 'passed',
      [TAG.validatedEtag]: 'e1b849f9631ffc1829b2e31402373e3c',
      [TAG.detectedType]: 'image/png',
      team: 'blue',
    });
  });

  it('reads at most the first 4100 bytes, conditioned on the event ETag', async () => {
    // Arrange
    bucket.put(KEY, Buffer.concat([PNG, Buffer.alloc(MiB)]), {
      declared: { size: String(PNG.length + MiB) },
    });

    // Act
    await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    const [get] = commands(GetObjectCommand);
    expect(get?.input.Range).toBe('bytes=0-4099');
    const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(get?.input.Range ?? '') ?? [];
    expect(Number(last) - Number(first) + 1).toBeLessThanOrEqual(4100);
    expect(get?.input.IfMatch).toBe('"e1b849f9631ffc1829b2e31402373e3c"');
    expect(commands(HeadObjectCommand)[0]?.input.IfMatch).toBe('"e1b849f9631ffc1829b2e31402373e3c"');
    expect(tagsOf(bucket.objects.get(KEY)?.tags)[TAG.status]).toBe('passed');
  });

  it.each([
    ['HTML declared as image/png', HTML, {}, 'unknown_type', undefined],
    ['a PNG declared as image/jpeg', PNG, { declared: { type: 'image/jpeg' } }, 'type_mismatch', 'image/png'],
    [
      'a JPEG served with another Content-Type',
      JPEG,
      { declared: { type: 'image/jpeg' }, contentType: 'text/html' },
      'type_mismatch',
      'image/jpeg',
    ],
    ['a PNG of another size than declared', PNG, { declared: { size: '10' } }, 'size_mismatch', 'image/png'],
    [
      'a PNG without declared-size metadata',
      PNG,
      { declared: { size: '' } },
      'missing_metadata',
      'image/png',
    ],
    [
      'a PNG without declared-type metadata',
      PNG,
      { declared: { type: '' }, contentType: 'image/png' },
      'missing_metadata',
      'image/png',
    ],
    [
      'text declared as text/plain (not in the default rules)',
      Buffer.from('hello'),
      { declared: { type: 'text/plain' } },
      'type_not_allowed',
      'text/plain',
    ],
  ] as const)('tags %s failed', async (_, body, init, reason, detectedType) => {
    // Arrange
    bucket.put(KEY, body, init);

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([
      { key: KEY, status: 'failed', reason, ...(detectedType ? { detectedType } : {}) },
    ]);
    expect(tagsOf(bucket.objects.get(KEY)?.tags)).toEqual({
      [TAG.status]: 'failed',
      [TAG.validatedEtag]: 'e1b849f9631ffc1829b2e31402373e3c',
      [TAG.reason]: reason,
      ...(detectedType ? { [TAG.detectedType]: detectedType } : {}),
    });
  });

  it('tags a PNG above 10 MiB failed too_large', async () => {
    // Arrange
    const body = Buffer.concat([PNG, Buffer.alloc(10 * MiB + 1 - PNG.length)]);
    bucket.put(KEY, body);

    // Act
    const [outcome] = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcome).toEqual({ key: KEY, status: 'failed', reason: 'too_large', detectedType: 'image/png' });
  });

  it('emits EMF counts: validationFailed with its reason, validationPassed buffered', async () => {
    // Arrange
    const other = `uploads/${SEGMENT}/01JDQ7ZK2A4B6C8D0E1F3G5H7J`;
    bucket.put(KEY, HTML);
    bucket.put(other, PNG);

    // Act
    await validateUploadEvent(eventFor(KEY, other));

    // Assert
    const failed = emfDocuments().filter((doc) => 'validationFailed' in doc);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ validationFailed: 1, reason: 'unknown_type', service: 'presign' });
    expect(failed[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'Presign', Dimensions: [expect.arrayContaining(['service', 'reason'])] },
        ],
      },
    });
    // Passed counts wait in the buffer for the handler's logMetrics flush.
    expect(emfDocuments().some((doc) => 'validationPassed' in doc)).toBe(false);
  });

  it.each(['passed', 'failed'])(
    'leaves an object already %s as it is (redelivered event)',
    async (status) => {
      // Arrange: a verdict on these very bytes (its ETag is the object's)
      bucket.put(KEY, HTML, {
        tags: [
          { Key: TAG.status, Value: status },
          { Key: TAG.validatedEtag, Value: 'e1b849f9631ffc1829b2e31402373e3c' },
        ],
      });

      // Act
      const outcomes = await validateUploadEvent(eventFor(KEY));

      // Assert
      expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
      expect(puts()).toEqual([]);
      expect(commands(GetObjectCommand)).toEqual([]);
    },
  );

  it.each([
    ['another ETag', [{ Key: TAG.validatedEtag, Value: '0badc0ffee0badc0ffee0badc0ffee00' }]],
    ['no ETag', []],
  ])(
    'judges anew bytes that carry a passed verdict about %s (the form was posted again)',
    async (_, etag) => {
      // Arrange: HTML now at the key, tagged passed by a verdict about other bytes
      bucket.put(KEY, HTML, { tags: [{ Key: TAG.status, Value: 'passed' }, ...etag] });

      // Act
      const outcomes = await validateUploadEvent(eventFor(KEY));

      // Assert
      expect(outcomes).toEqual([{ key: KEY, status: 'failed', reason: 'unknown_type' }]);
      expect(tagsOf(bucket.objects.get(KEY)?.tags)).toMatchObject({
        [TAG.status]: 'failed',
        [TAG.validatedEtag]: 'e1b849f9631ffc1829b2e31402373e3c',
      });
    },
  );

  it('skips a stale event: the key holds a newer object (ETag differs)', async () => {
    // Arrange
    bucket.put(KEY, HTML, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'stale' }]);
    expect(puts()).toEqual([]);
    expect(tagsOf(bucket.objects.get(KEY)?.tags)[TAG.status]).toBe('pending');
  });

  it('judges the new object at a key when its own event arrives', async () => {
    // Arrange: the new object landed pending (the POST policy pins the tag).
    bucket.put(KEY, PNG, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });
    const event = eventFor(KEY);
    const [record] = event.Records;
    if (record) record.s3.object.eTag = '0badc0ffee0badc0ffee0badc0ffee00';

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
  });

  it('skips an object replaced between its HEAD and its ranged read', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    send.mockImplementation(async (command) => {
      if (command instanceof GetObjectCommand)
        bucket.put(KEY, HTML, { eTag: 'ffffffffffffffffffffffffffffffff' });
      return bucket.send(command);
    });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'stale' }]);
    expect(puts()).toEqual([]);
  });

  it('logs and skips an object deleted before validation', async () => {
    // Arrange: nothing stored at the key.

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'vanished' }]);
    expect(puts()).toEqual([]);
  });

  it('ignores records for keys that are not API uploads, without calling S3', async () => {
    // Arrange
    const event = loadEvent('encoded-keys-put.json');

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes.map((outcome) => outcome.status === 'skipped' && outcome.skip)).toEqual(
      Array(5).fill('ignored'),
    );
    expect(send).not.toHaveBeenCalled();
  });

  it('ignores records for another bucket and events other than ObjectCreated', async () => {
    // Arrange
    const event = eventFor(KEY, KEY);
    const [otherBucket, removed] = event.Records;
    if (!otherBucket || !removed) throw new Error('expected two records');
    otherBucket.s3.bucket.name = 'someone-elses-bucket';
    removed.eventName = 'ObjectRemoved:Delete';
    bucket.put(KEY, PNG);

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes).toEqual([
      { key: KEY, status: 'skipped', skip: 'ignored' },
      { key: KEY, status: 'skipped', skip: 'ignored' },
    ]);
    expect(send).not.toHaveBeenCalled();
  });

  it('keeps within 10 tags on an object that already carries 8', async () => {
    // Arrange
    const foreign = Array.from({ length: 7 }, (_, i) => ({ Key: `team-${i}`, Value: `v${i}` }));
    bucket.put(KEY, HTML, { tags: [{ Key: TAG.status, Value: 'pending' }, ...foreign] });

    // Act
    await validateUploadEvent(eventFor(KEY));

    // Assert
    const [put] = puts();
    expect(put?.Tagging?.TagSet).toHaveLength(10);
    expect(tagsOf(put?.Tagging?.TagSet)).toMatchObject({
      [TAG.status]: 'failed',
      [TAG.reason]: 'unknown_type',
    });
    expect(put?.Tagging?.TagSet).toEqual(expect.arrayContaining(foreign));
  });

  it('tags every other record when one fails unexpectedly, then rejects', async () => {
    // Arrange
    const event = loadEvent('batch-post.json');
    const keys = event.Records.map((record) => decodeURIComponent(record.s3.object.key));
    const [first, broken, third] = keys as [string, string, string];
    bucket.put(first, PNG);
    bucket.put(broken, PNG);
    bucket.put(third, HTML);
    bucket.failures.set(broken, s3Error('InternalError', 500));
    for (const record of event.Records) record.s3.object.eTag = 'e1b849f9631ffc1829b2e31402373e3c';

    // Act
    const result = validateUploadEvent(event);

    // Assert
    await expect(result).rejects.toThrow(AggregateError);
    await expect(result).rejects.toMatchObject({
      message: '1 of 3 records could not be validated',
      errors: [{ name: 'InternalError' }],
    });
    expect(tagsOf(bucket.objects.get(first)?.tags)[TAG.status]).toBe('passed');
    expect(tagsOf(bucket.objects.get(broken)?.tags)[TAG.status]).toBe('pending');
    expect(tagsOf(bucket.objects.get(third)?.tags)[TAG.status]).toBe('failed');
  });

  it('rejects on access denied, leaving the object pending', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    bucket.failures.set(KEY, s3Error('AccessDenied', 403));

    // Act / Assert
    await expect(validateUploadEvent(eventFor(KEY))).rejects.toThrow('1 of 1 records could not be validated');
    expect(tagsOf(bucket.objects.get(KEY)?.tags)[TAG.status]).toBe('pending');
  });

  it(`validates at most ${VALIDATION_CONCURRENCY} records at a time`, async () => {
    // Arrange
    const keys = Array.from(
      { length: 12 },
      (_, i) => `uploads/${SEGMENT}/01JDQ7ZJ8W3N4T6X9Y2B5C7D${String(i).padStart(2, '0')}`,
    );
    for (const key of keys) bucket.put(key, PNG);

    // Act
    const outcomes = await validateUploadEvent(eventFor(...keys));

    // Assert
    expect(outcomes.every((outcome) => outcome.status === 'passed')).toBe(true);
    // Each record sends HEAD and GetObjectTagging together: at most two calls per record in flight.
    expect(bucket.maxInFlight).toBeGreaterThan(2);
    expect(bucket.maxInFlight).toBeLessThanOrEqual(2 * VALIDATION_CONCURRENCY);
  });
});
