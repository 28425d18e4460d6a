import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, resetRequests } from '../support/chromium.js';
import { HTML_PAGE, mp4OfSize, pngOfSize } from '../support/sample-files.js';
import { api, newOwner, stack } from './stack.js';

/**
 * The upload page (GET /), built on the client library, in headless Chromium
 * against the running stack: the browser talks to the API and, through
 * presigned forms and part URLs and the bucket's CORS, straight to the real S3
 * (Ceph RGW, behind the local stack's front door, scripts/s3-front-door.ts).
 * No request of the page is answered by Playwright: Chromium's CORS preflights
 * and its CORS checks are real.
 */
const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'artifacts');
const S3_ORIGIN = new URL(stack.s3Endpoint).origin;
const API_ORIGIN = new URL(stack.apiUrl).origin;
const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let browser: Browser;
let context: BrowserContext | undefined;
const folders: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
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
  context = await browser.newContext({ viewport: { width: 900, height: 1200 }, acceptDownloads: true });
  const page = await context.newPage();
  const opened: OpenedPage = { page, storageRequests: [], apiRequests: [], problems: [] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === S3_ORIGIN) opened.storageRequests.push(`${request.method()} ${url.href}`);
    if (url.origin === API_ORIGIN) opened.apiRequests.push(`${request.method()} ${url.pathname}`);
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

/** Drops files on the drop zone, as a drag from the desktop does. */
async function dropFiles(page: Page, files: { name: string; type: string; bytes: Buffer }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    (list) => {
      const transfer = new DataTransfer();
      for (const file of list) {
        const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
      }
      return transfer;
    },
    files.map((file) => ({ name: file.name, type: file.type, base64: file.bytes.toString('base64') })),
  );
  await page.dispatchEvent('#drop-zone', 'dragenter', { dataTransfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
}

/** Records every value each queued file's progress bar takes, by file name, from the page itself. */
async function recordProgress(page: Page): Promise<() => Promise<Record<string, number[]>>> {
  await page.evaluate(() => {
    const seen: Record<string, number[]> = {};
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        const bar = mutation.target;
        if (!(bar instanceof HTMLProgressElement)) continue;
        const name = bar.closest('li')?.dataset.name ?? '?';
        seen[name] = [...(seen[name] ?? []), bar.value];
      }
    }).observe(document.getElementById('queue') as HTMLElement, {
      attributes: true,
      attributeFilter: ['value'],
      subtree: true,
    });
  });
  return () =>
    page.evaluate(() => (window as unknown as { progressSeen: Record<string, number[]> }).progressSeen);
}

const queued = (page: Page, name: string) => page.locator(`#queue li[data-name="${name}"]`);
const listed = (page: Page, name: string) => page.locator(`#file-list li[aria-label="${name}"]`);

