import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../lib/runtime.js';
import { UploadIncomplete } from '../../lib/store/store-errors.js';
import { completeUpload } from '../../lib/uploads/multipart-uploads.js';
import { mp4OfSize } from '../support/sample-files.js';
import { signTestToken } from '../support/tokens.js';
import {
  adminS3,
  api,
  assumeFunctionRole,
  createdObject,
  functionEnvironment,
  newOwner,
  ownerOf,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * Multipart uploads end to end on the real gateway: the routes over HTTP,
 * the parts sent to Ceph RGW with the URLs they hand out, and RGW itself
 * refusing any part the server did not agree to.
 */

const MiB = 1024 * 1024;
const PART_SIZE = 5 * MiB;

interface Started {
  fileId: string;
  key: string;
  uploadId: string;
  partSize: number;
  partCount: number;
  expiresAt: string;
  maxBytes: number;
}
interface PartUrl {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Starts a multipart upload of `file` (video/mp4, 5 MiB parts) as `token`; throws unless 201. */
async function start(token: string, file: Buffer, request: Record<string, unknown> = {}): Promise<Started> {
  const answer = await api<Started>('POST', '/uploads/multipart', {
    token,
    body: {
      filename: 'film.mp4',
      contentType: 'video/mp4',
      size: file.length,
      partSize: PART_SIZE,
      ...request,
    },
  });
  if (answer.status !== 201)
    throw new Error(`POST /uploads/multipart: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function sign(token: string, fileId: string, parts: { partNumber: number; md5?: string }[]) {
  const answer = await api<{ parts: PartUrl[] }>('POST', `/uploads/${fileId}/parts`, {
    token,
    body: { parts },
  });
  if (answer.status !== 200) throw new Error(`parts: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.parts;
}

/** The bytes of part `partNumber` of `file`. */
const partOf = (file: Buffer, partNumber: number) =>
  file.subarray((partNumber - 1) * PART_SIZE, Math.min(file.length, partNumber * PART_SIZE));

/** PUTs `body` to a part URL with its headers; S3's status, ETag and error body. */
async function putPart(part: Pick<PartUrl, 'url' | 'headers'>, body: Buffer, url = part.url) {
  const response = await fetch(url, { method: 'PUT', headers: part.headers, body: new Uint8Array(body) });
  return { status: response.status, etag: response.headers.get('etag') ?? '', text: await response.text() };
}

/** Signs and sends every part of `file`; returns what POST /complete takes. */
async function sendAllParts(token: string, started: Started, file: Buffer) {
  const numbers = Array.from({ length: started.partCount }, (_, index) => ({ partNumber: index + 1 }));
  const urls = await sign(token, started.fileId, numbers);
  return Promise.all(
    urls.map(async (part) => {
      const sent = await putPart(part, partOf(file, part.partNumber));
      expect(sent.status, sent.text).toBe(200);
      return { partNumber: part.partNumber, etag: sent.etag };
    }),
  );
}

const complete = (token: string, fileId: string, parts: { partNumber: number; etag: string }[]) =>
  api('POST', `/uploads/${fileId}/complete`, { token, body: { parts } });

const versionsAt = async (key: string) =>
  (
    (await adminS3.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }))).Versions ?? []
  ).filter((version) => version.Key === key);

