import type { AwsS3Options } from '@uppy/aws-s3';
import type { Body, Meta, UppyFile } from '@uppy/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_PART_SIZE,
  fileIdOfKey,
  PresignApiError,
  partSizeFor,
  presignAwsS3Options,
} from '../../../integrations/uppy/presign-aws-s3.js';

const MiB = 1024 * 1024;
const API = 'https://api.example.test';
const KEY = 'uploads/0123456789abcdef0123456789abcdef/01JFILEID';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
}

let sent: Sent[];
let answers: Response[];

/** fetch as the module sees it: records each request and answers with the next queued response. */
beforeEach(() => {
  sent = [];
  answers = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    sent.push({
      method: String(init.method),
      url,
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
      signal: init.signal ?? undefined,
    });
    const answer = answers.shift();
    if (!answer) throw new Error(`no answer queued for ${init.method} ${url}`);
    return answer;
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const fileOf = (size: number, name = 'movie.mp4', type = 'video/mp4') =>
  ({ id: 'uppy-file-1', name, type, size, data: new Blob([]), meta: {} }) as unknown as UppyFile<Meta, Body>;

const options = (settings: Partial<Parameters<typeof presignAwsS3Options>[0]> = {}) =>
  presignAwsS3Options({ apiUrl: API, getToken: () => 'token-1', ...settings });

describe('presignAwsS3Options', () => {
  it('is an @uppy/aws-s3 options object', () => {
    // Arrange / Act: a compile-time check as much as a run-time one (tsc checks the test files).
    const uppyOptions: AwsS3Options<Meta, Body> = options();

    // Assert
    expect(typeof uppyOptions.shouldUseMultipart).toBe('function');
  });

  it('goes multipart only above the threshold (100 MiB unless told)', () => {
    // Arrange
    const byDefault = options();
    const at16 = options({ multipartThreshold: 16 * MiB });

    // Act / Assert
    expect(byDefault.shouldUseMultipart(fileOf(100 * MiB))).toBe(false);
    expect(byDefault.shouldUseMultipart(fileOf(100 * MiB + 1))).toBe(true);
    expect(at16.shouldUseMultipart(fileOf(16 * MiB))).toBe(false);
    expect(at16.shouldUseMultipart(fileOf(64 * MiB))).toBe(true);
  });

  it('asks the API for exactly the part size Uppy cuts the file into', async () => {
    // Arrange
    const uppyOptions = options({ partSize: 8 * MiB });
    const file = fileOf(64 * MiB);
    answers.push(
      json(201, { fileId: '01JFILEID', key: KEY, uploadId: 'up-1', partSize: 8 * MiB, partCount: 8 }),
    );
    const signal = new AbortController().signal;

    // Act
    const created = await uppyOptions.createMultipartUpload(file, signal);

    // Assert
    expect(created).toEqual({ uploadId: 'up-1', key: KEY });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${API}/uploads/multipart`,
      headers: { authorization: 'Bearer token-1', 'content-type': 'application/json' },
      body: { filename: 'movie.mp4', contentType: 'video/mp4', size: 64 * MiB, partSize: 8 * MiB },
    });
    expect(sent[0]?.signal).toBe(signal);
    expect(uppyOptions.getChunkSize({ size: 64 * MiB })).toBe(8 * MiB);
  });

  it('grows the part size of a huge file to whole MiB under 10,000 parts, the same for Uppy and the API', async () => {
    // Arrange
    const size = 200 * 1024 * MiB; // 200 GiB at 16 MiB would be 12,800 parts
    const uppyOptions = options();
    answers.push(json(201, { fileId: '01JFILEID', key: KEY, uploadId: 'up-1', partSize: 21 * MiB }));

    // Act
    const chunk = uppyOptions.getChunkSize({ size });
    await uppyOptions.createMultipartUpload(fileOf(size));

    // Assert
    expect(chunk).toBe(21 * MiB);
    expect(Math.ceil(size / chunk)).toBeLessThanOrEqual(10_000);
    expect(sent[0]?.body).toMatchObject({ partSize: chunk });
    expect(partSizeFor(10 * MiB)).toBe(DEFAULT_PART_SIZE);
    // Past 50 TiB even 10,000 parts of 5 GiB are not enough.
    expect(() => partSizeFor(60 * 1024 * 1024 * MiB)).toThrow(RangeError);
  });

  it('refuses a part size the API did not keep, and aborts that upload', async () => {
    // Arrange
    const uppyOptions = options({ partSize: 8 * MiB });
    answers.push(json(201, { fileId: '01JFILEID', key: KEY, uploadId: 'up-1', partSize: 16 * MiB }));
    answers.push(new Response(null, { status: 204 }));

    // Act
    const creating = uppyOptions.createMultipartUpload(fileOf(64 * MiB));

    // Assert
    await expect(creating).rejects.toThrow(/16777216 bytes, not the 8388608/);
    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST ${API}/uploads/multipart`,
      `DELETE ${API}/uploads/01JFILEID`,
    ]);
  });

  it('signs one part per call, with the headers the API gives', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(
      json(200, {
        parts: [{ partNumber: 3, url: 'https://s3.test/b/k?partNumber=3', headers: {}, expiresAt: 'x' }],
      }),
    );
    const signal = new AbortController().signal;

    // Act
    const signed = await uppyOptions.signPart(fileOf(64 * MiB), {
      uploadId: 'up-1',
      key: KEY,
      partNumber: 3,
      signal,
    });

    // Assert
    expect(signed).toEqual({ method: 'PUT', url: 'https://s3.test/b/k?partNumber=3', headers: {} });
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${API}/uploads/01JFILEID/parts`,
      body: { parts: [{ partNumber: 3 }] },
    });
    expect(sent[0]?.signal).toBe(signal);
  });

  it('fails a signing that returns no URL for the part asked', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(json(200, { parts: [{ partNumber: 4, url: 'https://s3.test/4', headers: {} }] }));

    // Act / Assert
    await expect(
      uppyOptions.signPart(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY, partNumber: 3 }),
    ).rejects.toThrow('part 3');
  });

  it('lists what S3 holds in the shape Uppy resumes from', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(
      json(200, {
        parts: [
          { partNumber: 1, size: 8 * MiB, etag: '"e1"' },
          { partNumber: 2, size: 8 * MiB, etag: '"e2"' },
        ],
      }),
    );

    // Act
    const parts = await uppyOptions.listParts(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY });

    // Assert
    expect(sent[0]).toMatchObject({ method: 'GET', url: `${API}/uploads/01JFILEID/parts`, body: undefined });
    expect(parts).toEqual([
      { PartNumber: 1, Size: 8 * MiB, ETag: '"e1"' },
      { PartNumber: 2, Size: 8 * MiB, ETag: '"e2"' },
    ]);
  });

  it('completes with every part number and ETag, and reports the file', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(json(200, { fileId: '01JFILEID', status: 'pending' }));

    // Act
    const completed = await uppyOptions.completeMultipartUpload(fileOf(64 * MiB), {
      uploadId: 'up-1',
      key: KEY,
      parts: [
        { PartNumber: 1, ETag: '"e1"' },
        { PartNumber: 2, ETag: '"e2"' },
      ],
    });

    // Assert
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${API}/uploads/01JFILEID/complete`,
      body: {
        parts: [
          { partNumber: 1, etag: '"e1"' },
          { partNumber: 2, etag: '"e2"' },
        ],
      },
    });
    expect(completed).toEqual({ fileId: '01JFILEID', key: KEY, status: 'pending' });
  });

  it('aborts with DELETE /uploads/{fileId}', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(new Response(null, { status: 204 }));

    // Act
    await uppyOptions.abortMultipartUpload(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY });

    // Assert
    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      `DELETE ${API}/uploads/01JFILEID`,
    ]);
    expect(sent[0]?.headers.authorization).toBe('Bearer token-1');
  });

  it('gets a form POST for small files, its fields in the order given', async () => {
    // Arrange
    const uppyOptions = options({ apiUrl: `${API}/` });
    const fields = { 'Content-Type': 'image/png', key: 'uploads/x/01J', Policy: 'p', 'X-Amz-Signature': 's' };
    answers.push(
      json(201, {
        fileId: '01J',
        key: 'uploads/x/01J',
        upload: { method: 'POST', url: 'https://s3.test/bucket', fields },
        expiresAt: 'x',
        maxBytes: 100,
      }),
    );

    // Act
    const parameters = await uppyOptions.getUploadParameters(fileOf(100, 'cat.png', 'image/png'), {});

    // Assert
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${API}/uploads`,
      body: { filename: 'cat.png', contentType: 'image/png', size: 100 },
    });
    expect(parameters).toEqual({ method: 'POST', url: 'https://s3.test/bucket', fields });
    expect(Object.keys(parameters.fields ?? {})).toEqual(Object.keys(fields));
  });

  it("throws the API's error code and message", async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(json(422, { error: { code: 'incomplete_upload', message: 'part 2 is missing' } }));

    // Act
    const error = await uppyOptions
      .completeMultipartUpload(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY, parts: [] })
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toBeInstanceOf(PresignApiError);
    expect(error).toMatchObject({ status: 422, code: 'incomplete_upload', message: 'part 2 is missing' });
  });

  it('names the status when the error body is not the API envelope', async () => {
    // Arrange
    const uppyOptions = options();
    answers.push(new Response('Bad Gateway', { status: 502 }));

    // Act
    const error = await uppyOptions
      .listParts(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY })
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ name: 'PresignApiError', status: 502, code: 'http_502' });
  });

  it('asks for the token before every request', async () => {
    // Arrange
    let issued = 0;
    const uppyOptions = options({ getToken: async () => `token-${++issued}` });
    answers.push(json(200, { parts: [] }), json(200, { parts: [] }));

    // Act
    await uppyOptions.listParts(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY });
    await uppyOptions.listParts(fileOf(64 * MiB), { uploadId: 'up-1', key: KEY });

    // Assert
    expect(sent.map((request) => request.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('refuses part sizes S3 would refuse', () => {
    // Act / Assert
    expect(() => options({ partSize: 5 * MiB - 1 })).toThrow(RangeError);
    expect(() => options({ partSize: 5 * 1024 * MiB + 1 })).toThrow(RangeError);
    expect(() => options({ partSize: 5 * MiB })).not.toThrow();
  });

  it('takes the fileId from the last segment of the key', () => {
    // Act / Assert
    expect(fileIdOfKey(KEY)).toBe('01JFILEID');
    expect(() => fileIdOfKey('uploads/x/')).toThrow();
  });
});
