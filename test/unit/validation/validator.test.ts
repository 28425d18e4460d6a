import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type PutObjectTaggingCommandInput,
  S3ServiceException,
  type Tag,
} from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { parseUploadRules } from '../../../lib/config/upload-rules.js';
import { type VerdictClaims, verdictVerifier } from '../../../lib/core/verdict-signature.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import { fileIndexKey, parseObjectKey } from '../../../lib/store/object-key.js';
import { pendingMarkerKey } from '../../../lib/store/pending-markers.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
import { parseQueueEvent } from '../../../lib/validation/s3-event.js';
import {
  VALIDATION_CONCURRENCY,
  type ValidatorDependencies,
  validateQueueBatch,
  validateUploadEvent as validateWith,
} from '../../../lib/validation/validator.js';
import { webhookId } from '../../../lib/webhooks/file-validated-event.js';
import { testClock } from '../../support/clock.js';
import { unitStore } from '../../support/runtime.js';
import { signedVerdictTags, signTestVerdict, TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const s3 = createS3Client({ region: 'us-east-1' });
const validator: ValidatorDependencies = {
  store: unitStore(s3),
  rules: parseUploadRules(undefined),
  limits: { rateWindowMs: 3_600_000, landingGraceMs: 3_600_000 },
  clock: testClock,
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

/** One version of an object, as a versioned bucket keeps it. */
interface StoredVersion {
  versionId: string;
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
const ETAG = 'e1b849f9631ffc1829b2e31402373e3c';

/** The state bucket the unit tests' store keeps file records in. */
const STATE_BUCKET = 'unit-test-state';

/**
 * An in-memory versioned bucket (and the unversioned state bucket beside it)
 * that answers the calls the validator makes, as S3 would: a read names a
 * version or gets the key's latest, ListObjectVersions lists each key's
 * versions newest first, a ranged GET says how many tags the version has, a
 * DeleteObject without a version leaves a delete marker, and the state
 * bucket's writes honour If-None-Match and If-Match.
 */
class FakeBucket {
  /** Each key's versions, oldest (the file) first. */
  readonly versions = new Map<string, StoredVersion[]>();
  /** Keys with a delete marker (DELETE /files). */
  readonly markers = new Set<string>();
  /** Errors to throw for a key (or a listing's prefix), instead of answering. */
  readonly failures = new Map<string, Error>();
  /** The state bucket's objects: body and ETag. */
  readonly state = new Map<string, { body: string; eTag: string }>();
  inFlight = 0;
  maxInFlight = 0;
  private made = 0;

  /** Stores a new version under `key` (the latest), as a POST of the upload form does. */
  put(
    key: string,
    body: Uint8Array,
    init: Partial<StoredVersion> & { declared?: Partial<Record<'type' | 'size', string>> } = {},
  ): StoredVersion {
    const declaredType = init.declared?.type ?? 'image/png';
    const metadata: Record<string, string> = {
      [META.filename]: encodeMetaValue('cat.png'),
      [META.owner]: 'auth0%7C123',
    };
    if (declaredType) metadata[META.declaredType] = declaredType;
    const declaredSize = init.declared?.size ?? String(body.length);
    if (declaredSize) metadata[META.declaredSize] = declaredSize;
    this.made += 1;
    const version: StoredVersion = {
      // Ceph RGW's version ids carry dots and underscores.
      versionId: init.versionId ?? `rgw.${this.made}_Xq9zPmL2vR7tW0yK4nH8sD1f`,
      body,
      eTag: init.eTag ?? ETAG,
      contentType: init.contentType ?? declaredType ?? 'binary/octet-stream',
      metadata,
      tags: init.tags ?? [{ Key: TAG.status, Value: 'pending' }],
    };
    this.versions.set(key, [...(this.versions.get(key) ?? []), version]);
    return version;
  }

  /** The key's first version: the file. */
  first(key: string): StoredVersion | undefined {
    return this.versions.get(key)?.[0];
  }

  /** The record of the file at an upload key, as the validator wrote it (parsed). */
  record(key: string): Record<string, unknown> | undefined {
    const { segment, fileId } = parseObjectKey(key) as { segment: string; fileId: string };
    const stored = this.state.get(fileIndexKey({ segment }, fileId));
    return stored ? (JSON.parse(stored.body) as Record<string, unknown>) : undefined;
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

  private list(prefix: string): unknown {
    const failure = this.failures.get(prefix);
    if (failure) throw failure;
    const Versions = [...this.versions]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, versions]) =>
        versions
          .map((version, index) => ({
            Key: key,
            VersionId: version.versionId,
            ETag: `"${version.eTag}"`,
            IsLatest: index === versions.length - 1,
            Size: version.body.length,
          }))
          .reverse(),
      );
    const DeleteMarkers = [...this.markers]
      .filter((key) => key.startsWith(prefix))
      .map((key) => ({ Key: key, VersionId: `marker-${key}`, IsLatest: true }));
    return { IsTruncated: false, Versions, DeleteMarkers };
  }

  private answerState(command: object): unknown {
    const {
      Key = '',
      Body,
      IfNoneMatch,
      IfMatch,
    } = (command as { input: { Key?: string; Body?: unknown; IfNoneMatch?: string; IfMatch?: string } })
      .input;
    const stored = this.state.get(Key);
    if (command instanceof GetObjectCommand) {
      if (!stored) throw s3Error('NoSuchKey', 404);
      return { Body: { transformToString: async () => stored.body }, ETag: `"${stored.eTag}"` };
    }
    if (command instanceof PutObjectCommand) {
      if (IfNoneMatch === '*' && stored) throw s3Error('PreconditionFailed', 412);
      if (IfMatch !== undefined && (!stored || bare(IfMatch) !== stored.eTag)) {
        throw s3Error('PreconditionFailed', 412);
      }
      this.made += 1;
      this.state.set(Key, { body: String(Body), eTag: `state${this.made}` });
      return {};
    }
    if (command instanceof DeleteObjectCommand) {
      this.state.delete(Key);
      return {};
    }
    throw new Error(`unexpected state command ${command.constructor.name}`);
  }

  private answer(command: object): unknown {
    if (command instanceof ListObjectVersionsCommand) return this.list(command.input.Prefix ?? '');
    if ((command as { input: { Bucket?: string } }).input.Bucket === STATE_BUCKET) {
      return this.answerState(command);
    }
    const { Key, IfMatch, VersionId } = (
      command as { input: { Key: string; IfMatch?: string; VersionId?: string } }
    ).input;
    const failure = this.failures.get(Key);
    if (failure) throw failure;
    const versions = this.versions.get(Key) ?? [];
    if (command instanceof DeleteObjectCommand) {
      if (!VersionId) this.markers.add(Key);
      else
        this.versions.set(
          Key,
          versions.filter((version) => version.versionId !== VersionId),
        );
      return {};
    }
    const object = VersionId
      ? versions.find((version) => version.versionId === VersionId)
      : this.markers.has(Key)
        ? undefined
        : versions.at(-1);
    if (!object) {
      if (command instanceof HeadObjectCommand) throw s3Error('NotFound', 404);
      throw VersionId ? s3Error('NoSuchVersion', 404) : s3Error('NoSuchKey', 404);
    }
    if (IfMatch !== undefined && bare(IfMatch) !== object.eTag) throw s3Error('PreconditionFailed', 412);
    const head = {
      ContentType: object.contentType,
      ETag: `"${object.eTag}"`,
      VersionId: object.versionId,
      Metadata: object.metadata,
      LastModified: new Date('2026-11-23T10:00:01.000Z'),
      TagCount: object.tags.length,
    };
    if (command instanceof HeadObjectCommand) return { ...head, ContentLength: object.body.length };
    if (command instanceof GetObjectTaggingCommand) {
      return { TagSet: object.tags.map((tag) => ({ ...tag })), VersionId: object.versionId };
    }
    if (command instanceof GetObjectCommand) {
      if (object.body.length === 0) throw s3Error('InvalidRange', 416);
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(command.input.Range ?? '') ?? [];
      const slice = object.body.subarray(Number(first), Number(last) + 1);
      return {
        ...head,
        Body: Readable.from([Buffer.from(slice)]),
        ContentLength: slice.length,
        ContentRange: `bytes ${first}-${Number(first) + slice.length - 1}/${object.body.length}`,
      };
    }
    if (command instanceof PutObjectTaggingCommand) {
      object.tags = command.input.Tagging?.TagSet ?? [];
      return { VersionId: object.versionId };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  }
}

const verify = verdictVerifier(TEST_VERDICT_KEYS.publicKey);

/** The claims a verdict on `version` under KEY is signed for. */
const claimsFor = (
  version: Pick<StoredVersion, 'versionId' | 'eTag'>,
  verdict: Pick<VerdictClaims, 'status' | 'reason' | 'detectedType'>,
  key = KEY,
): VerdictClaims => ({
  bucket: 'unit-test-bucket',
  key,
  versionId: version.versionId,
  eTag: version.eTag,
  ...verdict,
});

/** A genuine verdict on `version`, as the validator tags it. */
const genuine = (...args: Parameters<typeof claimsFor>): Tag[] =>
  Object.entries(signedVerdictTags(claimsFor(...args))).map(([Key, Value]) => ({ Key, Value }));

/** A fresh copy of a genuine AWS S3 event fixture. */
function loadEvent(name: string): S3Event {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/s3-events/${name}`, import.meta.url), 'utf8'),
  ) as S3Event;
}

/**
 * An ObjectCreated:Post event for each key (the fixture's record, cloned),
 * naming the key's latest version as S3 does in a versioned bucket.
 */
function eventFor(...keys: string[]): S3Event {
  return versionEvent(...keys.map((key) => ({ key, version: bucket.versions.get(key)?.at(-1) })));
}

/** An ObjectCreated:Post event for each version, naming its id and ETag. */
function versionEvent(
  ...records: { key: string; version?: Pick<StoredVersion, 'versionId' | 'eTag'> | undefined }[]
): S3Event {
  const [record] = loadEvent('object-created-post.json').Records;
  if (!record) throw new Error('fixture has no record');
  return {
    Records: records.map(({ key, version }) => {
      const copy = structuredClone(record);
      copy.s3.object.key = key;
      if (version) {
        copy.s3.object.versionId = version.versionId;
        copy.s3.object.eTag = version.eTag;
      }
      return copy;
    }),
  };
}

const tagsOf = (tags: Tag[] | undefined) =>
  Object.fromEntries((tags ?? []).map((tag) => [tag.Key, tag.Value]));

let bucket: FakeBucket;
let send: MockInstance<(command: object) => Promise<unknown>>;
let stdout: MockInstance;

/** The commands of a type the validator sent to the uploads bucket (the state bucket's are left out). */
const commands = <T extends object>(type: new (...args: never[]) => T): T[] =>
  send.mock.calls
    .map(([command]) => command)
    .filter((command): command is T => command instanceof type)
    .filter((command) => (command as { input: { Bucket?: string } }).input.Bucket !== STATE_BUCKET);
/** Every request the validator sent, to either bucket, by command name. */
const requestNames = () => send.mock.calls.map(([command]) => command.constructor.name);
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

/** The verdict signature tagged on a version, if any. */
const signatureOf = (tags: Tag[] | undefined) => tagsOf(tags)[TAG.signature];

describe('validateUploadEvent', () => {
  it('tags a real PNG passed with its detected type and a signature for its version, keeping other tags', async () => {
    // Arrange
    const version = bucket.put(KEY, PNG, {
      tags: [
        { Key: TAG.status, Value: 'pending' },
        { Key: 'team', Value: 'blue' },
      ],
    });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(tagsOf(bucket.first(KEY)?.tags)).toEqual({
      [TAG.status]: 'passed',
      [TAG.validatedEtag]: ETAG,
      [TAG.signature]: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
      [TAG.detectedType]: 'image/png',
      team: 'blue',
    });
    const signature = signatureOf(bucket.first(KEY)?.tags);
    expect(verify(claimsFor(version, { status: 'passed', detectedType: 'image/png' }), signature)).toBe(true);
    expect(puts()).toEqual([expect.objectContaining({ Key: KEY, VersionId: version.versionId })]);
  });

  it('pins every read and the tagging to the version its event names', async () => {
    // Arrange
    const version = bucket.put(KEY, PNG);

    // Act
    await validateUploadEvent(eventFor(KEY));

    // Assert: one ranged GET tells size, type, metadata and the tag count (only the pending tag:
    // no tag read, no HEAD); the key is listed once, to find its first version.
    expect(commands(HeadObjectCommand)).toEqual([]);
    expect(commands(GetObjectTaggingCommand)).toEqual([]);
    expect(commands(GetObjectCommand).map((command) => command.input.VersionId)).toEqual([version.versionId]);
    expect(puts().map((input) => input.VersionId)).toEqual([version.versionId]);
    expect(commands(ListObjectVersionsCommand).map((command) => command.input)).toEqual([
      { Bucket: 'unit-test-bucket', Prefix: KEY },
    ]);
  });

  it('decides a new upload with six S3 requests: its record, one listing, one ranged GET, its tags, its record again and its pending marker dropped', async () => {
    // Arrange
    bucket.put(KEY, PNG);

    // Act
    await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(requestNames()).toEqual([
      'GetObjectCommand',
      'ListObjectVersionsCommand',
      'GetObjectCommand',
      'PutObjectTaggingCommand',
      'PutObjectCommand',
      'DeleteObjectCommand',
    ]);
    const [marker] = send.mock.calls
      .map(([command]) => command)
      .filter((c) => c instanceof DeleteObjectCommand);
    expect((marker as DeleteObjectCommand).input).toEqual({
      Bucket: STATE_BUCKET,
      Key: pendingMarkerKey(parseObjectKey(KEY) as { segment: string }, '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E'),
    });
  });

  it('signs for the version HEAD reports when the event names none', async () => {
    // Arrange: the fixture's record carries no versionId.
    const version = bucket.put(KEY, PNG);

    // Act
    const outcomes = await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    const signature = signatureOf(bucket.first(KEY)?.tags);
    expect(verify(claimsFor(version, { status: 'passed', detectedType: 'image/png' }), signature)).toBe(true);
  });

  it('reads at most the first 4100 bytes, of the version judged and conditioned on its ETag', async () => {
    // Arrange
    const version = bucket.put(KEY, Buffer.concat([PNG, Buffer.alloc(MiB)]), {
      declared: { size: String(PNG.length + MiB) },
    });

    // Act
    await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    const [get] = commands(GetObjectCommand);
    expect(get?.input.Range).toBe('bytes=0-4099');
    const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(get?.input.Range ?? '') ?? [];
    expect(Number(last) - Number(first) + 1).toBeLessThanOrEqual(4100);
    expect(get?.input.IfMatch).toBe(`"${ETAG}"`);
    expect(get?.input.VersionId).toBe(version.versionId);
    expect(commands(HeadObjectCommand)).toEqual([]);
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
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
  ] as const)('tags %s failed, signed', async (_, body, init, reason, detectedType) => {
    // Arrange
    const version = bucket.put(KEY, body, init);

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([
      { key: KEY, status: 'failed', reason, ...(detectedType ? { detectedType } : {}) },
    ]);
    const tags = bucket.first(KEY)?.tags;
    expect(tagsOf(tags)).toEqual({
      [TAG.status]: 'failed',
      [TAG.validatedEtag]: ETAG,
      [TAG.signature]: expect.any(String),
      [TAG.reason]: reason,
      ...(detectedType ? { [TAG.detectedType]: detectedType } : {}),
    });
    const verdict = { status: 'failed' as const, reason, ...(detectedType ? { detectedType } : {}) };
    expect(verify(claimsFor(version, verdict), signatureOf(tags))).toBe(true);
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

  it.each([
    ['passed', { status: 'passed', detectedType: 'image/png' }],
    ['failed', { status: 'failed', reason: 'unknown_type' }],
  ] as const)(
    'leaves a version already %s by a signed verdict as it is (redelivered event)',
    async (_, verdict) => {
      // Arrange: the file judged and recorded, then its tags set to the validator's own verdict on
      // this very version (one a judgment of these bytes would overturn).
      const version = bucket.put(KEY, HTML);
      await validateUploadEvent(eventFor(KEY));
      version.tags = genuine(version, verdict);
      send.mockClear();

      // Act
      const outcomes = await validateUploadEvent(eventFor(KEY));

      // Assert: nothing re-judged or re-tagged, no byte read; the record follows the tags.
      expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
      expect(puts()).toEqual([]);
      expect(commands(GetObjectCommand)).toEqual([]);
      expect(bucket.record(KEY)?.verdict).toMatchObject(verdict);
    },
  );

  it('records the verdict its tags carry when a run failed between tagging and recording', async () => {
    // Arrange: the validator's own verdict on the version, and no record of the file.
    const version = bucket.put(KEY, PNG);
    version.tags = genuine(version, { status: 'passed', detectedType: 'image/png' });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
    expect(puts()).toEqual([]);
    expect(bucket.record(KEY)).toMatchObject({
      versionId: version.versionId,
      eTag: ETAG,
      verdict: { status: 'passed', detectedType: 'image/png', signature: signatureOf(version.tags) },
    });
  });

  it.each([
    [
      'carries no signature (any holder of the upload role can tag)',
      () => [
        { Key: TAG.status, Value: 'passed' },
        { Key: TAG.validatedEtag, Value: ETAG },
      ],
    ],
    [
      'carries a made-up signature',
      () => [
        { Key: TAG.status, Value: 'passed' },
        { Key: TAG.validatedEtag, Value: ETAG },
        { Key: TAG.signature, Value: 'A'.repeat(86) },
      ],
    ],
    [
      'is signed for another ETag (the form was posted again)',
      () =>
        genuine(
          { versionId: 'rgw.1_Xq9zPmL2vR7tW0yK4nH8sD1f', eTag: '0badc0ffee0badc0ffee0badc0ffee00' },
          {
            status: 'passed',
            detectedType: 'image/png',
          },
        ),
    ],
    [
      'is signed for another version',
      () =>
        genuine(
          { versionId: 'another.version_id', eTag: ETAG },
          { status: 'passed', detectedType: 'image/png' },
        ),
    ],
    [
      'is signed for another key',
      () =>
        genuine(
          { versionId: 'rgw.1_Xq9zPmL2vR7tW0yK4nH8sD1f', eTag: ETAG },
          { status: 'passed' },
          `uploads/${SEGMENT}/01JDQ7ZK2A4B6C8D0E1F3G5H7J`,
        ),
    ],
    [
      'says passed over a signature for failed',
      () => {
        const failed = genuine(
          { versionId: 'rgw.1_Xq9zPmL2vR7tW0yK4nH8sD1f', eTag: ETAG },
          { status: 'failed', reason: 'unknown_type' },
        );
        return failed.map((tag) => (tag.Key === TAG.status ? { ...tag, Value: 'passed' } : tag));
      },
    ],
  ])('judges anew a version whose passed verdict %s', async (_, tags) => {
    // Arrange: HTML tagged passed, but not by the validator for these bytes
    const version = bucket.put(KEY, HTML, { tags: tags() });
    expect(version.versionId).toBe('rgw.1_Xq9zPmL2vR7tW0yK4nH8sD1f');

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'failed', reason: 'unknown_type' }]);
    const written = bucket.first(KEY)?.tags;
    expect(tagsOf(written)).toMatchObject({ [TAG.status]: 'failed', [TAG.validatedEtag]: ETAG });
    expect(
      verify(claimsFor(version, { status: 'failed', reason: 'unknown_type' }), signatureOf(written)),
    ).toBe(true);
  });

  it('skips an event naming no version whose bytes no version holds any more', async () => {
    // Arrange: the key holds other bytes than the event's ETag.
    bucket.put(KEY, HTML, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });

    // Act
    const outcomes = await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'vanished' }]);
    expect(puts()).toEqual([]);
    expect(commands(GetObjectCommand)).toEqual([]);
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('pending');
  });

  it('skips as stale a record S3 answers 412 for (its condition on the ETag failed)', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    send.mockImplementation(async (command) => {
      if (command instanceof GetObjectCommand) throw s3Error('PreconditionFailed', 412);
      return bucket.send(command);
    });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'stale' }]);
    expect(puts()).toEqual([]);
  });

  it('judges the new object at a key when its own event arrives', async () => {
    // Arrange: the new object landed pending (the POST policy pins the tag).
    bucket.put(KEY, PNG, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
  });

  it('judges the version with the event’s ETag when the event names none, even if another is posted during its read', async () => {
    // Arrange
    const first = bucket.put(KEY, PNG);
    send.mockImplementation(async (command) => {
      if (
        command instanceof GetObjectCommand &&
        command.input.Bucket !== STATE_BUCKET &&
        bucket.versions.get(KEY)?.length === 1
      )
        bucket.put(KEY, HTML, { eTag: 'ffffffffffffffffffffffffffffffff' });
      return bucket.send(command);
    });

    // Act
    const outcomes = await validateUploadEvent(loadEvent('object-created-post.json'));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(puts().map((input) => input.VersionId)).toEqual([first.versionId]);
    expect(tagsOf(bucket.versions.get(KEY)?.[1]?.tags)[TAG.status]).toBe('pending');
  });

  it('judges the version its event names even when another is posted during its read', async () => {
    // Arrange
    const first = bucket.put(KEY, PNG);
    const event = eventFor(KEY);
    send.mockImplementation(async (command) => {
      if (
        command instanceof GetObjectCommand &&
        command.input.Bucket !== STATE_BUCKET &&
        bucket.versions.get(KEY)?.length === 1
      )
        bucket.put(KEY, HTML, { eTag: 'ffffffffffffffffffffffffffffffff' });
      return bucket.send(command);
    });

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(puts().map((input) => input.VersionId)).toEqual([first.versionId]);
    expect(tagsOf(bucket.versions.get(KEY)?.[1]?.tags)[TAG.status]).toBe('pending');
  });

  it('logs and skips an object deleted before validation', async () => {
    // Arrange: nothing stored at the key.

    // Act
    const outcomes = await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'vanished' }]);
    expect(puts()).toEqual([]);
  });

  it('logs and skips a version deleted before validation', async () => {
    // Arrange: the event names a version S3 no longer holds.
    bucket.put(KEY, PNG);
    const event = versionEvent({ key: KEY, version: { versionId: 'deleted.version_1', eTag: ETAG } });

    // Act
    const outcomes = await validateUploadEvent(event);

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
    bucket.put(KEY, PNG);
    const event = eventFor(KEY, KEY);
    const [otherBucket, removed] = event.Records;
    if (!otherBucket || !removed) throw new Error('expected two records');
    otherBucket.s3.bucket.name = 'someone-elses-bucket';
    removed.eventName = 'ObjectRemoved:Delete';

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes).toEqual([
      { key: KEY, status: 'skipped', skip: 'ignored' },
      { key: KEY, status: 'skipped', skip: 'ignored' },
    ]);
    expect(send).not.toHaveBeenCalled();
  });

  it.each([
    [6, 0],
    [7, 1],
  ])(
    'keeps within 10 tags on an object that already carries %i foreign ones and pending, dropping %i foreign',
    async (count, droppedCount) => {
      // Arrange
      const foreign = Array.from({ length: count }, (_, i) => ({ Key: `team-${i}`, Value: `v${i}` }));
      const version = bucket.put(KEY, HTML, { tags: [{ Key: TAG.status, Value: 'pending' }, ...foreign] });

      // Act
      await validateUploadEvent(eventFor(KEY));

      // Assert: every signed tag is written (a reader checks the signature against them); foreign ones give way.
      const [put] = puts();
      expect(put?.Tagging?.TagSet).toHaveLength(10);
      const written = tagsOf(put?.Tagging?.TagSet);
      expect(written).toMatchObject({ [TAG.status]: 'failed', [TAG.validatedEtag]: ETAG });
      expect(written[TAG.reason]).toBe('unknown_type');
      expect(put?.Tagging?.TagSet).toEqual(expect.arrayContaining(foreign.slice(0, count - droppedCount)));
      expect(
        verify(claimsFor(version, { status: 'failed', reason: 'unknown_type' }), written[TAG.signature]),
      ).toBe(true);
    },
  );

  it('tags every other record when one fails unexpectedly, then rejects', async () => {
    // Arrange
    const event = loadEvent('batch-post.json');
    const keys = event.Records.map((record) => decodeURIComponent(record.s3.object.key));
    const [first, broken, third] = keys as [string, string, string];
    bucket.put(first, PNG);
    bucket.put(broken, PNG);
    bucket.put(third, HTML);
    bucket.failures.set(broken, s3Error('InternalError', 500));
    for (const record of event.Records) record.s3.object.eTag = ETAG;

    // Act
    const result = validateUploadEvent(event);

    // Assert
    await expect(result).rejects.toThrow(AggregateError);
    await expect(result).rejects.toMatchObject({
      message: '1 of 3 records could not be validated',
      errors: [{ name: 'InternalError' }],
    });
    expect(tagsOf(bucket.first(first)?.tags)[TAG.status]).toBe('passed');
    expect(tagsOf(bucket.first(broken)?.tags)[TAG.status]).toBe('pending');
    expect(tagsOf(bucket.first(third)?.tags)[TAG.status]).toBe('failed');
  });

  it('rejects on access denied, leaving the object pending', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    bucket.failures.set(KEY, s3Error('AccessDenied', 403));

    // Act / Assert
    await expect(validateUploadEvent(eventFor(KEY))).rejects.toThrow('1 of 1 records could not be validated');
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('pending');
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
    // Each record lists its key's versions, then sends HEAD and GetObjectTagging together:
    // at most two calls per record in flight.
    expect(bucket.maxInFlight).toBeGreaterThan(2);
    expect(bucket.maxInFlight).toBeLessThanOrEqual(2 * VALIDATION_CONCURRENCY);
  });
});

describe('validateUploadEvent: the file record', () => {
  it("records a file in its owner's index when it first sees it: its first version, what its upload pinned and the signed verdict", async () => {
    // Arrange
    const version = bucket.put(KEY, PNG);
    version.metadata[META.filename] = encodeMetaValue('été.png');
    version.metadata[META.clientMetadata] = encodeMetaValue(JSON.stringify({ album: 'x' }));

    // Act
    await validateUploadEvent(eventFor(KEY));

    // Assert
    const { segment, fileId } = parseObjectKey(KEY) as { segment: string; fileId: string };
    expect([...bucket.state.keys()]).toEqual([fileIndexKey({ segment }, fileId)]);
    expect(bucket.record(KEY)).toEqual({
      filename: 'été.png',
      contentType: 'image/png',
      size: PNG.length,
      uploadedAt: '2026-11-23T10:00:01.000Z',
      clientMetadata: { album: 'x' },
      versionId: version.versionId,
      eTag: ETAG,
      verdict: { status: 'passed', detectedType: 'image/png', signature: signatureOf(version.tags) },
      judgedBy: '0065417F2B3C4D5E6F',
    });
  });

  it('records the first version whichever version’s event comes first, and deletes the later one', async () => {
    // Arrange: the file and the same form posted again, neither judged; the later event comes first.
    const first = bucket.put(KEY, PNG);
    const later = bucket.put(KEY, PNG, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });

    // Act
    const outcomes = await validateUploadEvent(versionEvent({ key: KEY, version: later }));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(bucket.record(KEY)).toMatchObject({ versionId: first.versionId, eTag: ETAG });
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
  });

  it('lists a key once per file: an event after the record lists nothing', async () => {
    // Arrange
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    const later = bucket.put(KEY, JPEG, { eTag: 'a'.repeat(32) });
    send.mockClear();

    // Act
    await validateUploadEvent(versionEvent({ key: KEY, version: first }));
    await validateUploadEvent(versionEvent({ key: KEY, version: later }));

    // Assert
    expect(commands(ListObjectVersionsCommand)).toEqual([]);
  });
});

describe('validateUploadEvent: a version posted over a file', () => {
  const LATER_ETAG = '0badc0ffee0badc0ffee0badc0ffee00';

  /** The file, judged and recorded, and `count` versions posted over it with its form, none judged. */
  async function fileWithReposts(count: number, init: Partial<StoredVersion> = {}) {
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    const later = Array.from({ length: count }, (_, i) =>
      bucket.put(KEY, PNG, { eTag: `${String(i).padStart(2, '0')}${LATER_ETAG.slice(2)}`, ...init }),
    );
    send.mockClear();
    return { first, later };
  }

  it('deletes a later version its event names on sight, unread: two requests, whatever the pile', async () => {
    for (const pile of [1, 50]) {
      // Arrange
      bucket = new FakeBucket();
      send.mockImplementation((command) => bucket.send(command));
      const { first, later } = await fileWithReposts(pile);
      const last = later.at(-1) as StoredVersion;

      // Act
      const outcomes = await validateUploadEvent(versionEvent({ key: KEY, version: last }));

      // Assert: the record read, the version deleted; nothing listed, read or tagged.
      expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
      expect(requestNames()).toEqual(['GetObjectCommand', 'DeleteObjectCommand']);
      expect(commands(DeleteObjectCommand).map((command) => command.input)).toEqual([
        { Bucket: 'unit-test-bucket', Key: KEY, VersionId: last.versionId },
      ]);
      expect(bucket.versions.get(KEY)?.some((version) => version.versionId === last.versionId)).toBe(false);
      expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
      expect(bucket.record(KEY)?.versionId).toBe(first.versionId);
    }
  });

  it.each([
    ['an unsigned passed tag', () => [{ Key: TAG.status, Value: 'passed' }]],
    [
      'the first version’s genuine verdict, copied',
      () =>
        genuine(
          { versionId: 'rgw.1_Xq9zPmL2vR7tW0yK4nH8sD1f', eTag: ETAG },
          { status: 'passed', detectedType: 'image/png' },
        ),
    ],
  ])('deletes a later version that carries %s', async (_, tags) => {
    // Arrange
    const { later } = await fileWithReposts(1, { eTag: ETAG, tags: tags() });
    const [version] = later as [StoredVersion];

    // Act
    const outcomes = await validateUploadEvent(versionEvent({ key: KEY, version }));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
    expect(commands(GetObjectCommand)).toEqual([]);
    expect(bucket.versions.get(KEY)).toHaveLength(1);
  });

  it('takes a redelivered event of a version already deleted as replaced again, changing nothing', async () => {
    // Arrange
    const { later } = await fileWithReposts(1);
    const event = versionEvent({ key: KEY, version: later[0] });
    await validateUploadEvent(event);
    const before = structuredClone(bucket.first(KEY)?.tags);

    // Act
    const outcomes = await validateUploadEvent(event);

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
    expect(bucket.first(KEY)?.tags).toEqual(before);
    expect(puts()).toEqual([]);
  });

  it('finds the first version among other keys listed under the same prefix', async () => {
    // Arrange: a longer key that starts with KEY is listed by Prefix too, newer than the file.
    const first = bucket.put(KEY, PNG);
    bucket.put(`${KEY}0`, PNG);

    // Act
    const outcomes = await validateUploadEvent(versionEvent({ key: KEY, version: first }));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(bucket.versions.get(`${KEY}0`)).toHaveLength(1);
  });

  it('deletes every version posted under a deleted file’s key, listing the key once', async () => {
    // Arrange: a file deleted (its marker) before the validator saw it, then posted again twice.
    bucket.put(KEY, PNG);
    bucket.markers.add(KEY);
    const again = [bucket.put(KEY, PNG), bucket.put(KEY, PNG)];

    // Act
    const one = await validateUploadEvent(versionEvent({ key: KEY, version: again[0] }));
    const two = await validateUploadEvent(versionEvent({ key: KEY, version: again[1] }));

    // Assert: a tombstone record after the one listing; nothing judged, nothing left.
    expect([...one, ...two]).toEqual([
      { key: KEY, status: 'skipped', skip: 'replaced' },
      { key: KEY, status: 'skipped', skip: 'replaced' },
    ]);
    expect(commands(ListObjectVersionsCommand)).toHaveLength(1);
    expect(bucket.record(KEY)).toEqual({ deleted: true });
    expect(bucket.versions.get(KEY)).toEqual([]);
    expect(puts()).toEqual([]);
  });
});

describe('validateUploadEvent: an event naming no version (Ceph RGW’s for a form POST)', () => {
  const eventWithoutVersion = () => loadEvent('object-created-post.json');

  it('deletes the current version when it is not the recorded first: identical bytes posted again are deleted', async () => {
    // Arrange: the file passed and recorded; the same bytes posted again share its ETag.
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    const again = bucket.put(KEY, PNG);
    send.mockClear();

    // Act
    const outcomes = await validateUploadEvent(eventWithoutVersion());

    // Assert: the record, HEAD of the current version, its deletion: nothing listed, nothing read.
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
    expect(requestNames()).toEqual(['GetObjectCommand', 'HeadObjectCommand', 'DeleteObjectCommand']);
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
    expect(again.versionId).not.toBe(first.versionId);
  });

  it('deletes one version per event, so one event per version deletes them all, whatever the pile', async () => {
    // Arrange: the file, recorded, and fifty posts over it; one event each, none naming its version.
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    for (let i = 0; i < 50; i++) bucket.put(KEY, PNG);
    send.mockClear();

    // Act
    const one = await validateUploadEvent(eventWithoutVersion());
    const afterOne = bucket.versions.get(KEY)?.length;
    for (let i = 1; i < 50; i++) await validateUploadEvent(eventWithoutVersion());

    // Assert: three requests an event (no listing, no read of bytes), and only the file is left.
    expect(one).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
    expect(afterOne).toBe(50);
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
    expect(commands(ListObjectVersionsCommand)).toEqual([]);
    expect(send.mock.calls).toHaveLength(50 * 3);
  });

  it('reads the record once for a batch of one key’s events, and deletes one version per event', async () => {
    // Arrange: the file, recorded, ten posts over it, and their ten events in one batch.
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    for (let i = 0; i < 10; i++) bucket.put(KEY, PNG);
    const batch = eventWithoutVersion();
    const [record] = batch.Records;
    batch.Records = Array.from({ length: 10 }, () => structuredClone(record) as S3Event['Records'][number]);
    send.mockClear();

    // Act
    const outcomes = await validateUploadEvent(batch);

    // Assert
    expect(outcomes).toEqual(Array(10).fill({ key: KEY, status: 'skipped', skip: 'replaced' }));
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
    expect(requestNames().filter((name) => name === 'GetObjectCommand')).toHaveLength(1);
    expect(send.mock.calls).toHaveLength(1 + 10 * 2);
  });

  it('judges each of two identical posts once, whichever order their events come in', async () => {
    // Arrange: both pending, one event each, neither naming its version.
    const first = bucket.put(KEY, PNG);
    bucket.put(KEY, PNG);

    // Act
    const one = await validateUploadEvent(eventWithoutVersion());
    const two = await validateUploadEvent(eventWithoutVersion());
    const three = await validateUploadEvent(eventWithoutVersion());

    // Assert: the first event lists the key, judges the file and deletes the other post.
    expect(one).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(two).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
    expect(three).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
    expect(
      verify(claimsFor(first, { status: 'passed', detectedType: 'image/png' }), signatureOf(first.tags)),
    ).toBe(true);
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
  });

  it('does not take a forged verdict on a version for a decided one', async () => {
    // Arrange: the only version with the ETag carries a passed tag nobody signed.
    const version = bucket.put(KEY, PNG, { tags: [{ Key: TAG.status, Value: 'passed' }] });

    // Act
    const outcomes = await validateUploadEvent(eventWithoutVersion());

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'passed', detectedType: 'image/png' }]);
    expect(
      verify(claimsFor(version, { status: 'passed', detectedType: 'image/png' }), signatureOf(version.tags)),
    ).toBe(true);
  });
});

describe('a verdict signature', () => {
  it('is the test validator key’s: signTestVerdict and the validator agree', async () => {
    // Arrange
    const version = bucket.put(KEY, PNG);

    // Act
    await validateUploadEvent(eventFor(KEY));

    // Assert
    expect(signatureOf(version.tags)).toBe(
      signTestVerdict(claimsFor(version, { status: 'passed', detectedType: 'image/png' })),
    );
  });
});

describe('webhooks of verdicts', () => {
  const withHandoff = (handOffWebhook: ValidatorDependencies['handOffWebhook']) => (event: unknown) =>
    validateWith({ ...validator, handOffWebhook }, event);

  it('hands one file.validated message to the deliverer after a first version’s verdict is tagged', async () => {
    // Arrange
    const version = bucket.put(KEY, PNG);
    const handOff = vi.fn(async () => {
      // The verdict is recorded before the webhook leaves.
      expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
    });

    // Act
    await withHandoff(handOff)(eventFor(KEY));

    // Assert
    expect(handOff).toHaveBeenCalledTimes(1);
    expect(handOff).toHaveBeenCalledWith({
      id: webhookId({
        bucket: 'unit-test-bucket',
        key: KEY,
        versionId: version.versionId,
        status: 'passed',
      }),
      event: {
        type: 'file.validated',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: {
          fileId: '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
          status: 'passed',
          reason: null,
          detectedType: 'image/png',
          size: PNG.length,
          contentType: 'image/png',
          filename: 'cat.png',
          clientMetadata: null,
        },
      },
    });
  });

  it('carries the client metadata and the filename the upload pinned', async () => {
    // Arrange
    const version = bucket.put(KEY, PNG);
    version.metadata[META.filename] = encodeMetaValue('été.png');
    version.metadata[META.clientMetadata] = encodeMetaValue(JSON.stringify({ orderId: 'A-17', n: 3 }));
    const handOff = vi.fn(async () => undefined);

    // Act
    await withHandoff(handOff)(eventFor(KEY));

    // Assert
    const [[message]] = handOff.mock.calls as unknown as [[{ event: { data: Record<string, unknown> } }]];
    expect(message.event.data).toMatchObject({
      filename: 'été.png',
      clientMetadata: { orderId: 'A-17', n: 3 },
    });
  });

  it('sends a failed verdict with its reason', async () => {
    // Arrange: a JPEG declared image/png
    bucket.put(KEY, JPEG);
    const handOff = vi.fn(async () => undefined);

    // Act
    await withHandoff(handOff)(eventFor(KEY));

    // Assert
    const [[message]] = handOff.mock.calls as unknown as [[{ event: { data: Record<string, unknown> } }]];
    expect(message.event.data).toMatchObject({
      status: 'failed',
      reason: 'type_mismatch',
      detectedType: 'image/jpeg',
    });
  });

  it('sends nothing for a later version deleted as replaced: no verdict on the file', async () => {
    // Arrange: the file, judged, then bytes posted again with its form
    bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    bucket.put(KEY, JPEG, { eTag: 'a'.repeat(32) });
    const handOff = vi.fn(async () => undefined);

    // Act
    const outcomes = await withHandoff(handOff)(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'replaced' }]);
    expect(handOff).not.toHaveBeenCalled();
  });

  it('hands the same message id off again for a redelivered event of a decided file', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    const handOff = vi.fn(async (_message: { id: string }) => undefined);
    await withHandoff(handOff)(eventFor(KEY));

    // Act
    const outcomes = await withHandoff(handOff)(eventFor(KEY));

    // Assert
    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
    expect(handOff).toHaveBeenCalledTimes(2);
    const [first, again] = handOff.mock.calls.map(([message]) => message.id);
    expect(again).toBe(first);
  });

  it('fails the invocation when the handoff fails, with the verdict already tagged', async () => {
    // Arrange
    bucket.put(KEY, PNG);
    const handOff = vi.fn(async () => {
      throw new Error('TooManyRequestsException');
    });

    // Act
    const run = withHandoff(handOff)(eventFor(KEY));

    // Assert
    await expect(run).rejects.toBeInstanceOf(AggregateError);
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
  });

  it('hands nothing off for a record it ignores', async () => {
    // Arrange
    const handOff = vi.fn(async () => undefined);
    const other = 'uploads/not-a-file-key.png';
    bucket.put(other, PNG);

    // Act
    await withHandoff(handOff)(eventFor(other));

    // Assert
    expect(handOff).not.toHaveBeenCalled();
  });
});

describe('the malware check (malwareScan: guardduty)', () => {
  const SCAN_TAG = 'GuardDutyMalwareScanStatus';
  const scanning = (handOffWebhook: ValidatorDependencies['handOffWebhook']) => (event: unknown) =>
    validateWith({ ...validator, handOffWebhook, malwareScan: 'guardduty' }, event);
  /** GuardDuty's scan-result event as EventBridge delivers it. */
  const scanEvent = (
    version: Pick<StoredVersion, 'versionId' | 'eTag'>,
    result: string,
    bucketName = 'unit-test-bucket',
  ) => ({
    version: '0',
    id: 'a6d4c5e2-0000-4000-8000-000000000000',
    'detail-type': 'GuardDuty Malware Protection Object Scan Result',
    source: 'aws.guardduty',
    account: '123456789012',
    time: '2026-11-23T10:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:guardduty:us-east-1:123456789012:malware-protection-plan/0'],
    detail: {
      schemaVersion: '1.0',
      scanStatus: 'COMPLETED',
      resourceType: 'S3_OBJECT',
      s3ObjectDetails: {
        bucketName,
        objectKey: KEY,
        eTag: version.eTag,
        versionId: version.versionId,
        s3Throttled: false,
      },
      scanResultDetails: { scanResultStatus: result, threats: null },
    },
  });
  const statuses = (handOff: ReturnType<typeof vi.fn>) =>
    (handOff.mock.calls as unknown as [{ event: { data: { status: string; reason: string | null } } }][]).map(
      ([message]) => message.event.data,
    );

  it('sends no webhook for a content verdict while GuardDuty has not tagged the version', async () => {
    bucket.put(KEY, PNG);
    const handOff = vi.fn(async () => undefined);

    await scanning(handOff)(eventFor(KEY));

    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
    expect(handOff).not.toHaveBeenCalled();
  });

  it('sends failed malware when the content passed first and the scan then found a threat, keeping the signed verdict', async () => {
    const version = bucket.put(KEY, PNG);
    const handOff = vi.fn(async () => undefined);
    await scanning(handOff)(eventFor(KEY));

    const outcomes = await scanning(handOff)(scanEvent(version, 'THREATS_FOUND'));

    expect(outcomes).toEqual([{ key: KEY, status: 'skipped', skip: 'already_decided' }]);
    const tags = tagsOf(bucket.first(KEY)?.tags);
    expect(tags[SCAN_TAG]).toBe('THREATS_FOUND');
    expect(tags[TAG.status]).toBe('passed');
    expect(statuses(handOff)).toEqual([expect.objectContaining({ status: 'failed', reason: 'malware' })]);
  });

  it('judges the content itself when the scan result comes first, and both orders send the same webhook id', async () => {
    const ids: string[] = [];
    for (const order of ['content-first', 'malware-first'] as const) {
      bucket = new FakeBucket();
      send.mockImplementation((command) => bucket.send(command));
      const version = bucket.put(KEY, PNG, { versionId: 'rgw.same_version' });
      const handOff = vi.fn(async (_message: { id: string }) => undefined);
      const steps = [
        () => scanning(handOff)(eventFor(KEY)),
        () => scanning(handOff)(scanEvent(version, 'NO_THREATS_FOUND')),
      ];
      if (order === 'malware-first') steps.reverse();
      for (const step of steps) await step();
      const tags = tagsOf(bucket.first(KEY)?.tags);
      expect(tags[SCAN_TAG]).toBe('NO_THREATS_FOUND');
      expect(tags[TAG.status]).toBe('passed');
      expect(
        verify(
          claimsFor(version, { status: 'passed', detectedType: 'image/png' }),
          signatureOf(bucket.first(KEY)?.tags),
        ),
      ).toBe(true);
      // Only runs that saw both verdicts sent it (once content-first; malware-first, the ObjectCreated
      // run finds the file decided and sends it again, with the same id, as a redelivery does).
      expect(statuses(handOff)).toEqual(
        order === 'content-first'
          ? [expect.objectContaining({ status: 'passed', reason: null })]
          : [
              expect.objectContaining({ status: 'passed', reason: null }),
              expect.objectContaining({ status: 'passed', reason: null }),
            ],
      );
      ids.push(...handOff.mock.calls.map(([message]) => message.id));
    }
    expect(new Set(ids).size).toBe(1);
  });

  it('puts back GuardDuty’s tag a later read-modify-write of the tags lost', async () => {
    const version = bucket.put(KEY, PNG, { tags: [{ Key: TAG.status, Value: 'pending' }] });
    await scanning(undefined)(eventFor(KEY));
    // GuardDuty tagged, then a writer holding the older set wrote it back.
    const before = bucket.first(KEY)?.tags;
    await scanning(undefined)(scanEvent(version, 'UNSUPPORTED'));
    expect(tagsOf(bucket.first(KEY)?.tags)[SCAN_TAG]).toBe('UNSUPPORTED');
    (bucket.first(KEY) as StoredVersion).tags = before ?? [];

    await scanning(undefined)(scanEvent(version, 'UNSUPPORTED'));

    expect(tagsOf(bucket.first(KEY)?.tags)).toMatchObject({
      [SCAN_TAG]: 'UNSUPPORTED',
      [TAG.status]: 'passed',
    });
  });

  it('ignores scan results with malwareScan none, for another bucket, or outside uploads/', async () => {
    const version = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    send.mockClear();

    expect(await validateUploadEvent(scanEvent(version, 'THREATS_FOUND'))).toEqual([
      { key: KEY, status: 'skipped', skip: 'ignored' },
    ]);
    expect(await scanning(undefined)(scanEvent(version, 'THREATS_FOUND', 'another-bucket'))).toEqual([
      { key: KEY, status: 'skipped', skip: 'ignored' },
    ]);
    expect(send).not.toHaveBeenCalled();
  });
});

describe('a queue batch (in AWS the bucket notifies a queue, which invokes the validator)', () => {
  /** An SQS message carrying `body`, as Lambda delivers it from the upload-events queue. */
  const message = (messageId: string, body: unknown) => ({
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1796425200000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1796425200001',
    },
    messageAttributes: {},
    md5OfBody: '0'.repeat(32),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:presign-dev-upload-events',
    awsRegion: 'us-east-1',
  });
  const batch = (...messages: ReturnType<typeof message>[]) => {
    const queued = parseQueueEvent({ Records: messages });
    if (!queued) throw new Error('not a queue batch');
    return validateQueueBatch(validator, queued);
  };

  it('validates each message’s records and answers no failure when all were decided', async () => {
    // Arrange
    const other = `uploads/${SEGMENT}/01JDQ7ZK2A4B6C8D0E1F3G5H7J`;
    bucket.put(KEY, PNG);
    bucket.put(other, HTML);

    // Act
    const answer = await batch(message('m1', eventFor(KEY)), message('m2', eventFor(other)));

    // Assert
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
    expect(tagsOf(bucket.first(other)?.tags)[TAG.status]).toBe('failed');
  });

  it('names the messages whose records failed unexpectedly, and only those, for the queue to deliver again', async () => {
    // Arrange
    const broken = `uploads/${SEGMENT}/01JDQ7ZK2A4B6C8D0E1F3G5H7J`;
    bucket.put(KEY, PNG);
    bucket.put(broken, PNG);
    bucket.failures.set(broken, s3Error('InternalError', 500));

    // Act
    const answer = await batch(message('good', eventFor(KEY)), message('bad', eventFor(broken)));

    // Assert
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(tagsOf(bucket.first(KEY)?.tags)[TAG.status]).toBe('passed');
  });

  it('decides a batch of ten re-posts naming their versions with one read of the record and ten deletions', async () => {
    // Arrange: the file, recorded, and ten posts over it, each event naming its version.
    const first = bucket.put(KEY, PNG);
    await validateUploadEvent(eventFor(KEY));
    const later = Array.from({ length: 10 }, (_, i) => bucket.put(KEY, PNG, { eTag: `${i}`.repeat(32) }));
    send.mockClear();

    // Act
    const answer = await batch(
      ...later.map((version, i) => message(`m${i}`, versionEvent({ key: KEY, version }))),
    );

    // Assert
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(requestNames()).toEqual(['GetObjectCommand', ...Array(10).fill('DeleteObjectCommand')]);
    expect(bucket.versions.get(KEY)?.map((version) => version.versionId)).toEqual([first.versionId]);
  });

  it('takes S3’s test event and a body that is no S3 event as done, touching nothing', async () => {
    // Act
    const answer = await batch(
      message('test', { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'unit-test-bucket' }),
      message('junk', 'not an event'),
    );

    // Assert
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(send).not.toHaveBeenCalled();
  });

  it('is no queue batch when a record is not an SQS message', () => {
    expect(parseQueueEvent(eventFor(KEY))).toBeUndefined();
    expect(parseQueueEvent({ Records: [] })).toBeUndefined();
  });
});