describe('a multipart upload, as a client uses it', () => {
  it('starts, signs, sends parts (one MD5-pinned), lists them, completes, passes and downloads byte-exact', async () => {
    // Arrange
    const { sub, token } = await newOwner('mp');
    const file = mp4OfSize(12 * MiB);

    // Act
    const started = await start(token, file);
    const urls = await sign(token, started.fileId, [
      { partNumber: 1, md5: md5(partOf(file, 1)) },
      { partNumber: 2 },
      { partNumber: 3 },
    ]);
    const sent = await Promise.all(urls.map((part) => putPart(part, partOf(file, part.partNumber))));
    const listed = await api<{ parts: { partNumber: number; size: number; etag: string }[] }>(
      'GET',
      `/uploads/${started.fileId}/parts`,
      { token },
    );
    const completed = await complete(
      token,
      started.fileId,
      sent.map((part, index) => ({ partNumber: index + 1, etag: part.etag })),
    );
    const verdict = await waitForVerdict(token, started.fileId, 30);
    const download = await api<{ url: string }>('POST', `/files/${started.fileId}/download-url`, {
      token,
      body: {},
    });
    const bytes = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());

    // Assert
    expect(started).toMatchObject({ partSize: PART_SIZE, partCount: 3, maxBytes: 12 * MiB });
    expect(started.key).toBe(`uploads/${ownerOf(sub).segment}/${started.fileId}`);
    expect(urls[0]?.headers).toEqual({ 'content-md5': md5(partOf(file, 1)) });
    expect(Date.parse(urls[0]?.expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000);
    expect(sent.map((part) => part.status)).toEqual([200, 200, 200]);
    expect(listed.body.parts.map(({ partNumber, size }) => [partNumber, size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 2 * MiB],
    ]);
    expect(completed).toMatchObject({ status: 200, body: { fileId: started.fileId, status: 'pending' } });
    expect(verdict).toMatchObject({
      status: 'passed',
      detectedType: 'video/mp4',
      size: 12 * MiB,
      filename: 'film.mp4',
    });
    expect(sha256(bytes)).toBe(sha256(file));
    expect(await versionsAt(started.key)).toHaveLength(1);
  });

  it('is created untagged on RGW (pending to the read gate) and never served when its bytes are not what it declared', async () => {
    // Arrange: declared video/mp4, the bytes are text.
    const { token } = await newOwner('mp');
    const file = Buffer.alloc(6 * MiB, 'not a video at all\n');
    const started = await start(token, file);

    // Act
    const parts = await sendAllParts(token, started, file);
    const completed = await complete(token, started.fileId, parts);
    const created = await createdObject(started.key, 30);
    const verdict = await waitForVerdict(token, started.fileId, 30);
    const download = await api('POST', `/files/${started.fileId}/download-url`, { token, body: {} });
    const reader = roleS3Client(await assumeFunctionRole('createDownloadUrl', 'mp-gate'));
    const direct = await getSignedUrl(
      reader,
      new GetObjectCommand({ Bucket: stack.bucket, Key: started.key, VersionId: created.versionId }),
    );

    // Assert
    expect(completed.status).toBe(200);
    expect(created.tags).toEqual([]);
    expect(verdict).toMatchObject({ status: 'failed' });
    expect(download).toMatchObject({ status: 409, body: { error: { code: 'not_validated' } } });
    expect((await fetch(direct)).status).toBe(403);
  });

  it('resumes: parts sent before are listed, the rest signed again and sent, and the file completes', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(11 * MiB);
    const started = await start(token, file);
    const [first] = await sign(token, started.fileId, [{ partNumber: 1 }]);
    await putPart(first as PartUrl, partOf(file, 1));

    // Act: a new session knows only the fileId.
    const listed = await api<{ parts: { partNumber: number; etag: string }[] }>(
      'GET',
      `/uploads/${started.fileId}/parts`,
      { token },
    );
    const missing = [2, 3].filter((n) => !listed.body.parts.some((part) => part.partNumber === n));
    const urls = await sign(
      token,
      started.fileId,
      missing.map((partNumber) => ({ partNumber })),
    );
    const rest = await Promise.all(
      urls.map(async (part) => ({
        partNumber: part.partNumber,
        etag: (await putPart(part, partOf(file, part.partNumber))).etag,
      })),
    );
    const completed = await complete(token, started.fileId, [
      ...listed.body.parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
      ...rest,
    ]);

    // Assert
    expect(missing).toEqual([2, 3]);
    expect(completed.status).toBe(200);
    expect(await waitForVerdict(token, started.fileId, 30)).toMatchObject({ status: 'passed' });
  });
});

