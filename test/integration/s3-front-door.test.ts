import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { headerOf, oneChunk, type RawMessage, rawExchange, statusOf } from '../support/raw-http.js';
import { mp4OfSize, pngOfSize } from '../support/sample-files.js';
import {
  adminAccess,
  adminS3,
  api,
  newOwner,
  postForm,
  requestUpload,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * The local stack's S3 endpoint is a front door before Ceph RGW
 * (scripts/s3-front-door.ts): RGW 16 checks a presigned URL's signature on the
 * browser's CORS preflight and refuses it, so the front door hands RGW the
 * preflight without the signature and RGW answers from the bucket's CORS rules,
 * as S3 does. Everything else passes unchanged: RGW still checks every
 * signature. The allowed origins are the stack's ALLOWED_ORIGINS.
 */
const MiB = 1024 * 1024;
const PART_SIZE = 5 * MiB;
const ALLOWED_ORIGIN = new URL(stack.apiUrl).origin;
const UNLISTED_ORIGIN = 'http://evil.example';

interface PartUrl {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

/** A multipart upload of `file` (video/mp4, 5 MiB parts) and a URL for each of its parts. */
async function multipartWithUrls(file: Buffer) {
  const { token } = await newOwner('front-door');
  const started = await api<{ fileId: string; key: string; uploadId: string; partCount: number }>(
    'POST',
    '/uploads/multipart',
    {
      token,
      body: { filename: 'film.mp4', contentType: 'video/mp4', size: file.length, partSize: PART_SIZE },
    },
  );
  expect(started.status).toBe(201);
  const { fileId, key, uploadId, partCount } = started.body;
  const parts = Array.from({ length: partCount }, (_, i) => ({ partNumber: i + 1 }));
  const signed = await api<{ parts: PartUrl[] }>('POST', `/uploads/${fileId}/parts`, {
    token,
    body: { parts },
  });
  expect(signed.status).toBe(200);
  return { token, fileId, key, uploadId, urls: signed.body.parts };
}

/** A presigned POST form for `image` (image/png) as `token`. */
const issueImageUpload = (token: string, image: Buffer) =>
  requestUpload(token, { filename: 'cat.png', contentType: 'image/png', size: image.length });

/** A hex signature with its first digit changed. */
const flipFirst = (hex: string) => `${hex.startsWith('0') ? '1' : '0'}${hex.slice(1)}`;

const partOf = (file: Buffer, partNumber: number) =>
  file.subarray((partNumber - 1) * PART_SIZE, Math.min(file.length, partNumber * PART_SIZE));

/** The part numbers RGW holds for an upload, asked with the owner's keys. */
async function partsInS3(key: string, uploadId: string): Promise<number[]> {
  const listed = await adminS3.send(
    new ListPartsCommand({ Bucket: stack.bucket, Key: key, UploadId: uploadId }),
  );
  return (listed.Parts ?? []).map((part) => part.PartNumber ?? 0);
}

/** A browser's preflight for a PUT to `url`. */
const preflight = (url: string, origin: string, method = 'PUT') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type',
    },
  });

function corsHeaders(response: Response): string[] {
  const names: string[] = [];
  response.headers.forEach((_value, name) => {
    if (name.startsWith('access-control-')) names.push(name);
  });
  return names.sort();
}

/** The same URL on RGW itself, past the front door (the Host header changes, so signatures do not match). */
const onRgw = (url: string) => url.replace(stack.s3Endpoint, stack.rgwEndpoint);

