import { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createFileStore } from '../../../lib/store/file-store.js';
import { createS3Client } from '../../../lib/store/s3-client.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const SNIFF_BYTES = 4100;

const s3 = createS3Client({ region: 'us-east-1' });
const store = createFileStore({ s3, bucket: 'unit-test-bucket' });
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