describe('S3 refuses a part the server did not agree to', () => {
  let token = '';
  let started: Started;
  const file = mp4OfSize(11 * MiB);

  beforeAll(async () => {
    ({ token } = await newOwner('mp'));
    started = await start(token, file);
  });

  it('refuses another length: a shorter and a longer body under one URL', async () => {
    // Arrange
    const [part] = await sign(token, started.fileId, [{ partNumber: 1 }]);

    // Act
    const shorter = await putPart(part as PartUrl, partOf(file, 1).subarray(1));
    const longer = await putPart(part as PartUrl, Buffer.concat([partOf(file, 1), Buffer.from('x')]));

    // Assert
    expect(shorter.status).toBe(403);
    expect(longer.status).toBe(403);
  });

  it('refuses another part number under the same signature', async () => {
    // Arrange
    const [part] = await sign(token, started.fileId, [{ partNumber: 2 }]);
    const url = new URL((part as PartUrl).url);
    url.searchParams.set('partNumber', '1');

    // Act
    const moved = await putPart(part as PartUrl, partOf(file, 2), url.toString());

    // Assert
    expect(moved.status).toBe(403);
  });

  it('refuses, under a pinned MD5, other bytes of the right length (400 BadDigest) and a request without the header', async () => {
    // Arrange
    const [part] = await sign(token, started.fileId, [{ partNumber: 3, md5: md5(partOf(file, 3)) }]);
    const forged = Buffer.from(partOf(file, 3));
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0xff;

    // Act
    const otherBytes = await putPart(part as PartUrl, forged);
    const withoutHeader = await putPart({ url: (part as PartUrl).url, headers: {} }, partOf(file, 3));

    // Assert
    expect(otherBytes.status).toBe(400);
    expect(otherBytes.text).toContain('BadDigest');
    expect(withoutHeader.status).toBe(403);
  });

  it('holds none of the refused bytes: no part landed', async () => {
    // Act
    const listed = await api<{ parts: unknown[] }>('GET', `/uploads/${started.fileId}/parts`, { token });

    // Assert
    expect(listed).toMatchObject({ status: 200, body: { parts: [] } });
  });
});

describe('completion checks every part against the declared size', () => {
  it('answers 422 naming a missing part, and the upload stays open to finish', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(11 * MiB);
    const started = await start(token, file);
    const urls = await sign(token, started.fileId, [{ partNumber: 1 }, { partNumber: 2 }]);
    const sent = await Promise.all(
      urls.map(async (part) => ({
        partNumber: part.partNumber,
        etag: (await putPart(part, partOf(file, part.partNumber))).etag,
      })),
    );

    // Act
    const early = await complete(token, started.fileId, sent);
    const [last] = await sign(token, started.fileId, [{ partNumber: 3 }]);
    const lastSent = await putPart(last as PartUrl, partOf(file, 3));
    const finished = await complete(token, started.fileId, [...sent, { partNumber: 3, etag: lastSent.etag }]);

    // Assert
    expect(early).toMatchObject({
      status: 422,
      body: { error: { code: 'incomplete_upload', message: 'part 3 is missing' } },
    });
    expect(finished.status).toBe(200);
  });

  it('answers 422 naming a short part that bypassed the part URLs (sent with other credentials)', async () => {
    // Arrange: the bucket owner sends part 2 one byte short, as no part URL of ours would let anyone.
    const { token } = await newOwner('mp');
    const file = mp4OfSize(11 * MiB);
    const started = await start(token, file);
    const urls = await sign(token, started.fileId, [{ partNumber: 1 }, { partNumber: 3 }]);
    const sent = await Promise.all(
      urls.map(async (part) => ({
        partNumber: part.partNumber,
        etag: (await putPart(part, partOf(file, part.partNumber))).etag,
      })),
    );
    const short = await adminS3.send(
      new UploadPartCommand({
        Bucket: stack.bucket,
        Key: started.key,
        UploadId: started.uploadId,
        PartNumber: 2,
        Body: partOf(file, 2).subarray(1),
      }),
    );

    // Act
    const completed = await complete(token, started.fileId, [
      ...sent,
      { partNumber: 2, etag: short.ETag ?? '' },
    ]);

    // Assert
    expect(completed).toMatchObject({
      status: 422,
      body: {
        error: { code: 'incomplete_upload', message: `part 2 is ${5 * MiB - 1} bytes, not ${5 * MiB}` },
      },
    });
    expect(await versionsAt(started.key)).toEqual([]);
  });

  it('answers 422 when the ETags the client names are not the parts S3 holds', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    const parts = await sendAllParts(token, started, file);

    // Act
    const completed = await complete(token, started.fileId, [
      { ...(parts[0] as { partNumber: number }), etag: 'f'.repeat(32) },
      ...parts.slice(1),
    ]);

    // Assert
    expect(completed).toMatchObject({ status: 422, body: { error: { code: 'incomplete_upload' } } });
  });
});

