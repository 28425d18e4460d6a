import { describe, expect, it } from 'vitest';
import {
  createClient,
  memoryResumeStore,
  PresignApiError,
  PresignNetworkError,
  PresignStorageError,
  type ResumeStore,
  VerdictTimeoutError,
} from '../../../client/src/index.js';
import { backoffDelay, DEFAULT_RETRY } from '../../../client/src/retry.js';
import { FakePresign } from './fake-presign.js';

const FAST = { retries: 3, baseDelayMs: 1, maxDelayMs: 2 };

function setUp(options: { threshold?: number; concurrency?: number; store?: ResumeStore } = {}) {
  const fake = new FakePresign();
  const store = options.store ?? memoryResumeStore();
  const client = createClient({
    apiUrl: 'https://api.test/',
    getToken: () => 'token',
    fetch: fake.fetch,
    transport: fake.transport,
    multipartThreshold: options.threshold ?? 10,
    concurrency: options.concurrency ?? 2,
    retry: FAST,
    resumeStore: store,
  });
  return { fake, client, store };
}

/** A file of `size` bytes, with a fixed identity so that a later call is "the same file". */
const fileOf = (size: number, name = 'film.mp4') =>
  new File([new Uint8Array(size)], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 });

describe('createClient().upload', () => {
  it('posts a file up to the threshold as one form, and a larger one in parts', async () => {
    // Arrange
    const { fake, client } = setUp();

    // Act
    const small = await client.upload(fileOf(10));
    const large = await client.upload(fileOf(23));

    // Assert
    expect(fake.formPosts).toHaveLength(1);
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads')).toHaveLength(1);
    expect([...fake.partPuts].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(fake.uploads.get(large)?.closed).toBe('completed');
    expect(small).not.toBe(large);
  });

  it('sends parts in parallel, never more than `concurrency` at once, and reports progress to the whole size', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 3 });
    const progress: number[] = [];

    // Act
    await client.upload(fileOf(50), { onProgress: ({ loaded, total }) => progress.push(loaded / total) });

    // Assert
    expect(fake.partPuts).toHaveLength(10);
    expect(fake.maxInFlight).toBe(3);
    expect(progress.at(-1)).toBe(1);
  });

  it('retries a failed part alone with backoff, and gives up after the last retry with the error', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('PUT 2', 'network', 503);
    const failing = setUp({ concurrency: 1 });
    failing.fake.fail('PUT 1', 500, 500, 500, 500);

    // Act
    await client.upload(fileOf(15));
    const error = await failing.client.upload(fileOf(15)).catch((e: unknown) => e);

    // Assert
    expect(fake.partPuts).toEqual([1, 2, 2, 2, 3]);
    expect(error).toBeInstanceOf(PresignStorageError);
    expect(error).toMatchObject({ status: 500, storageCode: 'Boom' });
    expect(failing.fake.partPuts).toEqual([1, 1, 1, 1]);
    expect(failing.fake.apiRequests.some((r) => r.endsWith('/complete'))).toBe(false);
  });

  it('does not retry what S3 refuses for good (a 400)', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('PUT 1', 400);

    // Act / Assert
    await expect(client.upload(fileOf(15))).rejects.toMatchObject({ status: 400 });
    expect(fake.partPuts).toEqual([1]);
  });

  it('signs a part URL again when it is about to expire, or when S3 refused it', async () => {
    // Arrange: URLs live 20 s, less than the 30 s margin: every part is signed just before it is sent.
    const { fake, client } = setUp({ concurrency: 1 });
    fake.urlLifetimeMs = 20_000;
    const refused = setUp({ concurrency: 1 });
    refused.fake.fail('PUT 2', 403);

    // Act
    const fileId = await client.upload(fileOf(15));
    const other = await refused.client.upload(fileOf(15));

    // Assert
    expect(fake.apiRequests.filter((r) => r === `POST /uploads/${fileId}/parts`)).toHaveLength(3);
    expect(refused.fake.partPuts).toEqual([1, 2, 2, 3]);
    expect(refused.fake.apiRequests.filter((r) => r === `POST /uploads/${other}/parts`)).toHaveLength(2);
  });

  it('signs part URLs in batches ahead of need', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 2 });

    // Act
    const fileId = await client.upload(fileOf(40));

    // Assert: 8 parts, 4 per signing (twice the concurrency).
    expect(fake.apiRequests.filter((r) => r === `POST /uploads/${fileId}/parts`)).toHaveLength(2);
  });

  it('fails without retrying when S3 answers a part without an ETag the page may read', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.hideEtag = true;

    // Act / Assert
    await expect(client.upload(fileOf(15))).rejects.toThrow(/CORS must expose ETag/);
    expect(fake.partPuts).toEqual([1]);
  });

  it('resumes an aborted upload: only the parts S3 does not hold are sent, and the record is gone after', async () => {
    // Arrange
    const { fake, client, store } = setUp({ concurrency: 1 });
    const controller = new AbortController();
    let sent = 0;
    const file = fileOf(25);

    // Act
    const aborted = await client
      .upload(file, {
        signal: controller.signal,
        onProgress: () => {
          sent += 1;
          if (fake.partPuts.length === 2 && sent > 2) controller.abort(new Error('stop'));
        },
      })
      .catch((e: unknown) => e);
    const pending = await client.pendingUploads();
    fake.partPuts.length = 0;
    const fileId = await client.upload(file);

    // Assert
    expect(aborted).toEqual(new Error('stop'));
    expect(pending).toEqual([
      expect.objectContaining({ fileId, partsSent: 2, partCount: 5, name: 'film.mp4' }),
    ]);
    expect(fake.partPuts).toEqual([3, 4, 5]);
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
    expect(fake.uploads.get(fileId)?.closed).toBe('completed');
    expect(await store.keys()).toEqual([]);
  });

  it('sends again a part S3 holds at another size or with an ETag this client did not get', async () => {
    // Arrange: a first run sends every part but does not complete.
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('POST /uploads/01FILE00000000000000000001/complete', 400);
    const file = fileOf(15);
    await client.upload(file).catch(() => undefined);
    const upload = fake.uploads.get('01FILE00000000000000000001');
    if (!upload) throw new Error('no upload');
    upload.parts.set(1, { size: 4, etag: '"short"' });
    upload.parts.set(2, { size: 5, etag: '"someone-else"' });
    fake.partPuts.length = 0;

    // Act
    await client.upload(file);

    // Assert
    expect(fake.partPuts).toEqual([1, 2]);
    expect(upload.closed).toBe('completed');
  });

  it('resolves with the fileId when the remembered upload was completed already, and starts anew when it is gone', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail(
      'POST /uploads/01FILE00000000000000000001/complete',
      'network',
      'network',
      'network',
      'network',
    );
    const file = fileOf(15);
    await client.upload(file).catch(() => undefined);
    const first = fake.uploads.get('01FILE00000000000000000001');
    if (!first) throw new Error('no upload');
    first.closed = 'completed';
    fake.files.add(first.fileId);
    const other = fileOf(15, 'other.mp4');
    const gone = setUp({ concurrency: 1 });
    gone.fake.fail('POST /uploads/01FILE00000000000000000001/complete', 400);
    await gone.client.upload(other).catch(() => undefined);
    gone.fake.uploads.delete('01FILE00000000000000000001');

    // Act
    const resumed = await client.upload(file);
    const restarted = await gone.client.upload(other);

    // Assert
    expect(resumed).toBe(first.fileId);
    expect(await client.pendingUploads()).toEqual([]);
    expect(restarted).not.toBe('01FILE00000000000000000001');
    expect(gone.fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(2);
  });

  it('treats a completion whose answer was lost as done when the retry finds it closed and the file there', async () => {
    // Arrange: the first completion succeeds at the server, its answer never arrives.
    const { fake } = setUp({ concurrency: 1 });
    const completeRoute = 'POST /uploads/01FILE00000000000000000001/complete';
    const realFetch = fake.fetch;
    let dropped = false;
    const lossy: typeof fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (!dropped && `${init?.method} ${new URL(String(input)).pathname}` === completeRoute) {
        dropped = true;
        throw new TypeError('connection reset after the request was sent');
      }
      return response;
    };
    const client = createClient({
      apiUrl: 'https://api.test',
      getToken: () => 't',
      fetch: lossy,
      transport: fake.transport,
      multipartThreshold: 10,
      retry: FAST,
    });

    // Act
    const fileId = await client.upload(fileOf(15));

    // Assert
    expect(fileId).toBe('01FILE00000000000000000001');
    expect(fake.apiRequests.filter((r) => r === completeRoute)).toHaveLength(2);
  });

  it('starts another upload when the same file is given other clientMetadata, aborting the remembered one', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('POST /uploads/01FILE00000000000000000001/complete', 400);
    const file = fileOf(15);
    await client.upload(file, { clientMetadata: { album: 'A' } }).catch(() => undefined);

    // Act
    await client.upload(file, { clientMetadata: { album: 'B' } });

    // Assert
    expect(fake.uploads.get('01FILE00000000000000000001')?.closed).toBe('aborted');
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(2);
  });

  it('discards a remembered upload: the API aborts it and it is forgotten', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('POST /uploads/01FILE00000000000000000001/complete', 400);
    const file = fileOf(15);
    await client.upload(file).catch(() => undefined);
    const pending = await client.findPendingUpload(file);

    // Act
    if (pending) await client.discardUpload(pending);

    // Assert
    expect(pending?.partsSent).toBe(3);
    expect(fake.uploads.get('01FILE00000000000000000001')?.closed).toBe('aborted');
    expect(await client.pendingUploads()).toEqual([]);
  });

  it('remembers nothing for bytes without lastModified: a new client cannot tell them from other bytes', async () => {
    // Arrange
    const { fake, client, store } = setUp({ concurrency: 1 });
    fake.fail('PUT 2', 400);

    // Act
    await client
      .upload({ data: new Uint8Array(15), name: 'x.mp4', type: 'video/mp4' })
      .catch(() => undefined);

    // Assert
    expect(await store.keys()).toEqual([]);
  });

  it('retries a form POST with the same form after a network error, and with a new form after a 403', async () => {
    // Arrange
    const { fake, client } = setUp();
    fake.fail('POST form', 'network', 403);

    // Act
    await client.upload(fileOf(5, 'cat.png'));

    // Assert
    expect(fake.formPosts).toHaveLength(3);
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads')).toHaveLength(2);
  });

  it('rejects at once when the signal is already aborted, and needs a name for a bare Blob', async () => {
    // Arrange
    const { fake, client } = setUp();

    // Act / Assert
    await expect(client.upload(fileOf(5), { signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow(
      'no',
    );
    await expect(client.upload(new Blob(['x'], { type: 'image/png' }))).rejects.toThrow(TypeError);
    await expect(client.upload(new Blob(['x']), { filename: 'a.bin' })).rejects.toThrow(/content type/);
    expect(fake.apiRequests).toEqual([]);
  });
});

describe('createClient().uploadMany', () => {
  const photo = (name: string, size = 5, type = 'image/png') =>
    new File([new Uint8Array(size)], name, { type, lastModified: 1_700_000_000_000 });

  it('asks one POST /uploads for every form, posts each, and settles each file in order with its progress', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 2 });
    const progress = new Map<string, number[]>();
    const uploaded: string[] = [];
    const files = ['a.png', 'b.png', 'c.png'].map((name) => ({
      source: photo(name),
      onProgress: ({ loaded, total }: { loaded: number; total: number }) =>
        progress.set(name, [...(progress.get(name) ?? []), loaded / total]),
      onUploaded: (fileId: string) => uploaded.push(fileId),
    }));

    // Act
    const outcomes = await client.uploadMany(files);

    // Assert
    expect(fake.apiRequests).toEqual(['POST /uploads']);
    expect(fake.batches).toEqual([['a.png', 'b.png', 'c.png']]);
    const fileIds = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
    expect(fake.formPosts.map((url) => new URL(url).searchParams.get('fileId'))).toEqual(fileIds);
    expect([...uploaded].sort()).toEqual([...fileIds].sort());
    for (const name of ['a.png', 'b.png', 'c.png']) expect(progress.get(name)?.at(-1)).toBe(1);
  });

  it('asks once per 100 files, and sends files above the threshold in parts, one by one', async () => {
    // Arrange
    const { fake, client } = setUp();
    const small = Array.from({ length: 101 }, (_, index) => ({ source: photo(`p${index}.png`) }));
    const large = { source: fileOf(23) };

    // Act
    const outcomes = await client.uploadMany([...small, large]);

    // Assert
    expect(fake.batches.map((batch) => batch.length)).toEqual([100, 1]);
    expect(fake.formPosts).toHaveLength(101);
    expect(fake.apiRequests.filter((request) => request === 'POST /uploads/multipart')).toHaveLength(1);
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const last = outcomes.at(-1);
    expect(last?.status === 'fulfilled' && fake.uploads.get(last.value)?.closed).toBe('completed');
  });

  it('fails every file of a batch the API refuses with its error, and posts nothing', async () => {
    // Arrange
    const { fake, client } = setUp();

    // Act
    const outcomes = await client.uploadMany([
      { source: photo('a.png') },
      { source: photo('page.html', 5, 'text/html') },
    ]);

    // Assert
    expect(fake.formPosts).toEqual([]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(reason).toBeInstanceOf(PresignApiError);
      expect(reason).toMatchObject({ code: 'unsupported_content_type', message: 'files[1]: not accepted' });
    }
  });

  it('fails only the file S3 refuses for good; the others are uploaded', async () => {
    // Arrange
    const { fake, client } = setUp({ concurrency: 1 });
    fake.fail('POST form', 400);

    // Act
    const outcomes = await client.uploadMany([{ source: photo('a.png') }, { source: photo('b.png') }]);

    // Assert
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);
    expect(outcomes[0]?.status === 'rejected' && outcomes[0].reason).toBeInstanceOf(PresignStorageError);
  });

  it('leaves a file whose signal aborted out of the batch, and rejects it with the reason', async () => {
    // Arrange
    const { fake, client } = setUp();
    const cancelled = new AbortController();
    cancelled.abort(new Error('cancelled'));

    // Act
    const outcomes = await client.uploadMany([
      { source: photo('kept.png') },
      { source: photo('dropped.png'), signal: cancelled.signal },
    ]);

    // Assert
    expect(fake.batches).toEqual([['kept.png']]);
    expect(outcomes[0]?.status).toBe('fulfilled');
    expect(outcomes[1]).toEqual({ status: 'rejected', reason: new Error('cancelled') });
  });

  it('asks nothing for no files, and rejects a nameless Blob before sending anything', async () => {
    // Arrange
    const { fake, client } = setUp();

    // Act
    const none = await client.uploadMany([]);
    const error = await client
      .uploadMany([{ source: new Blob(['x'], { type: 'image/png' }) }])
      .catch((e) => e);

    // Assert
    expect(none).toEqual([]);
    expect(error).toBeInstanceOf(TypeError);
    expect(fake.apiRequests).toEqual([]);
  });
});

