import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { verdictVerifier } from '../../../lib/core/verdict-signature.js';
import { createFileStore } from '../../../lib/store/file-store.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import { newestFirstId } from '../../../lib/store/object-key.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
import { FileNotFound, FileNotPassed } from '../../../lib/store/store-errors.js';
import { unitStore } from '../../support/runtime.js';
import { signedVerdictTags, TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const SNIFF_BYTES = 4100;

const s3 = createS3Client({ region: 'us-east-1' });
const store = unitStore(s3);
const readLeadingBytes = (ref: { key: string; eTag?: string; versionId?: string }) =>
  store.readLeadingBytes(ref, SNIFF_BYTES);

type Send = MockInstance<(command: object) => Promise<unknown>>;
const spySend = () => vi.spyOn(s3, 'send') as unknown as Send;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('readLeadingBytes', () => {
  it('asks for the first 4100 bytes, conditioned on the ETag and version', async () => {
    // Arrange
    const send = spySend().mockResolvedValue({ Body: Readable.from([PNG]) });

    // Act
    const bytes = await readLeadingBytes({ key: 'uploads/k', eTag: 'abc123', versionId: 'v1' });

    // Assert
    const command = send.mock.calls[0]?.[0];
    expect(command).toBeInstanceOf(GetObjectCommand);
    const input = (command as GetObjectCommand).input;
    expect(input).toMatchObject({
      Bucket: 'unit-test-bucket',
      Key: 'uploads/k',
      Range: 'bytes=0-4099',
      IfMatch: '"abc123"',
      VersionId: 'v1',
    });
    const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '') ?? [];
    expect(Number(last) - Number(first) + 1).toBeLessThanOrEqual(4100);
    expect(Buffer.from(bytes)).toEqual(PNG);
  });

  it('keeps a quoted ETag as it is', async () => {
    // Arrange
    const send = spySend().mockResolvedValue({ Body: Readable.from([Buffer.from('x')]) });

    // Act
    await readLeadingBytes({ key: 'uploads/k', eTag: '"abc-2"' });

    // Assert
    const command = send.mock.calls[0]?.[0] as GetObjectCommand | undefined;
    expect(command?.input.IfMatch).toBe('"abc-2"');
  });

  it('stops reading at 4100 bytes even if the server sent the whole object', async () => {
    // Arrange: 1 MiB in 1 KiB chunks, counting what is pulled from the stream.
    let pulled = 0;
    function* chunks() {
      for (let i = 0; i < 1024; i += 1) {
        pulled += 1;
        yield Buffer.alloc(1024, 0x41);
      }
    }
    spySend().mockResolvedValue({ Body: Readable.from(chunks()) });

    // Act
    const bytes = await readLeadingBytes({ key: 'uploads/k' });

    // Assert
    expect(bytes.length).toBe(SNIFF_BYTES);
    expect(pulled).toBeLessThan(64); // 5 needed, plus at most a read-ahead buffer; never the 1024
  });

  it('rethrows S3 errors', async () => {
    // Arrange
    spySend().mockRejectedValue(Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 500 } }));

    // Act / Assert
    await expect(readLeadingBytes({ key: 'uploads/k' })).rejects.toThrow('boom');
  });
});

const OWNER = { segment: '0123456789abcdef0123456789abcdef' };
const FILE_ID = '01JD0000000000000000000000';
const KEY = `uploads/${OWNER.segment}/${FILE_ID}`;
const EPOCH_KEY = `share-epochs/${OWNER.segment}/${FILE_ID}`;
const FIRST = { versionId: 'rgw.first_Version.1', eTag: '5d41402abc4b2a76b9719d911017c592' };
const LATER = { versionId: 'rgw.later_Version.2', eTag: '0badc0ffee0badc0ffee0badc0ffee00' };

const s3Error = (name: string, httpStatusCode: number) =>
  new S3ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: name,
  });

