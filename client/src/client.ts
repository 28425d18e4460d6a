import { apiCaller } from './api-call.js';
import { type BatchMember, MAX_BATCH_FILES, runPool, uploadBatch } from './batch-upload.js';
import { PresignApiError, VerdictTimeoutError } from './errors.js';
import { uploadWithForm } from './form-upload.js';
import { uploadInParts } from './multipart-upload.js';
import { DEFAULT_MULTIPART_THRESHOLD, MAX_FORM_BYTES } from './part-sizing.js';
import {
  defaultResumeStore,
  isResumeKey,
  parseResumeRecord,
  type ResumeRecord,
  type ResumeStore,
  resumeKey,
} from './resume-store.js';
import { DEFAULT_RETRY, type RetryPolicy, sleep } from './retry.js';
import { defaultTransport, type StorageTransport } from './storage-transport.js';
import type {
  ClientMetadata,
  DownloadUrl,
  DownloadUrlOptions,
  FileList,
  FileView,
  ListFilesQuery,
  Share,
  ShareOptions,
} from './types.js';
import { filePath, type UploadContext, uploadPath } from './upload-context.js';
import { type SourceOverrides, type UploadSource, uploadFileOf } from './upload-source.js';

export interface ClientOptions {
  /** The API's base URL, e.g. `https://api.example.com` (a trailing slash is ignored). */
  apiUrl: string;
  /** The caller's bearer token (a JWT), asked for before every request so a refreshed one is used. */
  getToken: () => string | Promise<string>;
  /** Files larger than this go multipart; smaller ones are one form POST. Default 100 MiB. */
  multipartThreshold?: number;
  /** Bytes per part (5 MiB to 5 GiB); default: the API's choice (16 MiB, more for huge files). */
  partSize?: number;
  /** Parts in flight at once. Default 4. */
  concurrency?: number;
  /** How failed requests are tried again. Default 4 retries, 0.5 s doubling to 8 s, jittered. */
  retry?: Partial<RetryPolicy>;
  /** Where interrupted multipart uploads are remembered. Default `localStorage`, or memory without it. */
  resumeStore?: ResumeStore;
  /** The fetch to call the API with (and S3, without XMLHttpRequest). Default the global one. */
  fetch?: typeof fetch;
  /** How bytes go to S3. Default XMLHttpRequest in browsers (for progress), fetch in Node. */
  transport?: StorageTransport;
}

/** Bytes of a file S3 has taken so far. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions extends SourceOverrides {
  /** Called as bytes reach S3 (per chunk in browsers, per part in Node). It may step back when a part is retried. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload; `upload` rejects with the signal's reason. A multipart upload stays resumable. */
  signal?: AbortSignal;
  /** Your own JSON object (at most 512 bytes serialized), returned with the file and in webhooks. */
  clientMetadata?: ClientMetadata;
}

/** One file of {@link PresignClient.uploadMany}: the file, and the options `upload` takes for it. */
export interface BatchFile extends UploadOptions {
  source: UploadSource;
  /** Called as soon as S3 holds this file, while others of the batch may still be on their way. */
  onUploaded?: (fileId: string) => void;
}

export interface BatchOptions {
  /** Aborts every file of the call that is not done yet. */
  signal?: AbortSignal;
}

export interface VerdictOptions {
  signal?: AbortSignal;
  /** Give up after this long (default 120 s) with a {@link VerdictTimeoutError}. */
  timeoutMs?: number;
}

/** A multipart upload this client remembers as not finished. */
export interface PendingUpload {
  fileId: string;
  name: string;
  type: string;
  size: number;
  lastModified: number;
  /** Parts this client saw S3 take, of `partCount`. */
  partsSent: number;
  partCount: number;
  expiresAt: string;
}