describe('closing an upload: complete, abort, and their races', () => {
  it('answers 409 upload_closed to a second completion, an abort after it, a listing and part URLs; a part URL signed before is refused by S3', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    const [early] = await sign(token, started.fileId, [{ partNumber: 1 }]);
    const parts = await sendAllParts(token, started, file);
    expect((await complete(token, started.fileId, parts)).status).toBe(200);

    // Act
    const again = await complete(token, started.fileId, parts);
    const abort = await api('DELETE', `/uploads/${started.fileId}`, { token });
    const listing = await api('GET', `/uploads/${started.fileId}/parts`, { token });
    const signing = await api('POST', `/uploads/${started.fileId}/parts`, {
      token,
      body: { parts: [{ partNumber: 1 }] },
    });
    const resent = await putPart(early as PartUrl, partOf(file, 1));

    // Assert
    for (const answer of [again, abort, listing, signing]) {
      expect(answer).toMatchObject({ status: 409, body: { error: { code: 'upload_closed' } } });
    }
    expect(resent.status).toBe(404);
    expect(await versionsAt(started.key)).toHaveLength(1);
  });

  it('answers 409 upload_closed to part URLs of an aborted upload', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const started = await start(token, mp4OfSize(6 * MiB));
    expect((await api('DELETE', `/uploads/${started.fileId}`, { token })).status).toBe(204);

    // Act
    const signing = await api('POST', `/uploads/${started.fileId}/parts`, {
      token,
      body: { parts: [{ partNumber: 1 }] },
    });

    // Assert
    expect(signing).toMatchObject({ status: 409, body: { error: { code: 'upload_closed' } } });
  });

  it('after S3 refuses a completion (a part changed under it: 422), the upload is still open: DELETE aborts it and gives its reservation back', async () => {
    // Arrange: every part sent; a URL for part 1 kept to change it while the completion runs
    const { sub, token } = await newOwner('mp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    const [again] = await sign(token, started.fileId, [{ partNumber: 1 }]);
    const parts = await sendAllParts(token, started, file);
    const session = await assumeFunctionRole('completeUpload', 'mp-refused-completion');
    const runtime = await createRuntime(await functionEnvironment(session), { s3: roleS3Client(session) });
    // The parts are listed, then part 1 is sent again with other bytes of its length before S3 completes.
    const listUploadedParts: typeof runtime.store.listUploadedParts = async (upload) => {
      const held = await runtime.store.listUploadedParts(upload);
      const changed = Buffer.from(partOf(file, 1)).fill(7, 0, 64);
      expect((await putPart(again as PartUrl, changed)).status).toBe(200);
      return held;
    };
    const usageBefore = await api<{ reservedBytes: number }>('GET', '/usage', { token });

    // Act
    const completing = completeUpload(
      { store: { ...runtime.store, listUploadedParts }, clock: runtime.clock },
      ownerOf(sub),
      started.fileId,
      parts,
    );
    // The store's refusal, which the route answers 422 incomplete_upload (lib/http/store-refusals.ts).
    await expect(completing).rejects.toBeInstanceOf(UploadIncomplete);
    const listing = await api('GET', `/uploads/${started.fileId}/parts`, { token });
    const aborted = await api('DELETE', `/uploads/${started.fileId}`, { token });
    const usageAfter = await api<{ reservedBytes: number }>('GET', '/usage', { token });

    // Assert
    expect(listing.status).toBe(200);
    expect(aborted.status).toBe(204);
    expect(usageBefore.body.reservedBytes).toBe(file.length);
    expect(usageAfter.body.reservedBytes).toBe(0);
    expect(await versionsAt(started.key)).toEqual([]);
  });

  it('aborts an open upload: its parts are gone, and completing or aborting again answers 409', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    const parts = await sendAllParts(token, started, file);

    // Act
    const aborted = await api('DELETE', `/uploads/${started.fileId}`, { token });
    const completed = await complete(token, started.fileId, parts);
    const again = await api('DELETE', `/uploads/${started.fileId}`, { token });
    const held = await adminS3
      .send(new ListPartsCommand({ Bucket: stack.bucket, Key: started.key, UploadId: started.uploadId }))
      .then(
        () => 200,
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );

    // Assert
    expect(aborted.status).toBe(204);
    expect(completed).toMatchObject({ status: 409, body: { error: { code: 'upload_closed' } } });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'upload_closed' } } });
    // AWS answers NoSuchUpload, RGW NoSuchKey: a 404 either way.
    expect(held).toBe(404);
    expect(await versionsAt(started.key)).toEqual([]);
  });

  it('two completions at once: one file, one version, never a 500', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    const parts = await sendAllParts(token, started, file);

    // Act
    const answers = await Promise.all([1, 2, 3].map(() => complete(token, started.fileId, parts)));

    // Assert
    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toContain(200);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    expect(await versionsAt(started.key)).toHaveLength(1);
    expect(await waitForVerdict(token, started.fileId, 30)).toMatchObject({ status: 'passed' });
  });

  it('a completion racing an abort: exactly one of them wins, never a 500, and the file exists exactly when the completion won', async () => {
    // Arrange
    const { token } = await newOwner('mp');
    for (let round = 0; round < 4; round++) {
      const file = mp4OfSize(6 * MiB);
      const started = await start(token, file);
      const parts = await sendAllParts(token, started, file);

      // Act
      const [completed, aborted] = await Promise.all([
        complete(token, started.fileId, parts),
        api('DELETE', `/uploads/${started.fileId}`, { token }),
      ]);

      // Assert
      expect([200, 409]).toContain(completed.status);
      expect([204, 409]).toContain(aborted.status);
      expect(completed.status === 200 && aborted.status === 204).toBe(false);
      expect(completed.status === 409 && aborted.status === 409).toBe(false);
      expect(await versionsAt(started.key)).toHaveLength(completed.status === 200 ? 1 : 0);
    }
  });
});

