import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../handlers/create-upload.js';
import { MAX_BODY_DEPTH, MAX_UPLOAD_BODY_BYTES } from '../../../lib/http/route.js';
import { pendingMarkerKey } from '../../../lib/store/pending-markers.js';
import { MAX_BATCH_FILES } from '../../../lib/uploads/upload-request.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { testOwner } from '../../support/owners.js';
import { signTestToken } from '../../support/tokens.js';

type Json = Record<string, unknown>;
interface Issued {
  fileId: string;
  key: string;
  maxBytes: number;
  upload: { fields: Record<string, string> };
}

/** The function as deployed, on the unit tests' clock: signing forms needs no call to S3. */
const runtime = await (await import('../../support/runtime.js')).unitRuntime();
const handler = createHandler(runtime);

/** The only writes issuing forms makes: the files' pending markers (by key); any other call to S3 fails. */
let markers: Set<string>;

beforeEach(() => {
  markers = new Set();
  vi.spyOn(runtime.s3, 'send').mockImplementation(async (command: object) => {
    if (command instanceof PutObjectCommand && command.input.Bucket === 'unit-test-state') {
      markers.add(command.input.Key ?? '');
      return {};
    }
    throw new Error(`unexpected S3 call ${command.constructor.name}`);
  });
});

async function post(body: unknown) {
  const event = apiEvent({
    method: 'POST',
    path: '/uploads',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await signTestToken('auth0|batcher')}`,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const response = await handler(event, lambdaContext());
  return { status: response.statusCode, body: JSON.parse(response.body ?? 'null') as Json };
}

const file = (index: number) => ({
  filename: `photo-${index}.png`,
  contentType: 'image/png',
  size: 1000 + index,
});
const files = (count: number) => Array.from({ length: count }, (_, index) => file(index));
const messageOf = (body: Json) => String((body.error as Json | undefined)?.message);

describe('POST /uploads with a batch', () => {
  it('answers 201 with a form per file, in the request’s order', async () => {
    // Act
    const { status, body } = await post({ files: files(3) });

    // Assert
    expect(status).toBe(201);
    const uploads = body.uploads as Issued[];
    expect(uploads.map((upload) => upload.maxBytes)).toEqual([1000, 1001, 1002]);
    expect(uploads.map((upload) => upload.upload.fields.key)).toEqual(uploads.map((upload) => upload.key));
    expect(new Set(uploads.map((upload) => upload.fileId)).size).toBe(3);
    const owner = testOwner('auth0|batcher');
    expect(markers).toEqual(new Set(uploads.map(({ fileId }) => pendingMarkerKey(owner, fileId))));
  });

  it(`lets ${MAX_BATCH_FILES} files at their largest through the body limit to the rules`, async () => {
    // Arrange: the longest filename, content type and clientMetadata each file may carry.
    const largest = {
      filename: `${'😀'.repeat(251)}.png`,
      contentType: `image/png; ${'x'.repeat(244)}`,
      size: 1,
      clientMetadata: { note: 'x'.repeat(501) },
    };
    const body = JSON.stringify({ files: Array.from({ length: MAX_BATCH_FILES }, () => largest) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_UPLOAD_BODY_BYTES);

    // Act
    const { status, body: answer } = await post(body);

    // Assert: past the body limit and the schema; S3's 2 KB of metadata is what refuses this file.
    expect(status).toBe(400);
    expect(messageOf(answer)).toMatch(/^files\[0\]: filename and clientMetadata together take/);
  });

  it(`signs ${MAX_BATCH_FILES} files in one call`, async () => {
    // Act
    const { status, body } = await post({ files: files(MAX_BATCH_FILES) });

    // Assert
    expect(status).toBe(201);
    expect((body.uploads as Issued[]).map((upload) => upload.maxBytes)).toEqual(
      files(MAX_BATCH_FILES).map((one) => one.size),
    );
  });

  it.each([
    ['no files', { files: [] }, 'files: Too small'],
    [`${MAX_BATCH_FILES + 1} files`, { files: files(MAX_BATCH_FILES + 1) }, 'files: Too big'],
    ['files that is not an array', { files: { 0: file(0) } }, 'files: Invalid input: expected array'],
    [
      'a file without size',
      { files: [file(0), { filename: 'a.png', contentType: 'image/png' }] },
      'files[1].size',
    ],
    ['a file with a string size', { files: [{ ...file(0), size: '1' }] }, 'files[0].size'],
    [
      'a file with an unknown field',
      { files: [{ ...file(0), key: 'uploads/x/y' }] },
      'files[0]: Unrecognized key: "key"',
    ],
    [
      'a file with a bidi override',
      { files: [{ ...file(0), filename: 'a\u202Egnp.exe' }] },
      'files[0].filename',
    ],
    ['a file that is null', { files: [null] }, 'files[0]: Invalid input: expected object'],
    ['a batch next to a file', { ...file(0), files: [file(1)] }, 'Unrecognized key: "files"'],
    [
      'a batch with an unknown field',
      { files: [file(0)], owner: 'someone-else' },
      'Unrecognized key: "owner"',
    ],
  ])('refuses %s with 400 naming the field', async (_, body, message) => {
    // Act
    const { status, body: answer } = await post(body);

    // Assert
    expect(status).toBe(400);
    expect(answer).toMatchObject({ error: { code: 'invalid_request' } });
    expect(messageOf(answer)).toContain(message);
  });

  it('still names the field of a one-file body', async () => {
    // Act
    const { status, body } = await post({ ...file(0), size: 0 });

    // Assert
    expect(status).toBe(400);
    expect(messageOf(body)).toBe('size: Too small: expected number to be >0');
  });

  it('refuses a batch with a file of a refused type with 415 naming its index', async () => {
    // Act
    const { status, body } = await post({
      files: [file(0), file(1), { ...file(2), contentType: 'text/html' }],
    });

    // Assert
    expect(status).toBe(415);
    expect(body).toEqual({
      error: {
        code: 'unsupported_content_type',
        message: 'files[2]: content type "text/html" is not accepted',
      },
    });
  });

  it('refuses a batch with a file over its rule with 413 naming its index', async () => {
    // Act
    const { status, body } = await post({ files: [file(0), { ...file(1), size: 26214400 }] });

    // Assert
    expect(status).toBe(413);
    expect(body).toEqual({
      error: { code: 'file_too_large', message: 'files[1]: size 26214400 exceeds 10485760 for image/png' },
    });
  });

  it('refuses a body over the limit unparsed with 413', async () => {
    // Arrange
    const body = JSON.stringify({ files: files(1), pad: 'x'.repeat(MAX_UPLOAD_BODY_BYTES) });

    // Act
    const { status, body: answer } = await post(body);

    // Assert
    expect(status).toBe(413);
    expect(answer).toMatchObject({ error: { code: 'request_too_large' } });
  });

  it('refuses a body of brackets as deep as the limit allows with 400, never a 500', async () => {
    // Arrange: written as text, since JSON.stringify would itself recurse that deep.
    const depth = MAX_UPLOAD_BODY_BYTES / 2 - 100;
    const body = `{"files":[{"filename":"a.png","contentType":"image/png","size":1,"clientMetadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_UPLOAD_BODY_BYTES);

    // Act
    const { status, body: answer } = await post(body);

    // Assert
    expect(status).toBe(400);
    expect(messageOf(answer)).toBe(`request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  });

  it('refuses a batch of many files each deep within the limit as a whole, never a 500', async () => {
    // Arrange: 100 files, each clientMetadata as deep as a body may nest.
    const arrays = MAX_BODY_DEPTH - 5;
    const one = `{"filename":"a.png","contentType":"image/png","size":1,"clientMetadata":{"a":${'['.repeat(arrays)}${']'.repeat(arrays)}}}`;
    const body = `{"files":[${Array.from({ length: MAX_BATCH_FILES }, () => one).join(',')}]}`;

    // Act
    const { status } = await post(body);

    // Assert
    expect(status).toBe(201);
  });
});
