import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  NoSuchKey,
  NoSuchUpload,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { decodeMetaValue } from '../../../lib/store/object-encoding.js';
import { multipartRecordKey } from '../../../lib/store/object-key.js';
import { createS3Client } from '../../../lib/store/s3-client.js';
import { FileNotFound, UploadClosed, UploadIncomplete } from '../../../lib/store/store-errors.js';
import { TEST_NOW } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';
import { unitStore } from '../../support/runtime.js';

const ALICE = testOwner('auth0|alice');
const FILE_ID = '01JDQ3Y8K2M4N6P8R0S2T4V6W8';
const KEY = `uploads/${ALICE.segment}/${FILE_ID}`;
const MiB = 1024 * 1024;

/** A store on the functions' own S3 client (signing with the unit tests' credentials), whose `send` is `send`. */
function storeWith(send: (command: unknown) => unknown) {
  const s3 = createS3Client({ region: 'us-east-1' });
  vi.spyOn(s3, 'send').mockImplementation((async (command: unknown) => send(command)) as never);
  return { store: unitStore(s3), sent: vi.mocked(s3.send) };
}

const form = {
  key: KEY,
  contentType: 'video/mp4',
  size: 12 * MiB,
  partSize: 5 * MiB,
  filename: 'été.mp4',
  owner: ALICE,
};

describe('startMultipartUpload', () => {
  it('starts the upload with the type, metadata and pending tag a POST pins, then records its terms create-once', async () => {
    // Arrange
    const { store, sent } = storeWith((command) =>
      command instanceof CreateMultipartUploadCommand ? { UploadId: 'upload-1' } : {},
    );

    // Act
    const uploadId = await store.startMultipartUpload(form, FILE_ID, TEST_NOW);

    // Assert
    expect(uploadId).toBe('upload-1');
    const [create, record] = sent.mock.calls.map(([command]) => command);
    expect(create).toBeInstanceOf(CreateMultipartUploadCommand);
    const created = (create as CreateMultipartUploadCommand).input;
    expect(created).toMatchObject({
      Bucket: 'unit-test-bucket',
      Key: KEY,
      ContentType: 'video/mp4',
      Tagging: 'validation-status=pending',
    });
    expect(created.Metadata).toMatchObject({
      owner: ALICE.segment,
      'declared-type': 'video/mp4',
      'declared-size': String(12 * MiB),
    });
    expect(decodeMetaValue(created.Metadata?.filename)).toBe('été.mp4');
    expect(record).toBeInstanceOf(PutObjectCommand);
    const written = (record as PutObjectCommand).input;
    expect(written).toMatchObject({
      Bucket: 'unit-test-state',
      Key: multipartRecordKey(ALICE, FILE_ID),
      IfNoneMatch: '*',
    });
    expect(JSON.parse(String(written.Body))).toMatchObject({
      uploadId: 'upload-1',
      size: 12 * MiB,
      partSize: 5 * MiB,
      startedAt: TEST_NOW.toISOString(),
    });
  });

  it('aborts the upload it started when its record cannot be written, and fails', async () => {
    // Arrange
    const { store, sent } = storeWith((command) => {
      if (command instanceof CreateMultipartUploadCommand) return { UploadId: 'upload-1' };
      if (command instanceof PutObjectCommand) throw new Error('state bucket unreachable');
      return {};
    });

    // Act
    const starting = store.startMultipartUpload(form, FILE_ID, TEST_NOW);

    // Assert
    await expect(starting).rejects.toThrow('state bucket unreachable');
    const abort = sent.mock.calls
      .map(([command]) => command)
      .find((c) => c instanceof AbortMultipartUploadCommand);
    expect((abort as AbortMultipartUploadCommand | undefined)?.input).toMatchObject({
      Key: KEY,
      UploadId: 'upload-1',
    });
  });
});