const tagSet = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
/** The verdict a record keeps, from the validator's tags for it (signature included). */
const verdictOf = (tags: Record<string, string>) => ({
  status: tags[TAG.status],
  ...(tags[TAG.reason] ? { reason: tags[TAG.reason] } : {}),
  ...(tags[TAG.detectedType] ? { detectedType: tags[TAG.detectedType] } : {}),
  signature: tags[TAG.signature] ?? '',
});
const passedTags = (version = FIRST) =>
  signedVerdictTags({
    bucket: 'unit-test-bucket',
    key: KEY,
    ...version,
    status: 'passed',
    detectedType: 'application/pdf',
  });
/** The file's record as the validator writes it, with the verdict `tags` carry. */
const recordOf = (tags?: Record<string, string>, version = FIRST) => ({
  filename: 'report.pdf',
  contentType: 'application/pdf',
  size: 48_213,
  uploadedAt: '2026-11-23T09:00:00.000Z',
  clientMetadata: null,
  ...version,
  ...(tags ? { verdict: verdictOf(tags) } : {}),
});

interface FileFake {
  /** The file's record in the state bucket (none: not seen yet, or deleted). */
  record?: object;
  /** Thrown by the read of the record instead of answering. */
  recordError?: Error;
  /** Whether the key's current version is a version (not a delete marker, not nothing). */
  current?: boolean;
}