describe('the S3 front door: CORS preflights answered from the bucket’s rules', () => {
  it('gives a part URL’s preflight from an allowed origin the CORS headers RGW derives from the bucket’s rules', async () => {
    // Arrange
    const { urls } = await multipartWithUrls(mp4OfSize(PART_SIZE + 1000));
    const url = String(urls[0]?.url);

    // Act
    const answered = await preflight(url, ALLOWED_ORIGIN);

    // Assert: the rule provisioned for the bucket (scripts/provision.ts), as RGW words it.
    expect(answered.status).toBe(200);
    expect(answered.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(answered.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(answered.headers.get('access-control-allow-headers')).toBe('content-type');
    expect(answered.headers.get('access-control-expose-headers')).toBe('ETag,Location');
    expect(answered.headers.get('access-control-max-age')).toBe('600');
    expect(answered.headers.get('x-amz-request-id')).toMatch(/^tx/); // RGW's answer, not the front door's
  });

  it('gives no CORS headers to an unlisted origin, nor to a method the rules do not allow', async () => {
    // Arrange
    const { urls } = await multipartWithUrls(mp4OfSize(PART_SIZE + 1000));
    const url = String(urls[0]?.url);

    // Act
    const [unlisted, deleting] = await Promise.all([
      preflight(url, UNLISTED_ORIGIN),
      preflight(url, ALLOWED_ORIGIN, 'DELETE'),
    ]);

    // Assert
    for (const answered of [unlisted, deleting]) {
      expect(answered.status).toBe(403);
      expect(corsHeaders(answered)).toEqual([]);
      expect(await answered.text()).toContain('<Code>AccessDenied</Code>');
    }
  });

  it('answers from the bucket’s rules: a bucket without CORS rules allows no origin', async () => {
    // Act: the state bucket has no CORS configuration.
    const answered = await preflight(`${stack.s3Endpoint}/${stack.stateBucket}/anything`, ALLOWED_ORIGIN);

    // Assert
    expect(answered.status).toBeGreaterThanOrEqual(400);
    expect(corsHeaders(answered)).toEqual([]);
  });

  it('is needed: RGW itself refuses the same preflight of a part URL (its signature signs content-length)', async () => {
    // Arrange
    const { urls } = await multipartWithUrls(mp4OfSize(PART_SIZE + 1000));
    const url = new URL(String(urls[0]?.url));

    // Act: the preflight straight to RGW, with the Host the URL was signed for.
    const answered = await new Promise<{ status: number; body: string; cors: string[] }>((done, fail) => {
      const sent = httpRequest(onRgw(url.href), {
        method: 'OPTIONS',
        headers: { host: url.host, origin: ALLOWED_ORIGIN, 'access-control-request-method': 'PUT' },
      });
      sent.on('error', fail);
      sent.on('response', async (response) => {
        let body = '';
        for await (const chunk of response) body += chunk;
        const cors = Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
        done({ status: response.statusCode ?? 0, body, cors });
      });
      sent.end();
    });

    // Assert
    expect(answered.status).toBe(403);
    expect(answered.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(answered.cors).toEqual([]);
  });
});

describe('the S3 front door: everything else reaches RGW unchanged', () => {
  it('passes presigned part PUTs and RGW’s ETags, and the completed object is the same bytes', async () => {
    // Arrange
    const file = mp4OfSize(PART_SIZE + 200_000);
    const { token, fileId, urls } = await multipartWithUrls(file);

    // Act
    const sent = await Promise.all(
      urls.map(async (part) => {
        const response = await fetch(part.url, {
          method: 'PUT',
          headers: { ...part.headers, origin: ALLOWED_ORIGIN },
          body: new Uint8Array(partOf(file, part.partNumber)),
        });
        return { partNumber: part.partNumber, status: response.status, response };
      }),
    );
    const parts = sent.map(({ partNumber, response }) => ({
      partNumber,
      etag: String(response.headers.get('etag')),
    }));
    const completed = await api('POST', `/uploads/${fileId}/complete`, { token, body: { parts } });

    // Assert
    expect(sent.map((put) => put.status)).toEqual([200, 200]);
    for (const { response, partNumber } of sent) {
      expect(response.headers.get('etag')).toBe(
        `"${createHash('md5').update(partOf(file, partNumber)).digest('hex')}"`,
      );
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(response.headers.get('access-control-expose-headers')).toBe('ETag,Location');
    }
    expect(completed.status).toBe(200);
    expect(await waitForVerdict(token, fileId, 60)).toMatchObject({ status: 'passed', size: file.length });
    const download = await api<{ url: string }>('POST', `/files/${fileId}/download-url`, { token });
    expect(download.body.url.startsWith(`${stack.s3Endpoint}/`)).toBe(true);
    const downloaded = Buffer.from(await (await fetch(download.body.url)).arrayBuffer());
    expect(downloaded.equals(file)).toBe(true);
  });

  it('never weakens S3’s checks: a tampered part signature, another part number, a short body, or a URL signed for another host are refused', async () => {
    // Arrange
    const file = mp4OfSize(PART_SIZE + 1000);
    const { key, uploadId, urls } = await multipartWithUrls(file);
    const part = urls[0] as PartUrl;
    const url = new URL(part.url);
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Signature', flipFirst(String(url.searchParams.get('X-Amz-Signature'))));
    const otherPart = new URL(url);
    otherPart.searchParams.set('partNumber', '2');
    const put = (target: string, body: Buffer) =>
      fetch(target, { method: 'PUT', body: new Uint8Array(body) }).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    const bytes = partOf(file, 1);

    // Act
    const answers = {
      tampered: await put(tampered.href, bytes),
      otherPart: await put(otherPart.href, bytes),
      short: await put(url.href, bytes.subarray(1)),
      // A URL signed for the front door, sent to RGW itself: the signed Host differs.
      signedForAnotherHost: await put(onRgw(url.href), bytes),
      // A preflight is answered without its signature, as S3 does; it is an OPTIONS and nothing more.
      preflight: (await preflight(tampered.href, ALLOWED_ORIGIN)).status,
    };

    // Assert
    expect(answers.tampered.status).toBe(403);
    expect(answers.otherPart.status).toBe(403);
    expect(answers.short.status).toBe(403);
    expect(answers.signedForAnotherHost.status).toBe(403);
    expect(answers.preflight).toBe(200);
    expect(await partsInS3(key, uploadId)).toEqual([]);
  });

  it('passes a presigned POST form and refuses one with a tampered signature or policy', async () => {
    // Arrange
    const { token } = await newOwner('front-door');
    const image = pngOfSize(2048);
    const issued = await issueImageUpload(token, image);
    const fields = issued.upload.fields;

    // Act
    const tamperedSignature = await postForm(issued.upload, image, {
      fields: { 'X-Amz-Signature': flipFirst(String(fields['X-Amz-Signature'])) },
    });
    const policy = Buffer.from(String(fields.Policy), 'base64').toString('utf8');
    const tamperedPolicy = await postForm(issued.upload, image, {
      fields: { Policy: Buffer.from(policy.replace('image/png', 'text/html')).toString('base64') },
    });
    const posted = await postForm(issued.upload, image, { fileContentType: 'image/png' });

    // Assert
    expect(issued.upload.url.startsWith(`${stack.s3Endpoint}/`)).toBe(true);
    expect(tamperedSignature.status).toBe(403);
    expect(tamperedPolicy.status).toBe(403);
    expect(posted.status).toBe(204);
    expect(await waitForVerdict(token, issued.fileId, 30)).toMatchObject({ status: 'passed' });
  });

  it('passes presigned GETs byte for byte, whole and ranged, and refuses a tampered one', async () => {
    // Arrange: a passed file.
    const { token } = await newOwner('front-door');
    const image = pngOfSize(300_000);
    const issued = await issueImageUpload(token, image);
    expect((await postForm(issued.upload, image, { fileContentType: 'image/png' })).status).toBe(204);
    await waitForVerdict(token, issued.fileId, 30);
    const { body } = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });
    const tampered = new URL(body.url);
    tampered.searchParams.set('X-Amz-Expires', '604800');

    // Act
    const got = await fetch(body.url, { headers: { origin: ALLOWED_ORIGIN } });
    const bytes = Buffer.from(await got.arrayBuffer());
    const refused = await fetch(tampered.href);
    const ranged = await fetch(body.url, { headers: { range: 'bytes=10-19' } });

    // Assert
    expect(got.status).toBe(200);
    expect(bytes.equals(image)).toBe(true);
    expect(got.headers.get('content-length')).toBe(String(image.length));
    expect(got.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(refused.status).toBe(403);
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(image.subarray(10, 20))).toBe(true);
  });

  it('takes a signed PutObject with Expect: 100-continue, and RGW refuses the wrong key before the body', async () => {
    // Arrange: the SDK sends bodies over 2 MiB with Expect: 100-continue.
    const client = (secretAccessKey: string) =>
      new S3Client({
        endpoint: stack.s3Endpoint,
        region: stack.region,
        forcePathStyle: true,
        credentials: { accessKeyId: adminAccess.accessKeyId, secretAccessKey },
      });
    const body = mp4OfSize(3 * MiB);
    const key = `front-door/${Date.now()}-expect`;

    // Act
    const put = await client(adminAccess.secretAccessKey).send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: `${key}-ok`, Body: body }),
    );
    const refused = await client('not-the-secret')
      .send(new PutObjectCommand({ Bucket: stack.bucket, Key: `${key}-refused`, Body: body }))
      .then(
        () => 0,
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );

    // Assert
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    expect(refused).toBe(403);
  });

  it('takes a part’s RGW request down when the client breaks off mid-body, and serves the next one', async () => {
    // Arrange
    const file = mp4OfSize(PART_SIZE + 1000);
    const { key, uploadId, urls } = await multipartWithUrls(file);
    const part = urls[0] as PartUrl;
    const url = new URL(part.url);
    const bytes = partOf(file, 1);

    // Act: half the body, then the connection is gone.
    await new Promise<void>((done) => {
      const sending = httpRequest(url, { method: 'PUT', headers: { 'content-length': bytes.length } });
      sending.on('error', () => done());
      sending.write(bytes.subarray(0, bytes.length / 2), () => setTimeout(() => sending.destroy(), 200));
      sending.on('close', () => done());
    });
    await new Promise((done) => setTimeout(done, 500));
    const heldAfterAbort = await partsInS3(key, uploadId);
    const retried = await fetch(part.url, { method: 'PUT', body: new Uint8Array(bytes) });

    // Assert
    expect(heldAfterAbort).toEqual([]);
    expect(retried.status).toBe(200);
    expect(await partsInS3(key, uploadId)).toEqual([1]);
  });
});