describe('readMultipartUpload', () => {
  it("reads an upload's terms from its record, and 404s when the owner has none under that id", async () => {
    // Arrange
    const record = JSON.stringify({
      uploadId: 'upload-1',
      size: 12 * MiB,
      partSize: 5 * MiB,
      startedAt: 'x',
    });
    const { store } = storeWith((command) => {
      if (command instanceof GetObjectCommand && command.input.Key === multipartRecordKey(ALICE, FILE_ID)) {
        return { Body: { transformToString: async () => record } };
      }
      throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
    });

    // Act
    const upload = await store.readMultipartUpload(ALICE, FILE_ID);
    const others = store.readMultipartUpload(testOwner('auth0|bob'), FILE_ID);

    // Assert
    expect(upload).toEqual({
      fileId: FILE_ID,
      key: KEY,
      uploadId: 'upload-1',
      size: 12 * MiB,
      partSize: 5 * MiB,
      partCount: 3,
      startedAt: 'x',
    });
    await expect(others).rejects.toBeInstanceOf(FileNotFound);
  });
});

describe('readMultipartUpload of an unreadable record', () => {
  it.each(['', '{}', '{"uploadId":"u","size":"big"}', 'not json'])(
    'answers 404 for %j, not a 500',
    async (text) => {
      // Arrange
      const { store } = storeWith(() => ({ Body: { transformToString: async () => text } }));

      // Act & Assert
      await expect(store.readMultipartUpload(ALICE, FILE_ID)).rejects.toBeInstanceOf(FileNotFound);
    },
  );
});

describe('claimClosing', () => {
  const upload = { key: KEY, fileId: FILE_ID };
  const exists = () =>
    new S3ServiceException({
      name: 'PreconditionFailed',
      $fault: 'client',
      $metadata: { httpStatusCode: 412 },
    });

  it('claims create-once in the state bucket', async () => {
    // Arrange
    const { store, sent } = storeWith(() => ({}));

    // Act
    await store.claimClosing(upload, 'complete');

    // Assert
    expect((sent.mock.calls[0]?.[0] as PutObjectCommand | undefined)?.input).toMatchObject({
      Bucket: 'unit-test-state',
      Key: `multipart-closing/${ALICE.segment}/${FILE_ID}`,
      Body: 'complete',
      IfNoneMatch: '*',
    });
  });

  it('goes ahead when the claim is already its own action, and answers 409 when it is the other', async () => {
    // Arrange: an abort has claimed the closing.
    const { store } = storeWith((command) => {
      if (command instanceof PutObjectCommand) throw exists();
      return { Body: { transformToString: async () => 'abort' } };
    });

    // Act & Assert
    await expect(store.claimClosing(upload, 'abort')).resolves.toBeUndefined();
    await expect(store.claimClosing(upload, 'complete')).rejects.toBeInstanceOf(UploadClosed);
  });

  it('tries again when two claims reach S3 at once (409)', async () => {
    // Arrange
    let puts = 0;
    const { store } = storeWith((command) => {
      if (command instanceof PutObjectCommand && ++puts === 1) {
        throw new S3ServiceException({
          name: 'ConcurrentModification',
          $fault: 'client',
          $metadata: { httpStatusCode: 409 },
        });
      }
      return {};
    });

    // Act
    await store.claimClosing(upload, 'complete');

    // Assert
    expect(puts).toBe(2);
  });
});

describe('presignPart', () => {
  it('signs content-length and content-md5 as headers, for this upload and part number only', async () => {
    // Arrange
    const { store } = storeWith(() => ({}));

    // Act
    const url = new URL(
      await store.presignPart({
        key: KEY,
        uploadId: 'upload-1',
        partNumber: 2,
        contentLength: 5 * MiB,
        md5: 'XUFAKrxLKna5cZ2REBfFkg==',
        expiresIn: 900,
        now: TEST_NOW,
      }),
    );

    // Assert
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('uploadId')).toBe('upload-1');
    expect(url.searchParams.get('partNumber')).toBe('2');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    // Nothing the browser would have to send that it cannot: no checksum header, no hoisted length.
    expect([...url.searchParams.keys()].filter((name) => /checksum|content-length/i.test(name))).toEqual([]);
  });

  it('signs content-length alone when no MD5 is pinned', async () => {
    // Arrange
    const { store } = storeWith(() => ({}));

    // Act
    const url = new URL(
      await store.presignPart({
        key: KEY,
        uploadId: 'u',
        partNumber: 1,
        contentLength: 5,
        expiresIn: 60,
        now: TEST_NOW,
      }),
    );

    // Assert
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
  });
});

