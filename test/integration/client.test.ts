import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  createClient,
  fetchTransport,
  PresignApiError,
  type PresignClient,
  type StorageTransport,
} from '@presign/client';
import { fileResumeStore } from '@presign/client/node';
import { afterEach, describe, expect, it } from 'vitest';
import { HTML_PAGE, mp4OfSize, pngOfSize } from '../support/sample-files.js';
import { newOwner, stack } from './stack.js';

/**
 * The client library as a Node script uses it (the built package,
 * `@presign/client`, as the workspace links it) against the running stack:
 * every byte goes to the real S3 (Ceph RGW), every answer is the real API's.
 */
const MiB = 1024 * 1024;
const ROOT = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
const tempFolder = () => {
  const folder = mkdtempSync(join(tmpdir(), 'presign-client-'));
  folders.push(folder);
  return folder;
};

interface Recorder {
  transport: StorageTransport;
  /** Part numbers of every part PUT S3 answered, in order, with the status. */
  parts: { partNumber: number; status: number }[];
  forms: number[];
}

/** Node's fetch transport, recording what reached S3; `before` may change or refuse a request first. */
function recordingTransport(
  before: (request: Parameters<StorageTransport>[0]) => Parameters<StorageTransport>[0] = (r) => r,
): Recorder {
  const inner = fetchTransport(fetch);
  const recorder: Recorder = {
    parts: [],
    forms: [],
    transport: async (request) => {
      const response = await inner(before(request));
      const partNumber = new URL(request.url).searchParams.get('partNumber');
      if (partNumber) recorder.parts.push({ partNumber: Number(partNumber), status: response.status });
      else recorder.forms.push(response.status);
      return response;
    },
  };
  return recorder;
}