describe('createClient() API calls', () => {
  it("throws PresignApiError with the API's code, or http_<status> for a body without one", async () => {
    // Arrange
    const { fake, client } = setUp();
    fake.fail('GET /files/nope', 'proxy', 'proxy', 'proxy', 'proxy');
    const unknown = await client.get('missing').catch((e: unknown) => e);

    // Act
    const proxy = await client.get('nope').catch((e: unknown) => e);

    // Assert
    expect(unknown).toBeInstanceOf(PresignApiError);
    expect(unknown).toMatchObject({ status: 404, code: 'not_found', message: 'no such file' });
    expect(proxy).toMatchObject({ status: 502, code: 'http_502' });
    expect(fake.apiRequests.filter((r) => r === 'GET /files/nope')).toHaveLength(4);
  });

  it('sends the token getToken gives before every request, and retries a GET after a 5xx or no answer', async () => {
    // Arrange
    const fake = new FakePresign();
    const seen: string[] = [];
    let n = 0;
    const client = createClient({
      apiUrl: 'https://api.test',
      getToken: async () => `t${++n}`,
      fetch: (input, init) => {
        seen.push(String((init?.headers as Record<string, string> | undefined)?.authorization));
        return fake.fetch(input, init);
      },
      transport: fake.transport,
      retry: FAST,
    });
    fake.files.add('f1');
    fake.fail('GET /files/f1', 502, 'network');

    // Act
    const file = await client.get('f1');

    // Assert
    expect(file.status).toBe('passed');
    expect(seen).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3']);
  });

  it('retries starting a multipart upload only when the API surely did not act (429, 503)', async () => {
    // Arrange
    const { fake, client } = setUp();
    fake.fail('POST /uploads/multipart', 429, 503);
    const lost = setUp();
    lost.fake.fail('POST /uploads/multipart', 'network');

    // Act
    await client.upload(fileOf(15));
    const error = await lost.client.upload(fileOf(15)).catch((e: unknown) => e);

    // Assert
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(3);
    expect(error).toBeInstanceOf(PresignNetworkError);
    expect(lost.fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
  });

  it('waits for the verdict through "not found yet" and pending, and gives up with VerdictTimeoutError', async () => {
    // Arrange
    const { fake, client } = setUp();
    fake.files.add('f1');
    fake.verdicts = [404, 'pending', 'pending', 'failed'];
    const slow = setUp();
    slow.fake.files.add('f2');
    slow.fake.verdicts = ['pending'];

    // Act
    const verdict = await client.waitForVerdict('f1');
    const timeout = await slow.client.waitForVerdict('f2', { timeoutMs: 50 }).catch((e: unknown) => e);

    // Assert
    expect(verdict.status).toBe('failed');
    expect(fake.apiRequests.filter((r) => r === 'GET /files/f1')).toHaveLength(4);
    expect(timeout).toBeInstanceOf(VerdictTimeoutError);
    expect(timeout).toMatchObject({ fileId: 'f2' });
  });

  it('refuses bad options at once', () => {
    expect(() => createClient({ apiUrl: 'api.test', getToken: () => '' })).toThrow(RangeError);
    expect(() => createClient({ apiUrl: 'https://a.test', getToken: () => '', concurrency: 0 })).toThrow(
      /concurrency/,
    );
    expect(() =>
      createClient({ apiUrl: 'https://a.test', getToken: () => '', multipartThreshold: -1 }),
    ).toThrow(/multipartThreshold/);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, stays within the cap, and jitters between half and all of it', () => {
    expect(backoffDelay(DEFAULT_RETRY, 1, () => 0)).toBe(250);
    expect(backoffDelay(DEFAULT_RETRY, 1, () => 1)).toBe(500);
    expect(backoffDelay(DEFAULT_RETRY, 3, () => 1)).toBe(2000);
    expect(backoffDelay(DEFAULT_RETRY, 10, () => 1)).toBe(8000);
    expect(backoffDelay(DEFAULT_RETRY, 10, () => 0)).toBe(4000);
  });
});
