import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import {
  createClient,
  memoryResumeStore,
  PresignApiError,
  type StorageTransport,
} from '../../../client/src/index.js';
import {
  createUploadQueue,
  DropZone,
  type UploadItem,
  type UploadQueue,
  useUpload,
} from '../../../packages/react/src/index.js';
import { FakePresign } from '../client/fake-presign.js';
import { holdPart } from '../client/held-transport.js';

const FAST = { retries: 2, baseDelayMs: 1, maxDelayMs: 2 };

function setUp(options: { transport?: (fake: FakePresign) => StorageTransport; concurrency?: number } = {}) {
  const fake = new FakePresign();
  const client = createClient({
    apiUrl: 'https://api.test',
    getToken: () => 'token',
    fetch: fake.fetch,
    transport: options.transport?.(fake) ?? fake.transport,
    multipartThreshold: 10,
    concurrency: 1,
    retry: FAST,
    resumeStore: memoryResumeStore(),
  });
  const queue = createUploadQueue({ client, concurrency: options.concurrency ?? 2 });
  return { fake, client, queue };
}

const fileOf = (size: number, name: string) =>
  new File([new Uint8Array(size)], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 });

/** Resolves once every item of the queue has ended (passed, failed, cancelled or error). */
const settled = (queue: UploadQueue, count: number) =>
  new Promise<readonly UploadItem[]>((resolve) => {
    const check = () => {
      const items = queue.items();
      if (
        items.length >= count &&
        items.every((item) => !['queued', 'uploading', 'verifying'].includes(item.state))
      )
        resolve(items);
    };
    queue.subscribe(check);
    check();
  });

describe('createUploadQueue', () => {
  // Multipart sizes: the fake API lists a file (for its verdict) once a multipart upload completes.
  it('uploads several files, at most `concurrency` at once, each to its verdict', async () => {
    // Arrange
    const { fake, queue } = setUp({ concurrency: 2 });
    let mostAtOnce = 0;
    queue.subscribe(() => {
      const busy = queue.items().filter((item) => item.state === 'uploading').length;
      mostAtOnce = Math.max(mostAtOnce, busy);
    });
    fake.verdicts = ['passed', 'failed', 'passed'];

    // Act
    queue.add([fileOf(11, 'a.mp4'), fileOf(23, 'b.mp4'), fileOf(12, 'c.mp4')]);
    const items = await settled(queue, 3);

    // Assert
    expect(mostAtOnce).toBe(2);
    expect(items.map((item) => item.state).sort()).toEqual(['failed', 'passed', 'passed']);
    expect(items.every((item) => item.fileId !== undefined && item.loaded === item.size)).toBe(true);
  });

  it('cancels an upload in the middle, and a retry resumes it with only the parts S3 does not hold', async () => {
    // Arrange
    let hold: ReturnType<typeof holdPart> | undefined;
    const { fake, queue } = setUp({
      transport: (f) => {
        hold = holdPart(f.transport, 3);
        return hold.transport;
      },
    });
    const [id = ''] = queue.add([fileOf(23, 'film.mp4')]);
    await hold?.arrived;

    // Act
    queue.cancel(id);
    const [cancelled] = await settled(queue, 1);
    queue.retry(id);
    const [done] = await settled(queue, 1);

    // Assert
    expect(cancelled).toMatchObject({ state: 'cancelled', retryable: true });
    expect(done).toMatchObject({ state: 'passed', retryable: false });
    expect(fake.partPuts).toEqual([1, 2, 3, 3, 4, 5]);
    expect(fake.apiRequests.filter((r) => r === 'POST /uploads/multipart')).toHaveLength(1);
  });

  it("ends a file the API refuses in `error`, with the client's typed error", async () => {
    // Arrange
    const { fake, queue } = setUp();
    fake.fail('POST /uploads', 415);

    // Act
    queue.add([fileOf(8, 'a.mp4')]);
    const [item] = await settled(queue, 1);

    // Assert
    expect(item?.state).toBe('error');
    expect(item?.error).toBeInstanceOf(PresignApiError);
    expect(item?.error).toMatchObject({ status: 415 });
    expect(item?.retryable).toBe(false);
  });

  it('removes only items that have ended', async () => {
    // Arrange
    const { queue } = setUp();
    const [first = ''] = queue.add([fileOf(12, 'a.mp4')]);

    // Act
    queue.remove(first);
    const before = queue.items().length;
    await settled(queue, 1);
    queue.remove(first);

    // Assert
    expect(before).toBe(1);
    expect(queue.items()).toEqual([]);
  });
});

describe('DropZone', () => {
  it('renders the zone, a labelled file input, and each file with its state and a button naming it', () => {
    // Arrange
    const { client } = setUp();
    function App() {
      const upload = useUpload({ client });
      const files: UploadItem[] = [
        {
          id: '1',
          name: 'cat.png',
          type: 'image/png',
          size: 100,
          state: 'uploading',
          loaded: 40,
          retryable: false,
        },
        {
          id: '2',
          name: 'fake.png',
          type: 'image/png',
          size: 10,
          state: 'failed',
          loaded: 10,
          reason: 'content_mismatch',
          retryable: false,
        },
      ];
      return createElement(DropZone, { upload: { ...upload, files }, accept: 'image/png' });
    }

    // Act
    const html = renderToString(createElement(App));

    // Assert
    expect(html).toContain('<legend>Drop files here</legend>');
    expect(html).toMatch(
      /<label for="([^"]+)">or choose files<\/label> <input id="\1" type="file" multiple="" accept="image\/png"/,
    );
    expect(html).toContain('aria-label="Cancel cat.png"');
    expect(html).toContain('uploading, 40%');
    expect(html).toContain('refused: content_mismatch');
    expect(html).toContain('role="status" aria-live="polite">fake.png: refused: content_mismatch.</p>');
  });
});