async function clientFor(options: Partial<Parameters<typeof createClient>[0]> = {}) {
  const owner = await newOwner('client');
  const apiRequests: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.origin === new URL(stack.apiUrl).origin)
      apiRequests.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };
  const client = createClient({
    apiUrl: `${stack.apiUrl}/`,
    getToken: () => owner.token,
    fetch: recordingFetch,
    retry: { baseDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  return { client, owner, apiRequests };
}

async function downloaded(client: PresignClient, fileId: string): Promise<string> {
  const response = await fetch((await client.downloadUrl(fileId)).url);
  expect(response.status).toBe(200);
  return sha256(new Uint8Array(await response.arrayBuffer()));
}

describe('@presign/client in Node', () => {
  it('uploads several files with one POST /uploads, each with its progress, to their verdicts', async () => {
    // Arrange
    const recorder = recordingTransport();
    const { client, apiRequests } = await clientFor({ transport: recorder.transport });
    const images = [pngOfSize(20 * 1024), pngOfSize(30 * 1024), pngOfSize(40 * 1024)];
    const progress = images.map(() => [] as number[]);
    const uploaded: string[] = [];

    // Act
    const outcomes = await client.uploadMany(
      images.map((image, index) => ({
        source: new File([new Uint8Array(image)], `photo-${index}.png`, { type: 'image/png' }),
        clientMetadata: { index },
        onProgress: ({ loaded }: { loaded: number }) => progress[index]?.push(loaded),
        onUploaded: (fileId: string) => uploaded.push(fileId),
      })),
    );
    const fileIds = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : ''));
    const verdicts = await Promise.all(fileIds.map((fileId) => client.waitForVerdict(fileId)));

    // Assert
    expect(apiRequests.filter((request) => request === 'POST /uploads')).toHaveLength(1);
    expect(recorder.forms).toEqual([204, 204, 204]);
    expect([...uploaded].sort()).toEqual([...fileIds].sort());
    expect(progress.map((seen) => seen.at(-1))).toEqual(images.map((image) => image.length));
    expect(verdicts.map((verdict) => [verdict.filename, verdict.status, verdict.clientMetadata])).toEqual([
      ['photo-0.png', 'passed', { index: 0 }],
      ['photo-1.png', 'passed', { index: 1 }],
      ['photo-2.png', 'passed', { index: 2 }],
    ]);
    expect(await downloaded(client, fileIds[1] as string)).toBe(sha256(images[1] as Buffer));
  });

  it('fails every file of a batch the API refuses, naming the file, and sends nothing to S3', async () => {
    // Arrange
    const recorder = recordingTransport();
    const { client } = await clientFor({ transport: recorder.transport });

    // Act
    const outcomes = await client.uploadMany([
      { source: new File([new Uint8Array(pngOfSize(1024))], 'cat.png', { type: 'image/png' }) },
      { source: new File([new Uint8Array(HTML_PAGE)], 'page.html', { type: 'text/html' }) },
    ]);

    // Assert
    expect(recorder.forms).toEqual([]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(reason).toBeInstanceOf(PresignApiError);
      expect(reason).toMatchObject({ status: 415, code: 'unsupported_content_type' });
      expect(String((reason as Error).message)).toMatch(/^files\[1\]: /);
    }
  });

  it('uploads a File by form POST, follows the verdict, and serves, shares, revokes, lists and deletes it', async () => {
    // Arrange
    const recorder = recordingTransport();
    const { client } = await clientFor({ transport: recorder.transport });
    const image = pngOfSize(300 * 1024);
    const progress: number[] = [];

    // Act
    const fileId = await client.upload(new File([new Uint8Array(image)], 'cat.png', { type: 'image/png' }), {
      clientMetadata: { album: 'Summer', n: 3 },
      onProgress: ({ loaded, total }) => {
        expect(total).toBe(image.length);
        progress.push(loaded);
      },
    });
    const verdict = await client.waitForVerdict(fileId);

    // Assert
    expect(recorder.forms).toEqual([204]);
    expect(progress.at(-1)).toBe(image.length);
    expect(verdict).toMatchObject({
      fileId,
      status: 'passed',
      filename: 'cat.png',
      size: image.length,
      clientMetadata: { album: 'Summer', n: 3 },
    });
    expect(await downloaded(client, fileId)).toBe(sha256(image));

    const share = await client.share(fileId, { expiresIn: 600 });
    const shared = await fetch(share.shareUrl);
    expect(shared.status).toBe(200);
    expect(sha256(new Uint8Array(await shared.arrayBuffer()))).toBe(sha256(image));
    await client.revokeShares(fileId);
    expect((await fetch(share.shareUrl, { redirect: 'manual' })).status).toBe(410);

    const listed: string[] = [];
    for await (const file of client.listAll({ pageSize: 1 })) listed.push(file.fileId);
    expect(listed).toEqual([fileId]);

    await client.delete(fileId);
    await expect(client.get(fileId)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await client.list()).items).toEqual([]);
    await expect(client.delete(fileId)).rejects.toBeInstanceOf(PresignApiError);
  });

  it('uploads bytes multipart: parts in parallel, progress to the end, the same bytes served', async () => {
    // Arrange
    const recorder = recordingTransport();
    const { client, apiRequests } = await clientFor({
      transport: recorder.transport,
      multipartThreshold: 8 * MiB,
      partSize: 5 * MiB,
      concurrency: 3,
    });
    const video = mp4OfSize(22 * MiB);
    const progress: number[] = [];

    // Act
    const fileId = await client.upload(
      { data: new Uint8Array(video), name: 'film.mp4', type: 'video/mp4' },
      { onProgress: ({ loaded }) => progress.push(loaded) },
    );
    const verdict = await client.waitForVerdict(fileId);

    // Assert: 5 parts (4 of 5 MiB, 2 MiB left), signed in batches ahead of need, each sent once.
    expect(recorder.parts.map((put) => put.partNumber).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(recorder.parts.every((put) => put.status === 200)).toBe(true);
    expect(apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
    expect(apiRequests.filter((r) => r === `POST /uploads/${fileId}/parts`).length).toBeLessThanOrEqual(2);
    expect(apiRequests.filter((r) => r === `POST /uploads/${fileId}/complete`)).toHaveLength(1);
    expect(progress.at(-1)).toBe(video.length);
    expect(verdict).toMatchObject({ status: 'passed', size: video.length, contentType: 'video/mp4' });
    expect(await downloaded(client, fileId)).toBe(sha256(video));
  });

  it('resumes an interrupted multipart upload in a new client from its file store, sending only the missing parts', async () => {
    // Arrange: the first run is stopped once two parts are in S3.
    const folder = tempFolder();
    const path = join(folder, 'film.mp4');
    const video = mp4OfSize(21 * MiB);
    writeFileSync(path, video);
    utimesSync(path, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const { openAsBlob, statSync } = await import('node:fs');
    const source = async () => ({
      data: await openAsBlob(path),
      name: 'film.mp4',
      type: 'video/mp4',
      lastModified: statSync(path).mtimeMs,
    });
    const settings = { multipartThreshold: 8 * MiB, partSize: 5 * MiB, concurrency: 1 };
    const store = join(folder, 'uploads');
    const controller = new AbortController();
    const first = recordingTransport();
    const stopping: StorageTransport = async (request) => {
      const response = await first.transport(request);
      if (first.parts.length === 2) controller.abort(new Error('stopped'));
      return response;
    };
    const firstRun = await clientFor({
      ...settings,
      transport: stopping,
      resumeStore: fileResumeStore(store),
    });

    // Act
    const interrupted = await firstRun.client
      .upload(await source(), { signal: controller.signal })
      .catch((error: unknown) => error);
    const pending = await firstRun.client.pendingUploads();
    const second = recordingTransport();
    const secondRun = createClient({
      apiUrl: stack.apiUrl,
      getToken: () => firstRun.owner.token,
      ...settings,
      transport: second.transport,
      resumeStore: fileResumeStore(store),
    });
    const found = await secondRun.findPendingUpload(await source());
    const fileId = await secondRun.upload(await source());

    // Assert
    expect(interrupted).toEqual(new Error('stopped'));
    expect(pending).toEqual([expect.objectContaining({ name: 'film.mp4', partsSent: 2, partCount: 5 })]);
    expect(found?.fileId).toBe(pending[0]?.fileId);
    expect(fileId).toBe(pending[0]?.fileId);
    expect(first.parts.map((put) => put.partNumber)).toEqual([1, 2]);
    expect(second.parts.map((put) => put.partNumber)).toEqual([3, 4, 5]);
    expect(await secondRun.pendingUploads()).toEqual([]);
    expect(await secondRun.waitForVerdict(fileId)).toMatchObject({ status: 'passed', size: video.length });
    expect(await downloaded(secondRun, fileId)).toBe(sha256(video));
  });

  it('signs a part again when S3 refuses its URL, and completes', async () => {
    // Arrange: the first PUT of part 2 carries a broken signature; RGW answers 403.
    let broken = 0;
    const recorder = recordingTransport((request) => {
      const url = new URL(request.url);
      if (url.searchParams.get('partNumber') !== '2' || broken > 0) return request;
      broken += 1;
      url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
      return { ...request, url: url.href };
    });
    const { client, apiRequests } = await clientFor({
      transport: recorder.transport,
      multipartThreshold: 8 * MiB,
      partSize: 5 * MiB,
      concurrency: 1,
    });
    const video = mp4OfSize(11 * MiB);

    // Act
    const fileId = await client.upload({ data: new Uint8Array(video), name: 'clip.mp4', type: 'video/mp4' });

    // Assert
    expect(recorder.parts).toEqual([
      { partNumber: 1, status: 200 },
      { partNumber: 2, status: 403 },
      { partNumber: 2, status: 200 },
      { partNumber: 3, status: 200 },
    ]);
    expect(apiRequests.filter((r) => r === `POST /uploads/${fileId}/parts`)).toHaveLength(2);
    expect(await client.waitForVerdict(fileId)).toMatchObject({ status: 'passed' });
    expect(await downloaded(client, fileId)).toBe(sha256(video));
  });

  it("throws the API's errors typed by their codes", async () => {
    // Arrange
    const { client } = await clientFor();
    const other = await clientFor();
    const stranger = createClient({ apiUrl: stack.apiUrl, getToken: () => 'not-a-token' });
    const fileId = await client.upload(
      new File([new Uint8Array(HTML_PAGE)], 'page.png', { type: 'image/png' }),
    );

    // Act
    const verdict = await client.waitForVerdict(fileId);

    // Assert
    expect(verdict).toMatchObject({ status: 'failed', reason: 'unknown_type' });
    await expect(client.downloadUrl(fileId)).rejects.toMatchObject({ status: 409, code: 'not_validated' });
    await expect(other.client.get(fileId)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(stranger.list()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(
      client.upload(new File(['hello'], 'notes.txt', { type: 'text/plain' })),
    ).rejects.toMatchObject({ name: 'PresignApiError', status: 415, code: 'unsupported_content_type' });
    await expect(
      client.upload(new File([new Uint8Array(12)], 'a.png', { type: 'image/png' }), {
        clientMetadata: { note: 'x'.repeat(600) },
      }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('runs the README example script: node upload.mjs <file> <type> prints a download URL of the same bytes', async () => {
    // Arrange
    const folder = tempFolder();
    const image = pngOfSize(150 * 1024);
    writeFileSync(join(folder, 'cat.png'), image);
    const owner = await newOwner('script');

    // Act
    const { stdout, stderr } = await run(
      process.execPath,
      [join(ROOT, 'client', 'examples', 'node-upload.mjs'), join(folder, 'cat.png'), 'image/png'],
      { cwd: folder, env: { ...process.env, API_URL: stack.apiUrl, TOKEN: owner.token } },
    );

    // Assert
    expect(stderr.trim().split('\n').at(-1)).toBe('100%');
    const downloadedBytes = await fetch(stdout.trim());
    expect(downloadedBytes.status).toBe(200);
    expect(sha256(new Uint8Array(await downloadedBytes.arrayBuffer()))).toBe(sha256(image));
  });
});