/**
 * The bytes RGW holds as part `partNumber` of an upload, or undefined when it
 * holds no such part: the upload is completed with that part alone (with the
 * owner's keys) and read back, as its owner would read the file.
 */
async function bytesOfPart(key: string, uploadId: string, partNumber: number): Promise<Buffer | undefined> {
  const listed = await adminS3.send(
    new ListPartsCommand({ Bucket: stack.bucket, Key: key, UploadId: uploadId }),
  );
  const part = listed.Parts?.find((held) => held.PartNumber === partNumber);
  if (!part) return undefined;
  await adminS3.send(
    new CompleteMultipartUploadCommand({
      Bucket: stack.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: [{ PartNumber: partNumber, ETag: part.ETag }] },
    }),
  );
  const object = await adminS3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describe('the S3 front door: no client’s bytes reach RGW as part of another client’s request', () => {
  /** How owner A hides a request in the body of a GET, framed for the door and (before) not for RGW. */
  const framings = {
    'a chunked body': (smuggled: string) => `Transfer-Encoding: chunked\r\n\r\n${oneChunk(smuggled)}`,
    'Connection: content-length': (smuggled: string) =>
      `Connection: content-length\r\nContent-Length: ${Buffer.byteLength(smuggled)}\r\n\r\n${smuggled}`,
  };

  it.each(Object.entries(framings))(
    'an owner who hides a PUT of its own part in a GET with %s never captures the next owner’s request as that part',
    async (_framing, hide) => {
      // Arrange: owner B has a passed file and its presigned download URL.
      const { token: tokenB } = await newOwner('front-door-b');
      const image = pngOfSize(4096);
      const issued = await issueImageUpload(tokenB, image);
      expect((await postForm(issued.upload, image, { fileContentType: 'image/png' })).status).toBe(204);
      await waitForVerdict(tokenB, issued.fileId, 30);
      const download = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, {
        token: tokenB,
      });
      const downloadUrl = new URL(download.body.url);
      // Owner A's upload ends with a part exactly as long as B's request line, URL and all.
      const requestLineB = `GET ${downloadUrl.pathname}${downloadUrl.search} HTTP/1.1\r\n`;
      const { key, uploadId, urls } = await multipartWithUrls(
        mp4OfSize(PART_SIZE + Buffer.byteLength(requestLineB)),
      );
      const lastPart = new URL(String(urls[1]?.url));
      const smuggled = `PUT ${lastPart.pathname}${lastPart.search} HTTP/1.1\r\nHost: ${lastPart.host}\r\nContent-Length: ${Buffer.byteLength(requestLineB)}\r\n\r\n`;
      const door = new URL(stack.s3Endpoint);

      // Act: A's GET, then B's download, as the next request the front door relays.
      const a = await rawExchange(
        Number(door.port),
        `GET / HTTP/1.1\r\nHost: ${door.host}\r\n${hide(smuggled)}`,
        ['GET'],
        10_000,
      );
      const b = await fetch(downloadUrl, { signal: AbortSignal.timeout(10_000) });
      const bytesB = Buffer.from(await b.arrayBuffer());

      // Assert: RGW holds no part of A's made of B's request, and B got its file.
      // (A part RGW holds is read back as A would read it: B's request line, signature and all.)
      expect((await bytesOfPart(key, uploadId, 2))?.toString('latin1')).toBeUndefined();
      expect(b.status).toBe(200);
      expect(bytesB.equals(image)).toBe(true);
      expect(a.answers.map(statusOf)).toEqual([400]);
      expect(headerOf(a.answers[0] as RawMessage, 'connection')).toBe('close');
    },
  );
});

