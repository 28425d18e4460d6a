import {
  type FileView,
  type PendingUpload,
  PresignApiError,
  type PresignClient,
  PresignError,
  type UploadSource,
} from '@presign/client';

/**
 * Where one file is: `queued` (waiting for a free slot), `uploading` (bytes
 * going to S3), `verifying` (S3 holds it, the validator has not decided),
 * then `passed`, `failed` (the validator refused it: see `reason`),
 * `cancelled`, or `error` (the upload itself failed: see `error`).
 */
export type UploadState = 'queued' | 'uploading' | 'verifying' | 'passed' | 'failed' | 'cancelled' | 'error';

/** One file of the queue, as a component shows it. */
export interface UploadItem {
  /** This queue's id of the item (not the API's fileId). */
  id: string;
  name: string;
  type: string;
  size: number;
  state: UploadState;
  /** Bytes S3 has taken. */
  loaded: number;
  /** The API's id of the file, once S3 holds it. */
  fileId?: string;
  /** Why the validator refused it (`failed`). */
  reason?: string;
  /** What went wrong (`error`): a `PresignApiError` carries the API's `code`, a `PresignStorageError` S3's. */
  error?: PresignError | Error;
  /** Whether `retry` may carry on: cancelled or failed uploads may. */
  retryable: boolean;
}

export interface UploadQueueOptions {
  /** The client every file goes through (`createClient` from `@presign/client`). */
  client: PresignClient;
  /** Files uploaded at once. Default 2. */
  concurrency?: number;
  /** Waits for each file's verdict after S3 holds it. Default true. */
  waitForVerdict?: boolean;
  /** Called with each file's `fileId` and verdict when it passes or fails. */
  onVerdict?: (item: UploadItem, file: FileView) => void;
}

/** A queue of uploads that a UI subscribes to; `useUpload` wraps one for React. */
export interface UploadQueue {
  /** The items, a new array after every change (stable between changes). */
  items(): readonly UploadItem[];
  subscribe(listener: () => void): () => void;
  /** Queues files; each starts when a slot is free. Returns their ids. */
  add(files: Iterable<File | (UploadSource & { name: string })>): string[];
  /** Stops a queued or uploading file (a multipart one stays resumable: `retry` carries on where S3 stopped). */
  cancel(id: string): void;
  /** Queues a cancelled or failed upload again; a multipart one resumes. */
  retry(id: string): void;
  /** Forgets an item that has ended. */
  remove(id: string): void;
  /** The interrupted multipart uploads the client remembers (choose the same file again to resume one). */
  pendingUploads(): Promise<PendingUpload[]>;
  /** Aborts a remembered upload on the server and forgets it. */
  discard(pending: PendingUpload): Promise<void>;
}

interface Entry {
  item: UploadItem;
  source: File | (UploadSource & { name: string });
  controller?: AbortController;
}

const ENDED: readonly UploadState[] = ['passed', 'failed', 'cancelled', 'error'];
const CANCELLED = 'cancelled';

const describe = (source: File | (UploadSource & { name: string })) => {
  if (source instanceof Blob) return { name: source.name, type: source.type, size: source.size };
  const data = source.data as Blob | Uint8Array | ArrayBuffer;
  return { name: source.name, type: source.type, size: data instanceof Blob ? data.size : data.byteLength };
};

/**
 * A queue of uploads through `client`, `concurrency` files at once, each
 * waited on for its verdict. It only calls the client: every byte goes through
 * `@presign/client`'s upload engine.
 * @throws RangeError for a concurrency that is not a whole number from 1.
 */
export function createUploadQueue(options: UploadQueueOptions): UploadQueue {
  const { client } = options;
  const concurrency = options.concurrency ?? 2;
  const waitForVerdict = options.waitForVerdict ?? true;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a whole number from 1, not ${concurrency}`);
  const entries = new Map<string, Entry>();
  const listeners = new Set<() => void>();
  let snapshot: readonly UploadItem[] = [];
  let counter = 0;
  let running = 0;

  const changed = () => {
    snapshot = [...entries.values()].map((entry) => entry.item);
    for (const listener of listeners) listener();
  };
  const update = (entry: Entry, patch: Partial<UploadItem>) => {
    entry.item = { ...entry.item, ...patch };
    changed();
  };

  const start = async (entry: Entry) => {
    running += 1;
    const controller = new AbortController();
    entry.controller = controller;
    update(entry, { state: 'uploading', loaded: 0, retryable: false, error: undefined, reason: undefined });
    try {
      const fileId = await client.upload(entry.source, {
        signal: controller.signal,
        onProgress: ({ loaded }) => update(entry, { loaded }),
      });
      update(entry, { fileId, loaded: entry.item.size, state: waitForVerdict ? 'verifying' : 'passed' });
      if (waitForVerdict) {
        const file = await client.waitForVerdict(fileId, { signal: controller.signal });
        update(entry, {
          state: file.status === 'passed' ? 'passed' : 'failed',
          ...(file.reason ? { reason: file.reason } : {}),
        });
        options.onVerdict?.(entry.item, file);
      }
    } catch (error) {
      if (controller.signal.reason === CANCELLED) update(entry, { state: 'cancelled', retryable: true });
      else
        update(entry, {
          state: 'error',
          error: error instanceof Error ? error : new PresignError(String(error)),
          retryable: !(error instanceof PresignApiError) || error.status >= 429,
        });
    } finally {
      entry.controller = undefined;
      running -= 1;
      next();
    }
  };

  const next = () => {
    for (const entry of entries.values()) {
      if (running >= concurrency) return;
      if (entry.item.state === 'queued') void start(entry);
    }
  };

  return {
    items: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    add(files) {
      const ids: string[] = [];
      for (const source of files) {
        const id = `upload-${++counter}`;
        entries.set(id, {
          source,
          item: { id, ...describe(source), state: 'queued', loaded: 0, retryable: false },
        });
        ids.push(id);
      }
      changed();
      next();
      return ids;
    },
    cancel(id) {
      const entry = entries.get(id);
      if (!entry) return;
      // Once S3 holds the file there is nothing left to cancel: its verdict follows.
      if (entry.item.state === 'uploading') entry.controller?.abort(CANCELLED);
      else if (entry.item.state === 'queued') update(entry, { state: 'cancelled', retryable: true });
    },
    retry(id) {
      const entry = entries.get(id);
      if (!entry?.item.retryable) return;
      update(entry, { state: 'queued', retryable: false });
      next();
    },
    remove(id) {
      const entry = entries.get(id);
      if (!entry || !ENDED.includes(entry.item.state)) return;
      entries.delete(id);
      changed();
    },
    pendingUploads: () => client.pendingUploads(),
    discard: (pending) => client.discardUpload(pending),
  };
}