describe('upload page in a browser', () => {
  it('takes two dropped files (one disguised), their forms asked in one request, to their verdicts with progress, downloads, shares, revokes and deletes the valid one', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const image = pngOfSize(3 * MiB);
    const { page, storageRequests, apiRequests, problems } = await openUploadPage(owner.token);
    const progressSeen = await recordProgress(page);

    // Act: drop both, upload, and wait for both verdicts.
    await dropFiles(page, [
      { name: 'cat.png', type: 'image/png', bytes: image },
      { name: 'holiday.png', type: 'image/png', bytes: HTML_PAGE },
    ]);
    await page.getByRole('button', { name: 'Upload', exact: true }).press('Enter');
    await queued(page, 'cat.png').and(page.locator('[data-state="passed"]')).waitFor({ timeout: 30_000 });
    await queued(page, 'holiday.png').and(page.locator('[data-state="failed"]')).waitFor({ timeout: 30_000 });
    await listed(page, 'cat.png').locator('[data-status="passed"]').waitFor();
    await listed(page, 'holiday.png').locator('[data-status="failed"]').waitFor();

    // Assert: one form POST each, progress to 100 % for both, the verdicts shown and said.
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'browser-upload.png'), fullPage: true });
    expect(storageRequests.filter((r) => r.startsWith('POST '))).toHaveLength(2);
    expect(apiRequests.filter((r) => r === 'POST /uploads')).toHaveLength(1);
    const progress = await progressSeen();
    expect(progress['cat.png']?.[0]).toBe(0);
    expect(progress['cat.png']?.at(-1)).toBe(100);
    expect(progress['holiday.png']?.at(-1)).toBe(100);
    expect(await queued(page, 'holiday.png').locator('.row-status').textContent()).toMatch(/^failed/);
    expect(await listed(page, 'holiday.png').getByRole('button').allTextContents()).toEqual(['Delete']);

    // Download: the browser saves exactly the bytes that were dropped.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download cat.png' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('cat.png');
    expect(sha256(readFileSync(await download.path()))).toBe(sha256(image));

    // Share, then revoke: the link serves the bytes, then answers 410.
    await page.getByRole('button', { name: 'Share cat.png' }).click();
    const shareUrl = String(await listed(page, 'cat.png').locator('a').getAttribute('href'));
    expect(shareUrl.startsWith(`${stack.apiUrl}/s/`)).toBe(true);
    const shared = await fetch(shareUrl);
    expect(sha256(new Uint8Array(await shared.arrayBuffer()))).toBe(sha256(image));
    await page.getByRole('button', { name: 'Revoke links cat.png' }).click();
    await listed(page, 'cat.png').getByText('revoked').waitFor();
    expect((await fetch(shareUrl, { redirect: 'manual' })).status).toBe(410);

    // Delete, confirmed: gone from the list and from the API; the other file stays.
    const fileId = String(await listed(page, 'cat.png').getAttribute('data-file-id'));
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete cat.png' }).click();
    await listed(page, 'cat.png').waitFor({ state: 'detached' });
    expect(await page.getByRole('status').textContent()).toBe('cat.png deleted.');
    expect(await listed(page, 'holiday.png').count()).toBe(1);
    expect((await api('GET', `/files/${fileId}`, { token: owner.token })).status).toBe(404);
    expect(await page.locator('#error').textContent()).toBe('');
    expect(problems).toEqual([]);
  });

  it('resumes a multipart upload after the page is reloaded mid-way, sending only the missing parts', async () => {
    // Arrange: 120 MiB (over the page's 100 MiB threshold: 8 parts of 16 MiB); parts after 2 fail until the reload.
    const owner = await newOwner('browser');
    const folder = mkdtempSync(join(tmpdir(), 'presign-page-'));
    folders.push(folder);
    const path = join(folder, 'film.mp4');
    const video = mp4OfSize(120 * MiB);
    writeFileSync(path, video);
    const { page, apiRequests, problems } = await openUploadPage(owner.token);
    const stopResets = await resetRequests(
      page,
      `${S3_ORIGIN}/*`,
      ({ url, method }) => method === 'PUT' && Number(url.searchParams.get('partNumber')) > 2,
    );
    const remembered = () =>
      page.evaluate(() =>
        Object.keys(localStorage)
          .filter((key) => key.startsWith('presign-upload:'))
          .map((key) => JSON.parse(localStorage.getItem(key) ?? '{}') as { fileId: string; etags: object }),
      );

    // Act: upload until parts 1 and 2 are remembered as in S3, then reload.
    await page.getByLabel('Files', { exact: true }).setInputFiles(path);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect
      .poll(async () => Object.keys((await remembered())[0]?.etags ?? {}).sort(), { timeout: 60_000 })
      .toEqual(['1', '2']);
    const [record] = await remembered();
    const fileId = String(record?.fileId);
    // Resets stop only once the page is gone: a part retried before the reload must not land.
    await page.reload();
    await stopResets();
    apiRequests.length = 0;
    const partsAfterReload: number[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin === S3_ORIGIN && response.request().method() === 'PUT' && response.status() === 200)
        partsAfterReload.push(Number(url.searchParams.get('partNumber')));
    });
    await page.locator('#resumable li', { hasText: 'film.mp4' }).waitFor();
    const offered = await page.locator('#resumable li').textContent();
    await page.getByLabel('Files', { exact: true }).setInputFiles(path);
    await queued(page, 'film.mp4').getByText('resumes where it stopped (2 of 8 parts sent)').waitFor();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await queued(page, 'film.mp4').and(page.locator('[data-state="passed"]')).waitFor({ timeout: 120_000 });

    // Assert
    expect(offered).toContain('2 of 8 parts sent');
    expect(partsAfterReload.sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(apiRequests).toContain(`GET /uploads/${fileId}/parts`);
    expect(apiRequests.filter((r) => r === 'POST /uploads/multipart')).toEqual([]);
    expect(apiRequests.filter((r) => r === `POST /uploads/${fileId}/complete`)).toHaveLength(1);
    expect(await remembered()).toEqual([]);
    await page.locator('#resumable').waitFor({ state: 'hidden' });
    const issued = await api<{ url: string }>('POST', `/files/${fileId}/download-url`, {
      token: owner.token,
    });
    const downloaded = await fetch(issued.body.url);
    expect(sha256(new Uint8Array(await downloaded.arrayBuffer()))).toBe(sha256(video));
    // Chromium reports only the resets it was made to see.
    expect(problems.filter((p) => p !== 'Failed to load resource: net::ERR_CONNECTION_RESET')).toEqual([]);
  }, 240_000);

  it('refuses files over the limit or of a type not allowed at once, and sends nothing', async () => {
    // Arrange
    const owner = await newOwner('browser');
    const { page, storageRequests, apiRequests } = await openUploadPage(owner.token);
    const limit = await page.evaluate(
      () => JSON.parse(document.getElementById('upload-rules')?.textContent ?? '{}')['image/png'] as number,
    );

    // Act
    await page.getByLabel('Files', { exact: true }).setInputFiles([
      { name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(limit + 1) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
    ]);
    const refusedAtOnce = await page.getByRole('alert').textContent();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();

    // Assert
    expect(refusedAtOnce).toMatch(/"huge\.png" is .+ over the .+ limit for image\/png/);
    expect(refusedAtOnce).toContain('text/plain, which is not accepted');
    expect(await page.getByLabel('Files', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await queued(page, 'huge.png').getAttribute('data-state')).toBe('refused');
    expect(await queued(page, 'notes.txt').getAttribute('data-state')).toBe('refused');
    expect(await page.getByRole('alert').textContent()).toBe('No file is ready to upload.');
    expect(storageRequests).toEqual([]);
    expect(apiRequests.filter((r) => r.includes('/uploads'))).toEqual([]);
  });

  it('says so when the token is refused, without touching S3, and offers a retry', async () => {
    // Arrange
    const { page, storageRequests } = await openUploadPage('not-a-token');

    // Act
    await page
      .getByLabel('Files', { exact: true })
      .setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: pngOfSize(100) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await queued(page, 'cat.png').and(page.locator('[data-state="error"]')).waitFor();

    // Assert
    expect(await page.getByRole('alert').textContent()).toContain('token was refused');
    expect(storageRequests).toEqual([]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    expect(await page.getByRole('button', { name: 'Retry cat.png' }).isVisible()).toBe(true);
  });
});