describe('the S3 front door in Chromium: its real CORS checks', () => {
  let browser: Browser;
  let unlistedPage: Server;
  let unlistedOrigin: string;

  beforeAll(async () => {
    browser = await launchChromium();
    // A page on loopback whose origin the bucket's CORS rules do not list.
    unlistedPage = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'),
    );
    await new Promise<void>((done) => unlistedPage.listen(0, '127.0.0.1', done));
    unlistedOrigin = `http://127.0.0.1:${(unlistedPage.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => unlistedPage?.close(done));
  });

  /** From a page of `origin`, PUTs the part with fetch (Chromium preflights it); the ETag the page can read, or the error. */
  async function putFromPage(origin: string, part: PartUrl, size: number) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        // The allowed origin's document is GET /health: Chromium's own request for /favicon.ico answers 404.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
          problems.push(message.text());
      });
      await page.goto(origin === ALLOWED_ORIGIN ? `${stack.apiUrl}/health` : `${origin}/`);
      const outcome = await page.evaluate(
        async ({ url, size }) => {
          try {
            const response = await fetch(url, {
              method: 'PUT',
              headers: { 'content-type': 'video/mp4' },
              body: new Uint8Array(size),
            });
            return { status: response.status, etag: response.headers.get('etag'), error: null };
          } catch (error) {
            return { status: 0, etag: null, error: String(error) };
          }
        },
        { url: part.url, size },
      );
      return { ...outcome, problems };
    } finally {
      await context.close();
    }
  }

  it('lets a page of an allowed origin PUT a part after a real preflight, and read its ETag', async () => {
    // Arrange
    const file = Buffer.alloc(PART_SIZE + 1000);
    const { key, uploadId, urls } = await multipartWithUrls(file);

    // Act
    const outcome = await putFromPage(ALLOWED_ORIGIN, urls[0] as PartUrl, PART_SIZE);

    // Assert
    expect(outcome).toMatchObject({ status: 200, error: null, problems: [] });
    expect(outcome.etag).toBe(`"${createHash('md5').update(Buffer.alloc(PART_SIZE)).digest('hex')}"`);
    expect(await partsInS3(key, uploadId)).toEqual([1]);
  });

  it('makes Chromium refuse the PUT of a page whose origin the rules do not list: nothing reaches S3', async () => {
    // Arrange
    const file = Buffer.alloc(PART_SIZE + 1000);
    const { key, uploadId, urls } = await multipartWithUrls(file);

    // Act
    const outcome = await putFromPage(unlistedOrigin, urls[0] as PartUrl, PART_SIZE);

    // Assert
    expect(outcome.status).toBe(0);
    expect(outcome.error).toMatch(/Failed to fetch/);
    expect(outcome.problems.join('\n')).toMatch(/preflight|CORS policy/);
    expect(await partsInS3(key, uploadId)).toEqual([]);
  });
});
