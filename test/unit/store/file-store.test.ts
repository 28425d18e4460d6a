import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { verdictVerifier } from '../../../lib/core/verdict-signature.js';
import { createFileStore } from '../../../lib/store/file-store.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
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

const listed = (key: string, ...versions: { versionId: string; eTag: string }[]) =>
  versions.map((version, index) => ({
    Key: key,
    VersionId: version.versionId,
    ETag: `"${version.eTag}"`,
    IsLatest: index === 0,
    // Newest first: each version a minute after the one listed after it.
    LastModified: new Date(Date.parse('2026-11-23T09:00:00.000Z') + (versions.length - 1 - index) * 60_000),
  }));
const tagSet = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const passedTags = (version = FIRST) =>
  signedVerdictTags({
    bucket: 'unit-test-bucket',
    key: KEY,
    ...version,
    status: 'passed',
    detectedType: 'application/pdf',
  });

interface FileFake {
  /** The key's versions, newest first, as ListObjectVersions lists them. */
  versions?: { Key: string; VersionId: string; ETag: string; IsLatest: boolean }[];
  tags?: Record<string, string>;
  /** Thrown by GetObjectTagging / HeadObject instead of answering. */
  taggingError?: Error;
  headError?: Error;
}

/** S3 holding one file's versions; tags and HEAD answer for whichever version is asked. */
function fileFake(fake: FileFake) {
  return async (command: object): Promise<unknown> => {
    if (command instanceof ListObjectVersionsCommand)
      return { IsTruncated: false, Versions: fake.versions ?? [] };
    if (command instanceof GetObjectTaggingCommand) {
      if (fake.taggingError) throw fake.taggingError;
      return { TagSet: tagSet(fake.tags ?? { [TAG.status]: 'pending' }), VersionId: command.input.VersionId };
    }
    if (command instanceof HeadObjectCommand) {
      if (fake.headError) throw fake.headError;
      return {
        ContentLength: 48_213,
        ContentType: 'application/pdf',
        LastModified: new Date('2026-11-23T09:00:00.000Z'),
        VersionId: command.input.VersionId,
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

describe('readFileTags: the first version under the key', () => {
  it('lists the key’s versions and reads the tags of the last one listed, the first posted', async () => {
    // Arrange
    const send = spySend().mockImplementation(
      fileFake({ versions: listed(KEY, LATER, FIRST), tags: passedTags() }),
    );

    // Act
    const tags = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(tags).toMatchObject({ key: KEY, versionId: FIRST.versionId, eTag: FIRST.eTag, status: 'passed' });
    expect(inputsOf(send, ListObjectVersionsCommand)).toEqual([{ Bucket: 'unit-test-bucket', Prefix: KEY }]);
    expect(inputsOf(send, GetObjectTaggingCommand)).toEqual([
      { Bucket: 'unit-test-bucket', Key: KEY, VersionId: FIRST.versionId },
    ]);
  });

  it('ignores other keys under the same prefix', async () => {
    // Arrange: a longer key sorts after KEY and would be listed last.
    spySend().mockImplementation(
      fileFake({ versions: [...listed(KEY, FIRST), ...listed(`${KEY}X`, LATER)], tags: passedTags() }),
    );

    // Act
    const tags = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(tags.versionId).toBe(FIRST.versionId);
  });

  it('stops at the first other key under the prefix, however many pages a flood of them would take', async () => {
    // Arrange: the file's one version, then longer keys someone wrote under the same prefix, truncated.
    const flood = Array.from({ length: 999 }, (_, i) => listed(`${KEY}-${i}`, LATER)).flat();
    const send = spySend().mockImplementation(async (command: object) => {
      if (command instanceof ListObjectVersionsCommand) {
        return {
          IsTruncated: true,
          NextKeyMarker: `${KEY}-998`,
          NextVersionIdMarker: LATER.versionId,
          Versions: [...listed(KEY, FIRST), ...flood],
        };
      }
      return fileFake({ tags: passedTags() })(command);
    });

    // Act
    const tags = await store.readFileTags(OWNER, FILE_ID);

    // Assert: one page, the file's own version.
    expect(tags.versionId).toBe(FIRST.versionId);
    expect(inputsOf(send, ListObjectVersionsCommand)).toHaveLength(1);
  });

  it('pages through a long listing with its markers and takes the last version of the last page', async () => {
    // Arrange
    const pages = [
      {
        IsTruncated: true,
        Versions: listed(KEY, LATER),
        NextKeyMarker: KEY,
        NextVersionIdMarker: LATER.versionId,
      },
      { IsTruncated: false, Versions: listed(KEY, FIRST) },
    ];
    const send = spySend().mockImplementation(async (command) => {
      if (command instanceof ListObjectVersionsCommand) return pages.shift();
      return fileFake({ tags: passedTags() })(command);
    });

    // Act
    const tags = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(tags.versionId).toBe(FIRST.versionId);
    const listings = inputsOf(send, ListObjectVersionsCommand) as unknown as ListObjectVersionsCommandInput[];
    expect(listings).toEqual([
      { Bucket: 'unit-test-bucket', Prefix: KEY },
      { Bucket: 'unit-test-bucket', Prefix: KEY, KeyMarker: KEY, VersionIdMarker: LATER.versionId },
    ]);
  });

  it('refuses with 409, rather than paging on, a key posted again thousands of times', async () => {
    // Arrange
    const send = spySend().mockImplementation(async (command) => {
      if (command instanceof ListObjectVersionsCommand) {
        return {
          IsTruncated: true,
          Versions: listed(KEY, LATER),
          NextKeyMarker: KEY,
          NextVersionIdMarker: 'x',
        };
      }
      throw new Error('unexpected');
    });

    // Act / Assert
    await expect(store.readFileTags(OWNER, FILE_ID)).rejects.toMatchObject({
      statusCode: 409,
      code: 'not_validated',
    });
    expect(inputsOf(send, ListObjectVersionsCommand)).toHaveLength(5);
    expect(inputsOf(send, GetObjectTaggingCommand)).toHaveLength(0);
  });

  it('answers 404 when the key has no version', async () => {
    // Arrange
    const send = spySend().mockImplementation(fileFake({ versions: listed(`${KEY}X`, FIRST) }));

    // Act / Assert
    await expect(store.readFileTags(OWNER, FILE_ID)).rejects.toMatchObject({
      statusCode: 404,
      code: 'not_found',
    });
    expect(inputsOf(send, GetObjectTaggingCommand)).toHaveLength(0);
  });

  it.each([
    ['a verdict signed for this version', () => passedTags(), 'passed'],
    [
      'an unsigned passed tag',
      () => ({ [TAG.status]: 'passed', [TAG.validatedEtag]: FIRST.eTag }),
      'pending',
    ],
    ['a forged signature', () => ({ ...passedTags(), [TAG.signature]: 'A'.repeat(86) }), 'pending'],
    ['a verdict signed for a later version', () => passedTags(LATER), 'pending'],
    [
      'a verdict signed for a failure, retagged passed',
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
  ])('trusts %s: reads %s', async (_, tags, status) => {
    // Arrange
    spySend().mockImplementation(fileFake({ versions: listed(KEY, LATER, FIRST), tags: tags() }));

    // Act
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(read.status).toBe(status);
  });

  it('checks the signature against the ETag the listing reports (quotes dropped)', async () => {
    // Arrange: the tags claim the first version's ETag, but the listing says the version has other bytes.
    spySend().mockImplementation(
      fileFake({ versions: listed(KEY, { ...FIRST, eTag: LATER.eTag }), tags: passedTags() }),
    );

    // Act
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert
    expect(read).toMatchObject({ status: 'pending', eTag: LATER.eTag });
  });

  it.each([
    ['404', s3Error('NoSuchVersion', 404), { statusCode: 404, code: 'not_found' }],
    ['412', s3Error('PreconditionFailed', 412), { statusCode: 409, code: 'not_validated' }],
    ['403', s3Error('AccessDenied', 403), { statusCode: 409, code: 'not_validated' }],
  ])('answers an S3 %s on the tags as the API does', async (_, error, answer) => {
    // Arrange
    spySend().mockImplementation(fileFake({ versions: listed(KEY, FIRST), taggingError: error }));

    // Act / Assert
    await expect(store.readFileTags(OWNER, FILE_ID)).rejects.toMatchObject(answer);
  });

  it('rethrows any other S3 error, a 500', async () => {
    // Arrange
    const error = s3Error('InternalError', 500);
    spySend().mockImplementation(fileFake({ versions: listed(KEY, FIRST), taggingError: error }));

    // Act / Assert
    await expect(store.readFileTags(OWNER, FILE_ID)).rejects.toBe(error);
  });
});

describe('readPassedFileRecord', () => {
  it('reads HEAD of the first version once its signed verdict says passed', async () => {
    // Arrange
    const send = spySend().mockImplementation(
      fileFake({ versions: listed(KEY, LATER, FIRST), tags: passedTags() }),
    );

    // Act
    const record = await store.readPassedFileRecord(OWNER, FILE_ID);

    // Assert
    expect(record).toMatchObject({
      key: KEY,
      fileId: FILE_ID,
      versionId: FIRST.versionId,
      eTag: FIRST.eTag,
      status: 'passed',
      filename: 'report.pdf',
      contentType: 'application/pdf',
      size: 48_213,
      uploadedAt: '2026-11-23T09:00:00.000Z',
    });
    expect(inputsOf(send, HeadObjectCommand)).toEqual([
      { Bucket: 'unit-test-bucket', Key: KEY, VersionId: FIRST.versionId },
    ]);
  });

  it('answers 409 without a HEAD for an unsigned passed tag', async () => {
    // Arrange
    const send = spySend().mockImplementation(
      fileFake({
        versions: listed(KEY, FIRST),
        tags: { [TAG.status]: 'passed', [TAG.validatedEtag]: FIRST.eTag },
      }),
    );

    // Act / Assert
    await expect(store.readPassedFileRecord(OWNER, FILE_ID)).rejects.toMatchObject({
      statusCode: 409,
      code: 'not_validated',
    });
    expect(inputsOf(send, HeadObjectCommand)).toEqual([]);
  });

  it.each([
    [
      '403 (the read gate, racing a re-tag)',
      s3Error('Forbidden', 403),
      { statusCode: 409, code: 'not_validated' },
    ],
    ['412', s3Error('PreconditionFailed', 412), { statusCode: 409, code: 'not_validated' }],
    ['404', s3Error('NotFound', 404), { statusCode: 404, code: 'not_found' }],
  ])('answers a %s on the HEAD of a passed file as the API does, never a 500', async (_, error, answer) => {
    // Arrange
    spySend().mockImplementation(
      fileFake({ versions: listed(KEY, FIRST), tags: passedTags(), headError: error }),
    );

    // Act / Assert
    await expect(store.readPassedFileRecord(OWNER, FILE_ID)).rejects.toMatchObject(answer);
  });

  it('runs the precheck on the first version’s tags, before the status is looked at', async () => {
    // Arrange
    spySend().mockImplementation(fileFake({ versions: listed(KEY, LATER, FIRST) }));
    const precheck = vi.fn();

    // Act
    const read = store.readPassedFileRecord(OWNER, FILE_ID, precheck);

    // Assert
    await expect(read).rejects.toMatchObject({ statusCode: 409 });
    expect(precheck).toHaveBeenCalledWith(
      expect.objectContaining({ versionId: FIRST.versionId, status: 'pending' }),
    );
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
      if (command instanceof ListObjectVersionsCommand)
        return { IsTruncated: false, Versions: listed(KEY, FIRST) };
      if (command instanceof GetObjectTaggingCommand) return { TagSet: written };
      throw new Error(`unexpected command ${command.constructor.name}`);
    });

    // Act
    await store.recordVerdict(
      { key: KEY, versionId: FIRST.versionId },
      { tags: [], eTag: FIRST.eTag, versionId: FIRST.versionId },
      { status: 'failed', reason: 'type_mismatch', detectedType: 'audio/ogg; codecs=opus' },
    );
    const read = await store.readFileTags(OWNER, FILE_ID);

    // Assert: what a reader sees is the signed verdict, not "pending".
    expect(written).toContainEqual({ Key: TAG.detectedType, Value: 'audio/ogg_ codecs=opus' });
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
