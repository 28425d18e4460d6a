import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import { newOwner, stack } from './stack.js';

/**
 * The upload page (GET /) in headless Chromium against the running stack: the
 * browser talks to the API and, through the presigned POST and the bucket's
 * CORS, straight to the real S3 (Ceph RGW).
 */
const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'artifacts');
const S3_ORIGIN = new URL(stack.s3Endpoint).origin;
const MiB = 1024 * 1024;

let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

interface OpenedPage {
  page: Page;
  /** Every request the page made to the S3 origin, as `METHOD url`. */
  storageRequests: string[];
  /** Every request the page made to the API, as `METHOD path`. */
  apiRequests: string[];
  /** Console messages about blocked content (CSP) or script errors. */
  problems: string[];
}

/** Opens the page in a fresh browser context and pastes the token. */
async function openUploadPage(token: string): Promise<OpenedPage> {
  context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  const page = await context.newPage();
  const opened: OpenedPage = { page, storageRequests: [], apiRequests: [], problems: [] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === S3_ORIGIN) opened.storageRequests.push(`${request.method()} ${url.href}`);
    if (url.origin === new URL(stack.apiUrl).origin)
      opened.apiRequests.push(`${request.method()} ${url.pathname}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') opened.problems.push(message.text());
  });
  page.on('pageerror', (error) => opened.problems.push(error.message));

  const response = await page.goto(`${stack.apiUrl}/`);
  expect(response?.status()).toBe(200);
  await page.getByLabel('Access token').fill(token);
  return opened;
}

/** Records every value the progress bar takes, from the page itself. */
async function recordProgress(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const bar = document.getElementById('progress') as HTMLProgressElement;
    const seen: number[] = [];
    (window as unknown as { progressSeen: number[] }).progressSeen = seen;
    new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
}

const verdict = (page: Page, status: string) =>
  page.locator(`#verdict[data-status="${status}"]`).waitFor({ timeout: 30_000 });

describe('upload page in a browser', () => {
  it('uploads a PNG straight to S3 with progress, shows passed, and links the same bytes', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const image = pngOfSize(3 * MiB);
    const { page, storageRequests, problems } = await openUploadPage(owner.token);
    const progressSeen = await recordProgress(page);

    // Act
    await page.getByLabel('File').setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: image });
    await page.getByRole('button', { name: 'Upload' }).press('Enter');
    await verdict(page, 'passed');
    await page.locator('#results:not([hidden])').waitFor();

    // Assert
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'browser-upload.png'), fullPage: true });
    expect(storageRequests.filter((r) => r.startsWith('POST '))).toHaveLength(1);
    // Only XMLHttpRequest upload progress events move the bar past 0.
    const values = await progressSeen();
    expect(values.filter((value) => value > 0).length).toBeGreaterThan(0);
    expect(values.at(-1)).toBe(100);
    expect(await page.locator('#progress-text').textContent()).toContain('100%');
    expect(await page.getByRole('status').textContent()).toContain('passed');
    expect(await page.locator('#error').textContent()).toBe('');

    const downloadUrl = await page.locator('#download-link').getAttribute('href');
    const downloaded = await fetch(String(downloadUrl));
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(image)).toBe(true);

    const shareUrl = String(await page.locator('#share-link').getAttribute('href'));
    expect(shareUrl.startsWith(`${stack.apiUrl}/s/`)).toBe(true);
    const shared = await fetch(shareUrl);
    expect(shared.status).toBe(200);
    expect(Buffer.from(await shared.arrayBuffer()).equals(image)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('shows failed for an HTML page named .png and offers no links', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const { page, storageRequests, problems } = await openUploadPage(owner.token);

    // Act
    await page
      .getByLabel('File')
      .setInputFiles({ name: 'not-a-cat.png', mimeType: 'image/png', buffer: HTML_PAGE });
    await page.getByRole('button', { name: 'Upload' }).click();
    await verdict(page, 'failed');

    // Assert
    expect(storageRequests.filter((r) => r.startsWith('POST '))).toHaveLength(1);
    expect(await page.locator('#verdict').textContent()).toMatch(/^failed/);
    expect(await page.getByRole('alert').textContent()).toContain('failed validation');
    expect(await page.locator('#results').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('refuses a file over the limit at once, before any upload', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const { page, storageRequests, apiRequests } = await openUploadPage(owner.token);
    const limit = await page.evaluate(
      () => JSON.parse(document.getElementById('upload-rules')?.textContent ?? '{}')['image/png'] as number,
    );

    // Act
    await page
      .getByLabel('File')
      .setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(limit + 1) });
    const refusedAtOnce = await page.getByRole('alert').textContent();
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForTimeout(500);

    // Assert
    expect(refusedAtOnce).toContain('Refused');
    expect(refusedAtOnce).toMatch(/over the .+ limit for image\/png/);
    expect(await page.getByLabel('File').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').textContent()).toContain('Refused');
    expect(storageRequests).toEqual([]);
    expect(apiRequests.filter((r) => r !== 'GET /')).toEqual([]);
  });

  it('refuses a type the rules do not allow, before any upload', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const { page, storageRequests, apiRequests } = await openUploadPage(owner.token);

    // Act
    await page
      .getByLabel('File')
      .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForTimeout(300);

    // Assert
    expect(await page.getByRole('alert').textContent()).toContain('text/plain, which is not accepted');
    expect(storageRequests).toEqual([]);
    expect(apiRequests.filter((r) => r !== 'GET /')).toEqual([]);
  });

  it('says so when the token is refused, without touching S3', async () => {
    // Arrange
    const { page, storageRequests } = await openUploadPage('not-a-token');

    // Act
    await page
      .getByLabel('File')
      .setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: pngOfSize(100) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('alert').filter({ hasText: 'token was refused' }).waitFor();

    // Assert
    expect(storageRequests).toEqual([]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
  });
});