export interface PresignClient {
  /**
   * Uploads a file and resolves with its fileId once S3 holds it (its verdict
   * is still pending: see {@link PresignClient.waitForVerdict}). Up to
   * `multipartThreshold` bytes it is one presigned form POST; above, a
   * multipart upload, resumed when the same file was interrupted before.
   */
  upload(source: UploadSource, options?: UploadOptions): Promise<string>;
  /**
   * Uploads several files with one `POST /uploads` for the forms of up to 100
   * of them (one request per 100), then posts the forms `concurrency` at a
   * time, each file with its own progress and signal; files above
   * `multipartThreshold` go multipart one by one, as `upload` sends them.
   * Resolves once every file is settled, with an outcome per file in order
   * (its fileId, or why it was not uploaded); never rejects for one file. The
   * API issues a batch's forms all or none: a file it refuses (its type, its
   * size, the quota for the batch's total) fails every file of that request
   * with the same error, whose message names the file (`files[3]: …`).
   * Rejects with a TypeError, before anything is sent, when a file has no name or type.
   */
  uploadMany(files: readonly BatchFile[], options?: BatchOptions): Promise<PromiseSettledResult<string>[]>;
  /** Polls `GET /files/{fileId}` until the validator has decided: resolves with the file, `passed` or `failed`. */
  waitForVerdict(fileId: string, options?: VerdictOptions): Promise<FileView>;
  /** One page of your files, newest first (`GET /files`). */
  list(query?: ListFilesQuery, options?: { signal?: AbortSignal }): Promise<FileList>;
  /** Every one of your files, newest first, page after page. */
  listAll(options?: { signal?: AbortSignal; pageSize?: number }): AsyncGenerator<FileView>;
  get(fileId: string, options?: { signal?: AbortSignal }): Promise<FileView>;
  /** Deletes every stored version of the file and its share links. */
  delete(fileId: string): Promise<void>;
  /** A presigned GET of a passed file (default 300 s, at most 3,600 s). */
  downloadUrl(fileId: string, options?: DownloadUrlOptions): Promise<DownloadUrl>;
  /** A revocable share link for third parties (default 1 day, at most 7 days). */
  share(fileId: string, options?: ShareOptions): Promise<Share>;
  /** Revokes every share link of the file issued so far. */
  revokeShares(fileId: string): Promise<void>;
  /** The interrupted multipart uploads this client remembers (to offer a resume), expired ones left out. */
  pendingUploads(): Promise<PendingUpload[]>;
  /** The remembered upload of this file, if any: the same file given to `upload` resumes it. */
  findPendingUpload(source: UploadSource, options?: SourceOverrides): Promise<PendingUpload | undefined>;
  /** Aborts a remembered upload (`DELETE /uploads/{fileId}`, S3 drops its parts) and forgets it. */
  discardUpload(pending: PendingUpload): Promise<void>;
}

/** A signal that aborts when either does. */
const signalOf = (own: AbortSignal | undefined, all: AbortSignal | undefined): AbortSignal | undefined =>
  own && all ? AbortSignal.any([own, all]) : (own ?? all);

const pendingOf = (record: ResumeRecord): PendingUpload => ({
  fileId: record.fileId,
  name: record.name,
  type: record.type,
  size: record.size,
  lastModified: record.lastModified,
  partsSent: Object.keys(record.etags).length,
  partCount: record.partCount,
  expiresAt: record.expiresAt,
});

/**
 * A client of the presign API. It needs nothing but what browsers and Node 20+
 * have (fetch, Blob, FormData; XMLHttpRequest where there is one).
 * @throws RangeError for a bad option.
 */
