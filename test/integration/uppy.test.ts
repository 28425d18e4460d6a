import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, resetRequests } from '../support/chromium.js';
import { pngOfSize } from '../support/sample-files.js';
import { api, newOwner, stack, waitForVerdict } from './stack.js';
import type { UploadOutcome, UploadRequest } from './uppy-page.js';

/**
 * Uppy with `@presign/uppy` (its uploader, on `@presign/client`) in headless
 * Chromium against the running stack: the page runs on the API's own
 * origin (its script, bundled by esbuild, added to `GET /health`), calls the
 * API for every signature, and sends the bytes straight to the real S3 (Ceph
 * RGW, behind the local stack's front door, scripts/s3-front-door.ts) through
 * the bucket's CORS: Chromium's preflights reach RGW and its CORS checks are real.
 */
const MiB = 1024 * 1024;
const S3_ORIGIN = new URL(stack.s3Endpoint).origin;

let browser: Browser;
let context: BrowserContext | undefined;
let pageScript: string;

beforeAll(async () => {
  const bundled = await build({
    entryPoints: [resolve(import.meta.dirname, 'uppy-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  pageScript = bundled.outputFiles[0]?.text ?? '';
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

interface PartPut {
  partNumber: number;
  status: number;
}

interface UppyPage {
  page: Page;
  /** Every part PUT to S3 that got an answer: its part number and status. */
  partPuts: PartPut[];
  /** Every part PUT that never got an answer (reset, aborted), by part number. */
  partPutsFailed: number[];
  /** Every request to the API, as `METHOD path`. */
  apiRequests: string[];
  /** Script errors and console errors of the page. */
  problems: string[];
}

const partNumberOf = (url: URL) => Number(url.searchParams.get('partNumber'));

/** Opens the Uppy page on the API's origin in a fresh context. */
async function openUppyPage(): Promise<UppyPage> {
  context = await browser.newContext();
  const page = await context.newPage();
  const opened: UppyPage = { page, partPuts: [], partPutsFailed: [], apiRequests: [], problems: [] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === new URL(stack.apiUrl).origin && url.pathname !== '/health')
      opened.apiRequests.push(`${request.method()} ${url.pathname}`);
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (
      url.origin === S3_ORIGIN &&
      response.request().method() === 'PUT' &&
      url.searchParams.has('partNumber')
    )
      opened.partPuts.push({ partNumber: partNumberOf(url), status: response.status() });
  });
  page.on('requestfailed', (request) => {
    const url = new URL(request.url());
    if (url.origin === S3_ORIGIN && request.method() === 'PUT' && url.searchParams.has('partNumber'))
      opened.partPutsFailed.push(partNumberOf(url));
  });
  page.on('console', (message) => {
    // The document is GET /health: Chromium's own request for /favicon.ico answers 404.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
      opened.problems.push(message.text());
  });
  page.on('pageerror', (error) => opened.problems.push(error.message));
  // A document really fetched from the API's origin on loopback: Chromium lets only such a page reach
  // the loopback S3 (a page fulfilled by page.route counts as public and is refused by Local Network Access).
  const response = await page.goto(`${stack.apiUrl}/health`);
  expect(response?.status()).toBe(200);
  await page.addScriptTag({ content: pageScript });
  return opened;
}

const startUpload = (page: Page, request: UploadRequest): Promise<UploadOutcome> =>
  page.evaluate(
    (r) =>
      (
        window as unknown as { uppyTest: { upload(r: UploadRequest): Promise<UploadOutcome> } }
      ).uppyTest.upload(r),
    request,
  );

/** Downloads a passed file through a presigned URL and returns the SHA-256 (hex) of its bytes. */
async function downloadedSha256(token: string, fileId: string): Promise<string> {
  const issued = await api<{ url: string }>('POST', `/files/${fileId}/download-url`, { token });
  expect(issued.status).toBe(200);
  const downloaded = await fetch(issued.body.url);
  expect(downloaded.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await downloaded.arrayBuffer()))
    .digest('hex');
}

describe('Uppy with @presign/uppy', () => {
  it('uploads 64 MiB of MP4 multipart, survives a reset part and a pause, and the download is the same bytes', async () => {
    // Arrange
    const owner = await newOwner('uppy');
    const { page, partPuts, partPutsFailed, apiRequests, problems } = await openUppyPage();
    const size = 64 * MiB;
    const partSize = 8 * MiB;
    const partCount = size / partSize;
    // The connection breaks on the first attempt of part 3: the client retries that part alone.
    let resets = 0;
    await resetRequests(page, `${S3_ORIGIN}/*`, ({ url, method }) => {
      if (method !== 'PUT' || url.searchParams.get('partNumber') !== '3' || resets > 0) return false;
      resets += 1;
      return true;
    });
    // Once two parts are in S3, the user pauses and resumes: the client asks the API what S3 holds.
    let paused = false;
    page.on('response', async () => {
      if (paused || partPuts.filter((put) => put.status === 200).length < 2) return;
      paused = true;
      await page.evaluate(() =>
        (window as unknown as { uppyTest: { pauseResume(): void } }).uppyTest.pauseResume(),
      );
      await page.waitForTimeout(300);
      await page.evaluate(() =>
        (window as unknown as { uppyTest: { pauseResume(): void } }).uppyTest.pauseResume(),
      );
    });

    // Act
    const outcome = await startUpload(page, {
      apiUrl: stack.apiUrl,
      token: owner.token,
      name: 'holiday.mp4',
      type: 'video/mp4',
      content: { kind: 'mp4', size },
      multipartThreshold: 16 * MiB,
      partSize,
      limit: 2,
    });

    // Assert: Uppy finished, no part was PUT twice, and the reset part was retried.
    expect(outcome.errors).toEqual([]);
    expect(outcome.successful).toBe(1);
    const fileId = String(outcome.body?.fileId);
    expect(outcome.body).toEqual({ fileId: expect.stringMatching(/^[0-9A-Z]{26}$/), status: 'pending' });
    expect(resets).toBe(1);
    expect(partPutsFailed).toContain(3);
    const succeeded = partPuts.filter((put) => put.status === 200).map((put) => put.partNumber);
    // No part was sent twice. A part whose PUT the pause cut after S3 had taken its bytes has no 200
    // in the browser: GET …/parts told the client that S3 holds it, so it is not sent again. Any other part
    // without a 200 would be missing, and the server completes only with every part at its exact size.
    expect(new Set(succeeded).size).toBe(succeeded.length);
    const unanswered = Array.from({ length: partCount }, (_, i) => i + 1).filter(
      (n) => !succeeded.includes(n),
    );
    expect(unanswered.filter((n) => !partPutsFailed.includes(n))).toEqual([]);
    expect(unanswered.length).toBeLessThanOrEqual(2);
    expect(partPuts.filter((put) => put.status !== 200)).toEqual([]);
    expect(paused).toBe(true);
    expect(apiRequests).toContain(`GET /uploads/${fileId}/parts`);
    expect(apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
    expect(apiRequests.filter((r) => r === `POST /uploads/${fileId}/complete`)).toHaveLength(1);
    expect(apiRequests.filter((r) => r.startsWith('DELETE '))).toEqual([]);
    // Chromium reports the reset it was made to see, and nothing else.
    expect(problems).toEqual(['Failed to load resource: net::ERR_CONNECTION_RESET']);

    // The validator passes it, and the bytes S3 serves are the bytes Uppy was given.
    const verdict = await waitForVerdict(owner.token, fileId, 60);
    expect(verdict).toMatchObject({ status: 'passed', size, contentType: 'video/mp4' });
    expect(await downloadedSha256(owner.token, fileId)).toBe(outcome.sha256);
  });

  it('uploads a small PNG as one presigned form POST', async () => {
    // Arrange
    const owner = await newOwner('uppy');
    const { page, apiRequests, problems } = await openUppyPage();
    const storagePosts: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).origin === S3_ORIGIN && response.request().method() === 'POST')
        storagePosts.push(response.status());
    });
    const image = pngOfSize(200 * 1024);

    // Act
    const outcome = await startUpload(page, {
      apiUrl: stack.apiUrl,
      token: owner.token,
      name: 'cat.png',
      type: 'image/png',
      content: { kind: 'base64', base64: image.toString('base64') },
      multipartThreshold: 16 * MiB,
      partSize: 8 * MiB,
      limit: 2,
    });

    // Assert
    expect(outcome.errors).toEqual([]);
    expect(outcome.successful).toBe(1);
    // Ceph RGW answers a form POST 204 without the ETag S3 sends: the client needs none.
    expect(storagePosts).toEqual([204]);
    expect(apiRequests).toEqual(['POST /uploads']);
    const fileId = String(outcome.body?.fileId);
    const verdict = await waitForVerdict(owner.token, fileId, 30);
    expect(verdict).toMatchObject({ status: 'passed', size: image.length });
    expect(await downloadedSha256(owner.token, fileId)).toBe(
      createHash('sha256').update(image).digest('hex'),
    );
    expect(problems).toEqual([]);
  });
});