describe('hostile and malformed input on every multipart route', () => {
  let token = '';
  let started: Started;

  beforeAll(async () => {
    ({ token } = await newOwner('mp'));
    started = await start(token, mp4OfSize(11 * MiB));
  });

  const routes = () =>
    [
      ['POST', `/uploads/${started.fileId}/parts`, { parts: [{ partNumber: 1 }] }],
      ['GET', `/uploads/${started.fileId}/parts`, undefined],
      ['POST', `/uploads/${started.fileId}/complete`, { parts: [{ partNumber: 1, etag: 'a'.repeat(32) }] }],
      ['DELETE', `/uploads/${started.fileId}`, undefined],
    ] as const;

  it("answers 404 to another owner on every route, and the owner's upload stays open", async () => {
    // Arrange
    const intruder = await newOwner('mp-intruder');

    // Act
    const answers = await Promise.all(
      routes().map(([method, path, body]) => api(method, path, { token: intruder.token, body })),
    );
    const listed = await api('GET', `/uploads/${started.fileId}/parts`, { token });

    // Assert
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(listed.status).toBe(200);
  });

  it('answers 401 without a token, with a token signed by another key, and with alg none', async () => {
    // Arrange
    const forged = await signTestToken('mp|forged', { now: new Date() });
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;

    // Act
    const answers = await Promise.all(
      [null, forged, none].flatMap((bearer) =>
        [
          ...routes(),
          ['POST', '/uploads/multipart', { filename: 'a.mp4', contentType: 'video/mp4', size: 1 }] as const,
        ].map(([method, path, body]) => api(method, path, { token: bearer, body })),
      ),
    );

    // Assert
    for (const answer of answers) expect(answer.status).toBe(401);
  });

  it.each([
    ['a malformed file id', 'POST', '/uploads/not-a-file-id/parts', { parts: [{ partNumber: 1 }] }, 400],
    ['part number 0', 'POST', 'parts', { parts: [{ partNumber: 0 }] }, 400],
    ['part number 10,001', 'POST', 'parts', { parts: [{ partNumber: 10_001 }] }, 400],
    ['a part beyond the last', 'POST', 'parts', { parts: [{ partNumber: 4 }] }, 400],
    ['a fractional part number', 'POST', 'parts', { parts: [{ partNumber: 1.5 }] }, 400],
    ['a part number twice', 'POST', 'parts', { parts: [{ partNumber: 1 }, { partNumber: 1 }] }, 400],
    [
      '101 parts at once',
      'POST',
      'parts',
      { parts: Array.from({ length: 101 }, (_, i) => ({ partNumber: i + 1 })) },
      400,
    ],
    ['no parts', 'POST', 'parts', { parts: [] }, 400],
    ['an MD5 that is not one', 'POST', 'parts', { parts: [{ partNumber: 1, md5: 'abc' }] }, 400],
    ['an unknown field', 'POST', 'parts', { parts: [{ partNumber: 1 }], uploadId: 'other' }, 400],
    ['a body that is not an object', 'POST', 'parts', [1, 2], 400],
    ['an ETag with markup', 'POST', 'complete', { parts: [{ partNumber: 1, etag: '<x>' }] }, 400],
    ['a completion without parts', 'POST', 'complete', {}, 400],
  ] as const)('answers %s with 400 naming the field', async (_, method, path, body, status) => {
    // Act
    const target = path.startsWith('/') ? path : `/uploads/${started.fileId}/${path}`;
    const answer = await api(method, target, { token, body });

    // Assert
    expect(answer).toMatchObject({ status, body: { error: { code: 'invalid_request' } } });
  });

  it.each([
    ['a part size under 5 MiB', { partSize: 5 * MiB - 1 }, 400, 'invalid_request'],
    ['a part size over 5 GiB', { partSize: 5 * 1024 * MiB + 1 }, 400, 'invalid_request'],
    ['a size above the type limit', { size: 5 * 1024 * MiB + 1, partSize: undefined }, 413, 'file_too_large'],
    ['a type no rule allows', { contentType: 'text/html' }, 415, 'unsupported_content_type'],
    ['a control character in the filename', { filename: 'a\u0000.mp4' }, 400, 'invalid_request'],
    ['a negative size', { size: -1 }, 400, 'invalid_request'],
  ])('refuses to start %s', async (_, change, status, code) => {
    // Act
    const answer = await api('POST', '/uploads/multipart', {
      token,
      body: {
        filename: 'film.mp4',
        contentType: 'video/mp4',
        size: 11 * MiB,
        partSize: PART_SIZE,
        ...change,
      },
    });

    // Assert
    expect(answer).toMatchObject({ status, body: { error: { code } } });
  });

  it('refuses a body that is not JSON, and oversized bodies unparsed (413)', async () => {
    // Act
    const notJson = await api('POST', `/uploads/${started.fileId}/parts`, {
      token,
      raw: '{parts',
      headers: { 'content-type': 'application/json' },
    });
    const big = await api('POST', `/uploads/${started.fileId}/parts`, {
      token,
      body: { pad: 'x'.repeat(17 * 1024) },
    });
    const bigCompletion = await api('POST', `/uploads/${started.fileId}/complete`, {
      token,
      body: { pad: 'x'.repeat(1024 * 1024 + 1) },
    });

    // Assert
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'request_too_large' } } });
    expect(bigCompletion).toMatchObject({ status: 413, body: { error: { code: 'request_too_large' } } });
  });

  it('completes from the 10,000 parts a body may name (the route reads them all, then says which is missing)', async () => {
    // Arrange: a body naming parts 1..3 plus 9,997 beyond the last; under 1 MiB.
    const parts = Array.from({ length: 10_000 }, (_, i) => ({ partNumber: i + 1, etag: 'a'.repeat(32) }));

    // Act
    const answer = await complete(token, started.fileId, parts);

    // Assert
    expect(answer).toMatchObject({ status: 422, body: { error: { code: 'incomplete_upload' } } });
  });
});