/** S3 holding one file's record, and whether its key has a current version. */
function fileFake(fake: FileFake) {
  return async (command: object): Promise<unknown> => {
    const input = (command as { input: { Bucket?: string; VersionId?: string } }).input;
    if (command instanceof GetObjectCommand && input.Bucket === 'unit-test-state') {
      if (fake.recordError) throw fake.recordError;
      if (!fake.record) throw s3Error('NoSuchKey', 404);
      const body = JSON.stringify(fake.record);
      return { Body: { transformToString: async () => body }, ETag: '"record-etag"' };
    }
    if (command instanceof PutObjectCommand || command instanceof DeleteObjectCommand) return {};
    if (input.VersionId === undefined && !fake.current) {
      throw command instanceof HeadObjectCommand ? s3Error('NotFound', 404) : s3Error('NoSuchKey', 404);
    }
    if (command instanceof GetObjectTaggingCommand) return { TagSet: tagSet({ [TAG.status]: 'pending' }) };
    if (command instanceof HeadObjectCommand) {
      return {
        ContentLength: 48_213,
        ContentType: 'application/pdf',
        LastModified: new Date('2026-11-23T09:00:00.000Z'),
        VersionId: LATER.versionId,
        Metadata: { [META.filename]: encodeMetaValue('report.pdf'), [META.declaredType]: 'application/pdf' },
      };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  };
}

const inputsOf = <T extends object>(send: Send, type: new (...args: never[]) => T) =>
  send.mock.calls
    .map(([command]) => command)
    .filter((command): command is T => command instanceof type)
    .map((command) => (command as unknown as { input: Record<string, unknown> }).input);
const namesOf = (send: Send) => send.mock.calls.map(([command]) => command.constructor.name);

describe('reads of a file: its record, one GET', () => {
  it.each([
    ['readFileTags', () => store.readFileTags(OWNER, FILE_ID)],
    ['readFileRecord', () => store.readFileRecord(OWNER, FILE_ID)],
    ['readPassedFileRecord', () => store.readPassedFileRecord(OWNER, FILE_ID)],
    ['readRecordedFile', () => store.readRecordedFile(OWNER, FILE_ID)],
  ])(
    '%s reads the record alone: one GET of the state bucket, no listing, nothing of the key',
    async (_, read) => {
      // Arrange
      const send = spySend().mockImplementation(fileFake({ record: recordOf(passedTags()), current: true }));

      // Act
      const file = await read();

      // Assert
      expect(file).toMatchObject({
        key: KEY,
        versionId: FIRST.versionId,
        eTag: FIRST.eTag,
        status: 'passed',
      });
      expect(namesOf(send)).toEqual(['GetObjectCommand']);
      expect(inputsOf(send, GetObjectCommand)).toEqual([
        { Bucket: 'unit-test-state', Key: `file-index/${OWNER.segment}/${newestFirstId(FILE_ID)}` },
      ]);
    },
  );

  it.each([
    ['a verdict signed for this version', () => passedTags(), 'passed'],
    [
      'an unsigned passed verdict',
      () => ({ [TAG.status]: 'passed', [TAG.validatedEtag]: FIRST.eTag }),
      'pending',
    ],
    ['a forged signature', () => ({ [TAG.status]: 'passed', [TAG.signature]: 'A'.repeat(86) }), 'pending'],
    ['a verdict signed for a later version', () => passedTags(LATER), 'pending'],
    [
      'a verdict signed for a failure, said passed',
      () => ({
        ...signedVerdictTags({
          bucket: 'unit-test-bucket',
          key: KEY,
          ...FIRST,
          status: 'failed',
          reason: 'type_mismatch',
        }),
        [TAG.status]: 'passed',
      }),
      'pending',
    ],
    [
      'a verdict signed in another bucket',
      () =>
        signedVerdictTags({
          bucket: 'other-bucket',
          key: KEY,
          ...FIRST,
          status: 'passed',
          detectedType: 'application/pdf',
        }),
      'pending',
    ],
    [
      'a failure signed for this version',
      () =>
        signedVerdictTags({
          bucket: 'unit-test-bucket',
          key: KEY,
          ...FIRST,
          status: 'failed',
          reason: 'type_mismatch',
        }),
      'failed',
    ],
  ])('trusts %s in the record: reads %s', async (_, tags, status) => {
    // Arrange
    spySend().mockImplementation(fileFake({ record: recordOf(tags()) }));

    // Act
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(read.status).toBe(status);
  });

  it('checks the signature against the version and ETag the record names', async () => {
    // Arrange: a genuine verdict on the first version, in a record naming other bytes.
    spySend().mockImplementation(
      fileFake({ record: recordOf(passedTags(), { ...FIRST, eTag: LATER.eTag }) }),
    );

    // Act
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(read).toMatchObject({ status: 'pending', eTag: LATER.eTag });
  });

  it('answers 404 for a deleted file’s tombstone, on every read', async () => {
    // Arrange
    spySend().mockImplementation(fileFake({ record: { deleted: true }, current: true }));

    // Act / Assert
    for (const read of [
      store.readFileTags(OWNER, FILE_ID),
      store.readFileRecord(OWNER, FILE_ID),
      store.readPassedFileRecord(OWNER, FILE_ID),
    ]) {
      await expect(read).rejects.toBeInstanceOf(FileNotFound);
    }
    expect(await store.readRecordedFile(OWNER, FILE_ID)).toBeUndefined();
  });

  it('rethrows any other S3 error on the record, a 500', async () => {
    // Arrange
    const error = s3Error('InternalError', 500);
    spySend().mockImplementation(fileFake({ recordError: error }));

    // Act / Assert
    await expect(store.readFileTags(OWNER, FILE_ID)).rejects.toBe(error);
  });
});

describe('reads of a file the validator has not recorded yet: one request more', () => {
  it('describes it, pending, from HEAD of the key’s current version (getFile)', async () => {
    // Arrange
    const send = spySend().mockImplementation(fileFake({ current: true }));

    // Act
    const record = await store.readFileRecord(OWNER, FILE_ID);

    // Assert
    expect(record).toMatchObject({
      fileId: FILE_ID,
      status: 'pending',
      filename: 'report.pdf',
      contentType: 'application/pdf',
      size: 48_213,
      uploadedAt: '2026-11-23T09:00:00.000Z',
    });
    expect(namesOf(send)).toEqual(['GetObjectCommand', 'HeadObjectCommand']);
    expect(inputsOf(send, HeadObjectCommand)).toEqual([{ Bucket: 'unit-test-bucket', Key: KEY }]);
  });

  it.each([
    [true, { name: 'FileNotPassed', status: 'pending' }],
    [false, { name: 'FileNotFound' }],
  ])(
    'answers a download (current version: %s) with %o after a tag read of the current version',
    async (current, answer) => {
      // Arrange
      const send = spySend().mockImplementation(fileFake({ current }));

      // Act / Assert
      await expect(store.readPassedFileRecord(OWNER, FILE_ID)).rejects.toMatchObject(answer);
      expect(namesOf(send)).toEqual(['GetObjectCommand', 'GetObjectTaggingCommand']);
    },
  );

  it('runs the precheck (a share link’s) before anything more is read', async () => {
    // Arrange
    const send = spySend().mockImplementation(fileFake({ current: true }));
    const precheck = vi.fn(() => {
      throw new Error('no such link');
    });

    // Act / Assert
    await expect(store.readPassedFileRecord(OWNER, FILE_ID, precheck)).rejects.toThrow('no such link');
    expect(precheck).toHaveBeenCalledWith(expect.objectContaining({ versionId: '', status: 'pending' }));
    expect(namesOf(send)).toEqual(['GetObjectCommand']);
  });
});

describe('readPassedFileRecord', () => {
  it('answers 409 for an unsigned passed verdict', async () => {
    // Arrange
    spySend().mockImplementation(
      fileFake({ record: recordOf({ [TAG.status]: 'passed', [TAG.validatedEtag]: FIRST.eTag }) }),
    );

    // Act / Assert
    await expect(store.readPassedFileRecord(OWNER, FILE_ID)).rejects.toBeInstanceOf(FileNotPassed);
  });

  it('runs the precheck on the recorded verdict, before the status is looked at', async () => {
    // Arrange
    spySend().mockImplementation(fileFake({ record: recordOf() }));
    const precheck = vi.fn();

    // Act
    const read = store.readPassedFileRecord(OWNER, FILE_ID, precheck);

    // Assert
    await expect(read).rejects.toBeInstanceOf(FileNotPassed);
    expect(precheck).toHaveBeenCalledWith(
      expect.objectContaining({ versionId: FIRST.versionId, status: 'pending' }),
    );
  });
});

describe('deleteFile: no listing', () => {
  it('deletes a recorded file with a constant number of requests: marker, first version, state, record', async () => {
    // Arrange
    const send = spySend().mockImplementation(fileFake({ record: recordOf(passedTags()), current: true }));

    // Act
    await store.deleteFile(OWNER, FILE_ID);

    // Assert
    expect(namesOf(send)).not.toContain('ListObjectVersionsCommand');
    expect(inputsOf(send, DeleteObjectCommand)).toEqual([
      { Bucket: 'unit-test-bucket', Key: KEY },
      { Bucket: 'unit-test-bucket', Key: KEY, VersionId: FIRST.versionId },
      { Bucket: 'unit-test-state', Key: EPOCH_KEY },
      { Bucket: 'unit-test-state', Key: `multipart-uploads/${OWNER.segment}/${FILE_ID}` },
      { Bucket: 'unit-test-state', Key: `file-index/${OWNER.segment}/${newestFirstId(FILE_ID)}` },
    ]);
  });

  it('leaves a tombstone record, create-once, for a file not recorded yet: the validator deletes its versions', async () => {
    // Arrange
    const send = spySend().mockImplementation(fileFake({ current: true }));

    // Act
    await store.deleteFile(OWNER, FILE_ID);

    // Assert
    expect(namesOf(send)).not.toContain('ListObjectVersionsCommand');
    expect(inputsOf(send, PutObjectCommand)).toEqual([
      expect.objectContaining({
        Bucket: 'unit-test-state',
        Key: `file-index/${OWNER.segment}/${newestFirstId(FILE_ID)}`,
        Body: JSON.stringify({ deleted: true }),
        IfNoneMatch: '*',
        Tagging: 'file-record=tombstone',
      }),
    ]);
    expect(inputsOf(send, DeleteObjectCommand)[0]).toEqual({ Bucket: 'unit-test-bucket', Key: KEY });
  });

  it.each([
    ['no record and nothing under the key', {}],
    ['a tombstone', { record: { deleted: true }, current: true }],
  ])('answers 404 for %s', async (_, fake) => {
    // Arrange
    const send = spySend().mockImplementation(fileFake(fake));

    // Act / Assert
    await expect(store.deleteFile(OWNER, FILE_ID)).rejects.toBeInstanceOf(FileNotFound);
    expect(inputsOf(send, DeleteObjectCommand)).toEqual([]);
  });
});

describe('recordVerdict', () => {
  it('signs the values it writes, so a detected type that needs tag encoding still verifies', async () => {
    // Arrange: file-type names Opus audio `audio/ogg; codecs=opus`, and `;` is not allowed in a tag value.
    let written: { Key?: string; Value?: string }[] = [];
    spySend().mockImplementation(async (command: object) => {
      if (command instanceof PutObjectTaggingCommand) {
        written = command.input.Tagging?.TagSet ?? [];
        return {};
      }
      throw new Error(`unexpected command ${command.constructor.name}`);
    });

    // Act
    const { signed } = await store.recordVerdict(
      { key: KEY, versionId: FIRST.versionId },
      { tags: [], eTag: FIRST.eTag, versionId: FIRST.versionId },
      { status: 'failed', reason: 'type_mismatch', detectedType: 'audio/ogg; codecs=opus' },
    );
    spySend().mockImplementation(fileFake({ record: { ...recordOf(), verdict: signed } }));
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert: what a reader of the record sees is the signed verdict, not "pending".
    expect(written).toContainEqual({ Key: TAG.detectedType, Value: 'audio/ogg_ codecs=opus' });
    expect(signed.signature).toBe(
      Object.fromEntries(written.map((tag) => [tag.Key, tag.Value]))[TAG.signature],
    );
    expect(read).toMatchObject({
      status: 'failed',
      reason: 'type_mismatch',
      detectedType: 'audio/ogg_ codecs=opus',
    });
  });
});

describe('presignDownload', () => {
  it('signs a GET of exactly the given version', async () => {
    // Act
    const url = new URL(
      await store.presignDownload({
        key: KEY,
        versionId: FIRST.versionId,
        contentDisposition: 'attachment',
        contentType: 'application/pdf',
        expiresIn: 60,
        now: new Date('2026-11-23T10:00:00.000Z'),
      }),
    );

    // Assert
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('versionId')).toBe(FIRST.versionId);
  });
});

