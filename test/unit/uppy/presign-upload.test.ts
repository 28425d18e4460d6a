import Uppy, { type Body, type Meta } from '@uppy/core';
import { describe, expect, it } from 'vitest';
import {
  createClient,
  memoryResumeStore,
  PresignApiError,
  type StorageTransport,
} from '../../../client/src/index.js';
import { PresignUpload, RejectedFileError } from '../../../packages/uppy/src/index.js';
import { FakePresign } from '../client/fake-presign.js';
import { holdPart } from '../client/held-transport.js';

const FAST = { retries: 2, baseDelayMs: 1, maxDelayMs: 2 };
const quiet = { debug() {}, warn() {}, error() {} };

function setUp(
  options: { transport?: (fake: FakePresign) => StorageTransport; waitForVerdict?: boolean } = {},
) {
  const fake = new FakePresign();
  const client = createClient({
    apiUrl: 'https://api.test',
    getToken: () => 'token',
    fetch: fake.fetch,
    transport: options.transport?.(fake) ?? fake.transport,
    multipartThreshold: 10,
    concurrency: 1,
    retry: FAST,
    resumeStore: memoryResumeStore(),
  });
  const uppy = new Uppy<Meta, Body>({ logger: quiet });
  uppy.use(PresignUpload, { client, ...(options.waitForVerdict ? { waitForVerdict: true } : {}) });
  const events: { success: Body[]; errors: Error[] } = { success: [], errors: [] };
  uppy.on('upload-success', (_file, response) => events.success.push(response.body as Body));
  uppy.on('upload-error', (_file, error) => events.errors.push(error as Error));
  return { fake, uppy, events };
}

const fileOf = (size: number, name = 'film.mp4') =>
  new File([new Uint8Array(size)], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 });

const add = (uppy: Uppy<Meta, Body>, file: File) =>
  uppy.addFile({ name: file.name, type: file.type, data: file });

describe('PresignUpload', () => {
  it('uploads a small file as one form and a large one in parts, through the client, and reports their fileIds', async () => {
    // Arrange
    const { fake, uppy, events } = setUp();
    add(uppy, fileOf(8, 'small.mp4'));
    add(uppy, fileOf(23, 'large.mp4'));
    const progress: number[] = [];
    uppy.on('upload-progress', (_file, p) => progress.push(p.bytesUploaded ?? 0));

    // Act
    const result = await uppy.upload();

    // Assert
    expect(result?.successful).toHaveLength(2);
    expect(events.errors).toEqual([]);
    expect(fake.formPosts).toHaveLength(1);
    expect([...fake.partPuts].sort()).toEqual([1, 2, 3, 4, 5]);
    const fileIds = events.success.map((body) => body.fileId);
    expect(events.success).toEqual(fileIds.map((fileId) => ({ fileId, status: 'pending' })));
    expect(new Set(fileIds).size).toBe(2);
    expect(fake.files).toEqual(new Set(fileIds.filter((id) => fake.uploads.has(String(id)))));
    expect(Math.max(...progress)).toBe(23);
  });

  it("reports the API's refusal as an upload-error carrying the client's PresignApiError", async () => {
    // Arrange
    const { fake, uppy, events } = setUp();
    fake.fail('POST /uploads', 415);
    add(uppy, fileOf(8));

    // Act
    const result = await uppy.upload();

    // Assert
    expect(result?.failed).toHaveLength(1);
    expect(events.errors).toHaveLength(1);
    expect(events.errors[0]).toBeInstanceOf(PresignApiError);
    expect(events.errors[0]).toMatchObject({ status: 415 });
  });

  it('pauses a multipart upload by aborting it and resumes with only the parts S3 does not hold', async () => {
    // Arrange
    let hold: ReturnType<typeof holdPart> | undefined;
    const { fake, uppy, events } = setUp({
      transport: (f) => {
        hold = holdPart(f.transport, 3);
        return hold.transport;
      },
    });
    const id = add(uppy, fileOf(23));
    const uploading = uppy.upload();
    await hold?.arrived;

    // Act
    expect(uppy.pauseResume(id)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const putsWhilePaused = [...fake.partPuts];
    uppy.pauseResume(id);
    const result = await uploading;

    // Assert
    expect(result?.successful).toHaveLength(1);
    expect(events.errors).toEqual([]);
    expect(putsWhilePaused).toEqual([1, 2, 3]);
    expect(fake.partPuts).toEqual([1, 2, 3, 3, 4, 5]);
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
    expect(fake.apiRequests.filter((r) => r.startsWith('GET /uploads/'))).toHaveLength(1);
  });

  it('aborts the multipart upload on the server when its file is removed', async () => {
    // Arrange
    let hold: ReturnType<typeof holdPart> | undefined;
    const { fake, uppy, events } = setUp({
      transport: (f) => {
        hold = holdPart(f.transport, 2);
        return hold.transport;
      },
    });
    const id = add(uppy, fileOf(23));
    const uploading = uppy.upload();
    await hold?.arrived;

    // Act
    uppy.removeFile(id);
    await uploading;
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assert
    const [upload] = fake.uploads.values();
    expect(upload?.closed).toBe('aborted');
    expect(events.errors).toEqual([]);
    expect(events.success).toEqual([]);
  });

  it('with waitForVerdict, ends a file the validator refused as an upload-error', async () => {
    // Arrange
    const { fake, uppy, events } = setUp({ waitForVerdict: true });
    fake.verdicts = ['pending', 'failed'];
    add(uppy, fileOf(23));

    // Act
    const result = await uppy.upload();

    // Assert
    expect(result?.failed).toHaveLength(1);
    expect(events.errors[0]).toBeInstanceOf(RejectedFileError);
    expect(events.success).toEqual([]);
  });

  it('refuses a limit that is not a whole number from 1', () => {
    const client = createClient({ apiUrl: 'https://api.test', getToken: () => 't' });
    expect(() => new Uppy().use(PresignUpload, { client, limit: 0 })).toThrow(RangeError);
  });
});