describe('the multipart roles on the real gateway: each step can do its own and nothing else', () => {
  let key = '';
  let uploadId = '';
  const clients = {} as Record<string, S3Client>;

  beforeAll(async () => {
    for (const fn of [
      'signUploadParts',
      'listUploadParts',
      'completeUpload',
      'abortUpload',
      'createMultipartUpload',
    ]) {
      clients[fn] = roleS3Client(await assumeFunctionRole(fn, `mp-lp-${fn}`));
    }
    const { token } = await newOwner('mp-lp');
    const started = await start(token, mp4OfSize(6 * MiB));
    key = started.key;
    uploadId = started.uploadId;
  });

  /** S3's status for `command` sent with `fn`'s role: 200 when it succeeded. */
  async function statusOf(fn: string, command: unknown): Promise<number> {
    try {
      await (clients[fn] as S3Client).send(command as never);
      return 200;
    } catch (error) {
      return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
    }
  }

  const listParts = () => new ListPartsCommand({ Bucket: stack.bucket, Key: key, UploadId: uploadId });
  const completeIt = () =>
    new CompleteMultipartUploadCommand({
      Bucket: stack.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
    });
  const abortIt = () =>
    new AbortMultipartUploadCommand({ Bucket: stack.bucket, Key: key, UploadId: uploadId });
  const readRecord = () =>
    new GetObjectCommand({
      Bucket: stack.stateBucket,
      Key: `multipart-uploads/${key.split('/')[1]}/${key.split('/')[2]}`,
    });

  it('the part signer may not list or abort, nor write a record', async () => {
    expect(await statusOf('signUploadParts', listParts())).toBe(403);
    expect(await statusOf('signUploadParts', abortIt())).toBe(403);
    expect(
      await statusOf(
        'signUploadParts',
        new PutObjectCommand({ Bucket: stack.stateBucket, Key: `multipart-uploads/x/${ulid()}`, Body: '{}' }),
      ),
    ).toBe(403);
    expect(await statusOf('signUploadParts', readRecord())).toBe(200);
  });

  it('the lister may list but not send a part, complete or abort', async () => {
    expect(await statusOf('listUploadParts', listParts())).toBe(200);
    expect(
      await statusOf(
        'listUploadParts',
        new UploadPartCommand({
          Bucket: stack.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      ),
    ).toBe(403);
    expect(await statusOf('listUploadParts', completeIt())).toBe(403);
    expect(await statusOf('listUploadParts', abortIt())).toBe(403);
  });

  it('the completer may not abort, the aborter may not list or complete, neither writes a record', async () => {
    expect(await statusOf('completeUpload', abortIt())).toBe(403);
    expect(await statusOf('abortUpload', listParts())).toBe(403);
    expect(await statusOf('abortUpload', completeIt())).toBe(403);
    for (const fn of ['completeUpload', 'abortUpload', 'listUploadParts']) {
      expect(
        await statusOf(
          fn,
          new PutObjectCommand({
            Bucket: stack.stateBucket,
            Key: `multipart-uploads/x/${ulid()}`,
            Body: '{}',
          }),
        ),
      ).toBe(403);
    }
    // The grants exist: the refusals above are the roles' doing.
    expect(await statusOf('abortUpload', abortIt())).toBe(200);
  });

  it("the part signer's own credentials completing an upload short (IAM's s3:PutObject also allows completion) never make a file that passes", async () => {
    // Arrange: two of three parts sent with the API's URLs.
    const { token } = await newOwner('mp-lp');
    const file = mp4OfSize(11 * MiB);
    const started = await start(token, file);
    const urls = await sign(token, started.fileId, [{ partNumber: 1 }, { partNumber: 2 }]);
    const parts = await Promise.all(
      urls.map(async (part) => ({
        PartNumber: part.partNumber,
        ETag: (await putPart(part, partOf(file, part.partNumber))).etag,
      })),
    );

    // Act: completion skipping the server's checks, with the part signer's own credentials.
    const completed = await statusOf(
      'signUploadParts',
      new CompleteMultipartUploadCommand({
        Bucket: stack.bucket,
        Key: started.key,
        UploadId: started.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const verdict = await waitForVerdict(token, started.fileId, 30);
    const download = await api('POST', `/files/${started.fileId}/download-url`, { token, body: {} });

    // Assert: the object exists, 1 MiB short of what it declared, and the validator fails it.
    expect(completed).toBe(200);
    expect(verdict).toMatchObject({ status: 'failed', reason: 'size_mismatch', size: 10 * MiB });
    expect(download.status).toBe(409);
  });

  it("the part signer's own credentials writing straight over a passed file's key never change what the file serves", async () => {
    // Arrange: a passed multipart file.
    const { token } = await newOwner('mp-lp');
    const file = mp4OfSize(6 * MiB);
    const started = await start(token, file);
    expect((await complete(token, started.fileId, await sendAllParts(token, started, file))).status).toBe(
      200,
    );
    expect(await waitForVerdict(token, started.fileId, 30)).toMatchObject({ status: 'passed' });

    // Act: PutObject is also UploadPart's permission; the role writes other bytes at the key itself.
    const forged = mp4OfSize(6 * MiB);
    const put = await statusOf(
      'signUploadParts',
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: started.key,
        Body: forged,
        ContentType: 'video/mp4',
        Metadata: { 'declared-type': 'video/mp4', 'declared-size': String(forged.length) },
      }),
    );
    const [, later] = await (async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const versions = await versionsAt(started.key);
        if (versions.length === 2 || Date.now() > deadline) return versions.reverse();
        await new Promise((done) => setTimeout(done, 200));
      }
    })();
    const download = await api<{ url: string }>('POST', `/files/${started.fileId}/download-url`, {
      token,
      body: {},
    });
    const served = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());

    // Assert: the write lands as a later version, which the file never names.
    expect(put).toBe(200);
    expect(later?.VersionId).toBeDefined();
    expect(sha256(served)).toBe(sha256(file));
  });
});