describe('listUploadedParts', () => {
  it('pages through every part S3 holds, in part-number order', async () => {
    // Arrange
    const pages = [
      {
        IsTruncated: true,
        NextPartNumberMarker: '1000',
        Parts: [
          { PartNumber: 2, Size: 5, ETag: 'b' },
          { PartNumber: 1, Size: 5, ETag: '"a"' },
        ],
      },
      { IsTruncated: false, Parts: [{ PartNumber: 1001, Size: 3, ETag: '"c"' }] },
    ];
    const { store, sent } = storeWith((command) =>
      command instanceof ListPartsCommand ? pages.shift() : {},
    );

    // Act
    const parts = await store.listUploadedParts({ key: KEY, uploadId: 'upload-1' });

    // Assert
    expect(parts).toEqual([
      { partNumber: 1, size: 5, eTag: '"a"' },
      { partNumber: 2, size: 5, eTag: '"b"' },
      { partNumber: 1001, size: 3, eTag: '"c"' },
    ]);
    expect((sent.mock.calls[1]?.[0] as ListPartsCommand | undefined)?.input.PartNumberMarker).toBe('1000');
  });
});

describe('a closed upload', () => {
  const closed = () => {
    throw new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchUpload' });
  };

  it.each([
    [
      'listing its parts',
      (store: ReturnType<typeof storeWith>['store']) => store.listUploadedParts({ key: KEY, uploadId: 'u' }),
    ],
    [
      'completing it',
      (store: ReturnType<typeof storeWith>['store']) =>
        store.completeMultipartUpload({ key: KEY, uploadId: 'u' }, []),
    ],
    [
      'aborting it',
      (store: ReturnType<typeof storeWith>['store']) =>
        store.abortMultipartUpload({ key: KEY, uploadId: 'u' }),
    ],
  ])('answers 409 upload_closed to %s', async (_, act) => {
    // Arrange
    const { store } = storeWith(closed);

    // Act & Assert
    await expect(act(store)).rejects.toBeInstanceOf(UploadClosed);
  });

  it('answers 409 when a completion fails on the server side while a concurrent one closes the upload', async () => {
    // Arrange: S3 fails this completion (5xx after the SDK's retries); the upload is closed right after.
    let listings = 0;
    const { store } = storeWith((command) => {
      if (command instanceof CompleteMultipartUploadCommand) {
        throw new S3ServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      if (command instanceof ListPartsCommand && ++listings > 1) return closed();
      return { Parts: [] };
    });

    // Act
    const completing = store.completeMultipartUpload({ key: KEY, uploadId: 'u' }, [
      { partNumber: 1, eTag: '"a"' },
    ]);

    // Assert
    await expect(completing).rejects.toBeInstanceOf(UploadClosed);
    expect(listings).toBe(2);
  });

  it('rethrows a server-side failure of a completion when the upload stays open: a real failure, a 500', async () => {
    // Arrange
    const failure = new S3ServiceException({
      name: 'InternalError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    const { store } = storeWith((command) => {
      if (command instanceof CompleteMultipartUploadCommand) throw failure;
      return { Parts: [] };
    });

    // Act
    const completing = store.completeMultipartUpload({ key: KEY, uploadId: 'u' }, [
      { partNumber: 1, eTag: '"a"' },
    ]);

    // Assert
    await expect(completing).rejects.toBe(failure);
  });

  it('answers 422 when S3 refuses a part at completion (uploaded again since it was listed)', async () => {
    // Arrange
    const { store } = storeWith((command) => {
      if (command instanceof CompleteMultipartUploadCommand) {
        throw new S3ServiceException({
          name: 'InvalidPart',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return {};
    });

    // Act
    const completing = store.completeMultipartUpload({ key: KEY, uploadId: 'u' }, [
      { partNumber: 1, eTag: '"a"' },
    ]);

    // Assert
    await expect(completing).rejects.toBeInstanceOf(UploadIncomplete);
  });
});
