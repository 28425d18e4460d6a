import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { HTML_PAGE, mp4OfSize, pngOfSize } from '../support/sample-files.js';
import { api, newOwner, stack } from './stack.js';

/**
 * The React example app (packages/react/example: `useUpload` and `DropZone`
 * from the built `@presign/react`, on the built `@presign/client`), bundled by
 * esbuild as an app's build would, in headless Chromium against the running
 * stack. Its page is a document fetched from the API's own origin (an origin
 * the stack's CORS allows, on loopback), rewritten to the example's
 * index.html: files are dropped on the zone, go straight to the real S3, and
 * end at the validator's verdicts. axe-core checks the page.
 */
const EXAMPLE = resolve(import.meta.dirname, '..', '..', 'packages', 'react', 'example');
const S3_ORIGIN = new URL(stack.s3Endpoint).origin;
const MiB = 1024 * 1024;

let browser: Browser;
let context: BrowserContext | undefined;
let appScript: string;
let axeScript: string;

beforeAll(async () => {
  const bundled = await build({
    entryPoints: [resolve(EXAMPLE, 'main.tsx')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  });
  appScript = bundled.outputFiles[0]?.text ?? '';
  axeScript = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

interface OpenedApp {
  page: Page;
  /** Script errors and console errors of the page. */
  problems: string[];
  /** Part PUTs to S3 held unanswered until `releaseParts` (so an upload is surely in flight). */
  heldParts: () => number;
  releaseParts: () => Promise<void>;
}

/** Opens the example app on the API's origin with `token`, part PUTs held back. */
async function openExample(token: string): Promise<OpenedApp> {
  context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
      problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  // Part PUTs wait in the browser (DevTools' Fetch domain) until released; every other request,
  // CORS preflights included, goes on untouched to the real server.
  const session = await context.newCDPSession(page);
  const held: string[] = [];
  let holding = true;
  session.on('Fetch.requestPaused', ({ requestId, request }) => {
    const isPart = request.method === 'PUT' && new URL(request.url).searchParams.has('partNumber');
    if (isPart && holding) held.push(requestId);
    else session.send('Fetch.continueRequest', { requestId }).catch(() => undefined);
  });
  await session.send('Fetch.enable', {
    patterns: [{ urlPattern: `${S3_ORIGIN}/*`, requestStage: 'Request' }],
  });

  const response = await page.goto(`${stack.apiUrl}/health`);
  expect(response?.status()).toBe(200);
  const html = readFileSync(resolve(EXAMPLE, 'index.html'), 'utf8').replace(
    /<script[\s\S]*?<\/script>\s*/g,
    '',
  );
  await page.setContent(html);
  await page.evaluate(
    (settings) => {
      (window as unknown as { presignExample: unknown }).presignExample = settings;
    },
    { apiUrl: stack.apiUrl, token, multipartThreshold: 8 * MiB },
  );
  await page.addScriptTag({ content: appScript });
  await page.getByRole('heading', { name: 'Upload files' }).waitFor();
  return {
    page,
    problems,
    heldParts: () => held.length,
    async releaseParts() {
      holding = false;
      for (const requestId of held.splice(0))
        await session.send('Fetch.continueRequest', { requestId }).catch(() => undefined);
    },
  };
}

/** Drops files on the zone, as a drag from the desktop does. */
async function dropFiles(page: Page, files: { name: string; type: string; bytes: Buffer }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    (list) => {
      const transfer = new DataTransfer();
      for (const file of list) {
        const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type, lastModified: Date.now() }));
      }
      return transfer;
    },
    files.map((file) => ({ name: file.name, type: file.type, base64: file.bytes.toString('base64') })),
  );
  await page.dispatchEvent('[data-presign-drop-zone]', 'dragover', { dataTransfer });
  await page.dispatchEvent('[data-presign-drop-zone]', 'drop', { dataTransfer });
}

const row = (page: Page, name: string) =>
  page.getByRole('list', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: name });

describe('the React example app in a browser', () => {
  it('takes two dropped files to their verdicts, cancels one, refuses a disguised one, and axe finds no violation', async () => {
    // Arrange
    const owner = await newOwner('react');
    const { page, problems, heldParts, releaseParts } = await openExample(owner.token);

    // Act: a large video (multipart, its parts held in the browser) is cancelled mid-way.
    await dropFiles(page, [{ name: 'film.mp4', type: 'video/mp4', bytes: mp4OfSize(12 * MiB) }]);
    // The first call of each route starts its function in serverless offline: cold, on a busy machine.
    await expect.poll(heldParts, { timeout: 120_000 }).toBeGreaterThan(0);
    await row(page, 'film.mp4')
      .getByText(/^uploading/)
      .waitFor();
    await page.getByRole('button', { name: 'Cancel film.mp4' }).click();
    await row(page, 'film.mp4').getByText('cancelled').waitFor();
    await releaseParts();
    // Two files, then a PNG that is an HTML page.
    await dropFiles(page, [
      { name: 'cat.png', type: 'image/png', bytes: pngOfSize(300 * 1024) },
      { name: 'dog.png', type: 'image/png', bytes: pngOfSize(40 * 1024) },
    ]);
    await dropFiles(page, [{ name: 'holiday.png', type: 'image/png', bytes: HTML_PAGE }]);
    for (const name of ['cat.png', 'dog.png'])
      await row(page, name).and(page.locator('[data-state="passed"]')).waitFor({ timeout: 120_000 });
    await row(page, 'holiday.png').and(page.locator('[data-state="failed"]')).waitFor({ timeout: 120_000 });

    // Assert: each state shown and announced, the cancelled one retryable, the multipart upload
    // left open (resumable) and never completed; axe-core finds no violation in the page as it is.
    expect(await row(page, 'cat.png').textContent()).toContain('passed');
    expect(await row(page, 'holiday.png').textContent()).toMatch(/refused: \w+/);
    expect(await row(page, 'film.mp4').getByRole('button').allTextContents()).toEqual(['Retry']);
    expect(await page.getByRole('status').textContent()).toMatch(
      /film\.mp4: cancelled\..*cat\.png: passed\..*dog\.png: passed\..*holiday\.png: refused/,
    );
    expect(await page.getByRole('progressbar', { name: 'cat.png uploaded' }).getAttribute('value')).toBe(
      String(300 * 1024),
    );
    const files = await api<{ items: { filename: string; status: string }[] }>('GET', '/files', {
      token: owner.token,
    });
    expect(files.body.items.map((file) => `${file.filename} ${file.status}`).sort()).toEqual([
      'cat.png passed',
      'dog.png passed',
      'holiday.png failed',
    ]);
    await page.addScriptTag({ content: axeScript });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string }[] }> } }).axe;
      return (await axe.run()).violations.map((violation) => violation.id);
    });
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  }, 480_000);
});