/**
 * An unversioned state bucket with S3's conditional writes: `If-None-Match: *`
 * only creates, `If-Match` only overwrites the object with that ETag (as this
 * store setting sends it), 412 otherwise. Each write makes a new ETag.
 */
class StateBucket {
  readonly objects = new Map<string, { body: string; eTag: string }>();
  readonly puts: PutObjectCommandInput[] = [];
  private writes = 0;

  constructor(private readonly quoting: 'quoted' | 'unquoted' = 'quoted') {}

  async send(command: object): Promise<unknown> {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    if (command instanceof GetObjectCommand) {
      expect(command.input.Bucket).toBe('unit-test-state');
      const object = this.objects.get(command.input.Key ?? '');
      if (!object) throw s3Error('NoSuchKey', 404);
      return { Body: { transformToString: async () => object.body }, ETag: `"${object.eTag}"` };
    }
    if (command instanceof PutObjectCommand) {
      const { input } = command;
      this.puts.push(input);
      expect(input.Bucket).toBe('unit-test-state');
      const current = this.objects.get(input.Key ?? '');
      const spelled = current && (this.quoting === 'quoted' ? `"${current.eTag}"` : current.eTag);
      if (input.IfNoneMatch === '*' && current) throw s3Error('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && input.IfMatch !== spelled) throw s3Error('PreconditionFailed', 412);
      if (input.IfMatch === undefined && input.IfNoneMatch === undefined)
        throw new Error('unconditional write');
      this.writes += 1;
      this.objects.set(input.Key ?? '', { body: String(input.Body), eTag: `etag${this.writes}` });
      return { ETag: `"etag${this.writes}"` };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  }
}

describe('share epochs', () => {
  it('reads 0 before any revocation, from the state bucket', async () => {
    // Arrange
    const state = new StateBucket();
    const send = spySend().mockImplementation((command) => state.send(command));

    // Act
    const epoch = await store.readShareEpoch(OWNER, FILE_ID);

    // Assert
    expect(epoch).toBe(0);
    expect(inputsOf(send, GetObjectCommand)).toEqual([{ Bucket: 'unit-test-state', Key: EPOCH_KEY }]);
  });

  it('rethrows a missing state bucket instead of reading it as epoch 0 (which would revive revoked links)', async () => {
    // Arrange
    spySend().mockRejectedValue(s3Error('NoSuchBucket', 404));

    // Act / Assert
    await expect(store.readShareEpoch(OWNER, FILE_ID)).rejects.toThrow('NoSuchBucket');
  });

  it('creates the first epoch with If-None-Match: *', async () => {
    // Arrange
    const state = new StateBucket();
    spySend().mockImplementation((command) => state.send(command));

    // Act
    const epoch = await store.bumpShareEpoch(OWNER, FILE_ID);

    // Assert
    expect(epoch).toBe(1);
    expect(state.puts).toEqual([
      expect.objectContaining({ Bucket: 'unit-test-state', Key: EPOCH_KEY, Body: '1', IfNoneMatch: '*' }),
    ]);
    expect(state.puts[0]).not.toHaveProperty('IfMatch');
    expect(await store.readShareEpoch(OWNER, FILE_ID)).toBe(1);
  });

  it('moves an epoch on with If-Match the ETag it was read with, quoted as AWS takes it', async () => {
    // Arrange
    const state = new StateBucket();
    state.objects.set(EPOCH_KEY, { body: '4', eTag: 'abc123' });
    spySend().mockImplementation((command) => state.send(command));

    // Act
    const epoch = await store.bumpShareEpoch(OWNER, FILE_ID);

    // Assert
    expect(epoch).toBe(5);
    expect(state.puts).toEqual([expect.objectContaining({ Key: EPOCH_KEY, Body: '5', IfMatch: '"abc123"' })]);
    expect(state.puts[0]).not.toHaveProperty('IfNoneMatch');
  });

  it('sends If-Match unquoted in a store set up for Ceph RGW', async () => {
    // Arrange
    const rgwStore = createFileStore({
      s3,
      bucket: 'unit-test-bucket',
      stateBucket: 'unit-test-state',
      verifyVerdict: verdictVerifier(TEST_VERDICT_KEYS.publicKey),
      conditionalETag: 'unquoted',
    });
    const state = new StateBucket('unquoted');
    state.objects.set(EPOCH_KEY, { body: '4', eTag: 'abc123' });
    spySend().mockImplementation((command) => state.send(command));

    // Act
    const epoch = await rgwStore.bumpShareEpoch(OWNER, FILE_ID);

    // Assert
    expect(epoch).toBe(5);
    expect(state.puts).toEqual([expect.objectContaining({ Body: '5', IfMatch: 'abc123' })]);
  });

  it('is done after a 412: another revocation already moved the epoch past the one it read', async () => {
    // Arrange: between this read and this write, another revocation moves 4 to 5.
    const state = new StateBucket();
    state.objects.set(EPOCH_KEY, { body: '4', eTag: 'abc123' });
    let raced = false;
    spySend().mockImplementation(async (command) => {
      if (command instanceof PutObjectCommand && !raced) {
        raced = true;
        state.objects.set(EPOCH_KEY, { body: '5', eTag: 'def456' });
      }
      return state.send(command);
    });

    // Act
    const epoch = await store.bumpShareEpoch(OWNER, FILE_ID);

    // Assert: the lost write is not repeated; every link issued before it (epoch ≤ 4) is revoked at 5.
    expect(epoch).toBe(5);
    expect(state.puts.map((put) => [put.Body, put.IfMatch])).toEqual([['5', '"abc123"']]);
    expect(state.objects.get(EPOCH_KEY)?.body).toBe('5');
  });

  it('retries after a 409: S3 saw two conditional writes at once', async () => {
    // Arrange
    const state = new StateBucket();
    let conflicts = 1;
    spySend().mockImplementation(async (command) => {
      if (command instanceof PutObjectCommand && conflicts-- > 0)
        throw s3Error('ConditionalRequestConflict', 409);
      return state.send(command);
    });

    // Act / Assert
    expect(await store.bumpShareEpoch(OWNER, FILE_ID)).toBe(1);
  });

  it('creates the first epoch only once when two revocations race for it', async () => {
    // Arrange: both read "no epoch"; the second If-None-Match: * loses with 412.
    const state = new StateBucket();
    spySend().mockImplementation((command) => state.send(command));

    // Act
    const epochs = await Promise.all([
      store.bumpShareEpoch(OWNER, FILE_ID),
      store.bumpShareEpoch(OWNER, FILE_ID),
    ]);

    // Assert: one of them created it; the other lost and is done, since the epoch moved past 0.
    expect(epochs).toEqual([1, 1]);
    expect(state.puts).toHaveLength(2);
    expect(state.objects.get(EPOCH_KEY)?.body).toBe('1');
  });

  it('only ever grows, under any interleaving of concurrent revocations', async () => {
    // Arrange
    const state = new StateBucket();
    state.objects.set(EPOCH_KEY, { body: '7', eTag: 'seed' });
    const seen: number[] = [];
    spySend().mockImplementation(async (command) => {
      const answer = await state.send(command);
      if (command instanceof PutObjectCommand) seen.push(Number(command.input.Body));
      return answer;
    });

    // Act
    const epochs = await Promise.all(Array.from({ length: 8 }, () => store.bumpShareEpoch(OWNER, FILE_ID)));

    // Assert: every revocation ends above the epoch it started from; no landed write was below an earlier one.
    const final = Number(state.objects.get(EPOCH_KEY)?.body);
    expect(final).toBeGreaterThanOrEqual(8);
    for (const epoch of epochs) {
      expect(epoch).toBeGreaterThanOrEqual(8);
      expect(epoch).toBeLessThanOrEqual(final);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('cannot pile up retries: a hundred concurrent revocations make at most one write each', async () => {
    // Arrange
    const state = new StateBucket();
    const send = spySend().mockImplementation((command) => state.send(command));

    // Act
    const epochs = await Promise.all(Array.from({ length: 100 }, () => store.bumpShareEpoch(OWNER, FILE_ID)));

    // Assert
    expect(inputsOf(send, PutObjectCommand).length).toBeLessThanOrEqual(100);
    expect(Math.min(...epochs)).toBeGreaterThanOrEqual(1);
    expect(Number(state.objects.get(EPOCH_KEY)?.body)).toBe(Math.max(...epochs));
  });

  it('gives up, rather than spin, when every write keeps conflicting (409)', async () => {
    // Arrange
    const send = spySend().mockImplementation(async (command) => {
      if (command instanceof GetObjectCommand) throw s3Error('NoSuchKey', 404);
      throw s3Error('ConditionalRequestConflict', 409);
    });

    // Act / Assert
    await expect(store.bumpShareEpoch(OWNER, FILE_ID)).rejects.toThrow(/kept conflicting over 20 tries/);
    expect(inputsOf(send, PutObjectCommand)).toHaveLength(20);
  });

  it('rethrows any other error on the write', async () => {
    // Arrange
    const denied = s3Error('AccessDenied', 403);
    const send = spySend().mockImplementation(async (command) => {
      if (command instanceof GetObjectCommand) throw s3Error('NoSuchKey', 404);
      throw denied;
    });

    // Act / Assert
    await expect(store.bumpShareEpoch(OWNER, FILE_ID)).rejects.toBe(denied);
    expect(inputsOf(send, PutObjectCommand)).toHaveLength(1);
  });
});