export function createClient(options: ClientOptions): PresignClient {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const threshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const concurrency = options.concurrency ?? 4;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  if (!/^https?:\/\//.test(apiUrl)) throw new RangeError(`apiUrl must be an http(s) URL, not "${apiUrl}"`);
  if (!(threshold >= 0)) throw new RangeError(`multipartThreshold must be 0 or more, not ${threshold}`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a whole number from 1, not ${concurrency}`);
  if (!Number.isInteger(retry.retries) || retry.retries < 0)
    throw new RangeError(`retry.retries must be a whole number from 0, not ${retry.retries}`);
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const transport = options.transport ?? defaultTransport(fetchFn);
  const store = options.resumeStore ?? defaultResumeStore();
  const call = apiCaller({ apiUrl, getToken: options.getToken, fetch: fetchFn, retry });

  const records = async (): Promise<[string, ResumeRecord][]> => {
    const found: [string, ResumeRecord][] = [];
    for (const key of (await store.keys()).filter(isResumeKey)) {
      const record = parseResumeRecord(await store.get(key));
      if (!record || Date.parse(record.expiresAt) <= Date.now()) await store.delete(key);
      else if (record.apiUrl === apiUrl) found.push([key, record]);
    }
    return found;
  };

  /** Everything one upload of `source` works with. */
  const contextOf = (
    source: UploadSource,
    uploadOptions: UploadOptions,
    signal: AbortSignal | undefined,
  ): UploadContext => {
    const file = uploadFileOf(source, uploadOptions);
    const { onProgress } = uploadOptions;
    return {
      call,
      transport,
      store,
      apiUrl,
      retry,
      concurrency,
      partSize: options.partSize,
      file,
      clientMetadata: uploadOptions.clientMetadata,
      signal,
      progress: (loaded) => onProgress?.({ loaded, total: file.size }),
      now: Date.now,
    };
  };
  /** Whether a file goes as one form POST rather than multipart. */
  const isFormSized = ({ file }: UploadContext) => file.size <= threshold && file.size <= MAX_FORM_BYTES;

  const client: PresignClient = {
    async upload(source, uploadOptions = {}) {
      const context = contextOf(source, uploadOptions, uploadOptions.signal);
      context.signal?.throwIfAborted();
      return isFormSized(context) ? uploadWithForm(context) : uploadInParts(context);
    },

    async uploadMany(files, { signal } = {}) {
      const contexts = files.map((entry) => contextOf(entry.source, entry, signalOf(entry.signal, signal)));
      const outcomes: PromiseSettledResult<string>[] = [];
      const members = contexts.map(
        (context, index): BatchMember => ({
          context,
          settle: (outcome) => {
            outcomes[index] = outcome;
            // Called as an event listener is: what it throws is reported, and changes no outcome.
            const onUploaded = files[index]?.onUploaded;
            if (outcome.status === 'fulfilled' && onUploaded) queueMicrotask(() => onUploaded(outcome.value));
          },
        }),
      );
      const forms = members.filter((member) => isFormSized(member.context));
      for (let start = 0; start < forms.length; start += MAX_BATCH_FILES)
        await uploadBatch(forms.slice(start, start + MAX_BATCH_FILES), { concurrency, signal });
      const inParts = members.filter((member) => !isFormSized(member.context));
      await runPool(
        inParts.map((member) => async () => {
          try {
            member.context.signal?.throwIfAborted();
            member.settle({ status: 'fulfilled', value: await uploadInParts(member.context) });
          } catch (reason) {
            member.settle({ status: 'rejected', reason });
          }
        }),
        1,
      );
      return outcomes;
    },

    async waitForVerdict(fileId, verdictOptions = {}) {
      const { signal } = verdictOptions;
      const timeoutMs = verdictOptions.timeoutMs ?? 120_000;
      const started = Date.now();
      for (let delay = 250; ; delay = Math.min(delay * 1.5, 2000)) {
        try {
          const file = await client.get(fileId, signal ? { signal } : {});
          if (file.status !== 'pending') return file;
        } catch (error) {
          // Listed a moment after it lands: not found yet is still pending.
          if (!(error instanceof PresignApiError && error.code === 'not_found')) throw error;
        }
        if (Date.now() - started >= timeoutMs) throw new VerdictTimeoutError(fileId, Date.now() - started);
        await sleep(delay, signal);
      }
    },

    list: (query = {}, { signal } = {}) =>
      call<FileList>({
        method: 'GET',
        path: '/files',
        query: { limit: query.limit, cursor: query.cursor },
        signal,
        retry: 'always',
      }),

    async *listAll({ signal, pageSize } = {}) {
      let cursor: string | undefined;
      do {
        const page = await client.list({ limit: pageSize, cursor }, signal ? { signal } : {});
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    get: (fileId, { signal } = {}) =>
      call<FileView>({ method: 'GET', path: filePath(fileId), signal, retry: 'always' }),

    delete: (fileId) => call<void>({ method: 'DELETE', path: filePath(fileId), retry: 'unanswered' }),

    downloadUrl: (fileId, body = {}) =>
      call<DownloadUrl>({ method: 'POST', path: `${filePath(fileId)}/download-url`, body, retry: 'always' }),

    share: (fileId, body = {}) =>
      call<Share>({ method: 'POST', path: `${filePath(fileId)}/shares`, body, retry: 'always' }),

    revokeShares: (fileId) =>
      call<void>({ method: 'DELETE', path: `${filePath(fileId)}/shares`, retry: 'always' }),

    pendingUploads: async () => (await records()).map(([, record]) => pendingOf(record)),

    async findPendingUpload(source, overrides = {}) {
      const file = uploadFileOf(source, overrides);
      if (file.lastModified === undefined) return undefined;
      const key = resumeKey(apiUrl, { ...file, lastModified: file.lastModified });
      const found = (await records()).find(([candidate]) => candidate === key);
      return found && pendingOf(found[1]);
    },

    async discardUpload(pending) {
      try {
        await call<void>({ method: 'DELETE', path: uploadPath(pending.fileId), retry: 'always' });
      } catch (error) {
        // Already completed, aborted or expired: nothing left to abort.
        const gone =
          error instanceof PresignApiError && (error.code === 'not_found' || error.code === 'upload_closed');
        if (!gone) throw error;
      }
      for (const [key, record] of await records())
        if (record.fileId === pending.fileId) await store.delete(key);
    },
  };
  return client;
}
