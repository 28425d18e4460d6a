import { isTransient, PresignApiError, PresignError, PresignStorageError } from './errors.js';
import { MAX_PARTS_PER_SIGNING, partRange } from './part-sizing.js';
import { parseResumeRecord, type ResumeRecord, resumeKey } from './resume-store.js';
import { backoffDelay, sleep } from './retry.js';
import { storageRefusal } from './storage-transport.js';
import type { MultipartUpload, PartUrls, UploadedParts } from './types.js';
import { describeUpload, filePath, type UploadContext, uploadPath } from './upload-context.js';

/** A part URL is used only while at least this long is left of it; else it is signed again. */
export const PART_URL_MARGIN_MS = 30_000;

type SignedPart = PartUrls['parts'][number];

const unquoted = (etag: string) => etag.replace(/^"|"$/g, '');

/**
 * Runs `worker` on every item, at most `limit` at once, in order. After a
 * failure no further item starts; those in flight finish (a part that lands
 * is a part a resume need not send), then the first error is thrown.
 */
async function inPool<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const runner = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await worker(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, runner));
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Part URLs, signed in batches just ahead of need (the parts that follow in
 * sending order), kept while fresh, signed again when close to expiry or
 * after S3 refused one.
 */
function partSigner(context: UploadContext, fileId: string, order: readonly number[]) {
  const urls = new Map<number, SignedPart>();
  const signing = new Map<number, Promise<void>>();
  const batch = Math.min(MAX_PARTS_PER_SIGNING, Math.max(2, context.concurrency * 2));
  const fresh = (partNumber: number) => {
    const signed = urls.get(partNumber);
    return signed && Date.parse(signed.expiresAt) - context.now() > PART_URL_MARGIN_MS ? signed : undefined;
  };
  const sign = (partNumber: number): Promise<void> => {
    const from = order.indexOf(partNumber);
    const following = order.slice(from + 1).filter((n) => !fresh(n) && !signing.has(n));
    const numbers = [partNumber, ...following].slice(0, batch);
    const request = context
      .call<PartUrls>({
        method: 'POST',
        path: `${uploadPath(fileId)}/parts`,
        body: { parts: numbers.map((n) => ({ partNumber: n })) },
        signal: context.signal,
        retry: 'always',
      })
      .then((signed) => {
        for (const part of signed.parts) urls.set(part.partNumber, part);
      })
      .finally(() => {
        for (const n of numbers) signing.delete(n);
      });
    for (const n of numbers) signing.set(n, request);
    return request;
  };
  return {
    async url(partNumber: number): Promise<SignedPart> {
      const ready = fresh(partNumber);
      if (ready) return ready;
      await (signing.get(partNumber) ?? sign(partNumber));
      // Signed just now: used even if this machine's clock thinks it is about to expire.
      const signed = fresh(partNumber) ?? urls.get(partNumber);
      if (!signed) throw new PresignError(`the API signed no URL for part ${partNumber}`);
      return signed;
    },
    forget(partNumber: number) {
      urls.delete(partNumber);
    },
  };
}

/**
 * Whether the upload was completed after all: `GET /files/{fileId}` finds the
 * file (retried briefly, as it is listed a moment after it lands).
 */
async function wasCompleted(context: UploadContext, fileId: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await context.call({ method: 'GET', path: filePath(fileId), signal: context.signal, retry: 'always' });
      return true;
    } catch (error) {
      if (!(error instanceof PresignApiError && error.code === 'not_found')) throw error;
      if (attempt >= 5) return false;
      await sleep(1000, context.signal);
    }
  }
}

type Resumed = { state: 'open'; held: Map<number, string> } | { state: 'completed' } | { state: 'gone' };

/**
 * What became of a remembered upload: still open, with the parts S3 holds at
 * their exact size and with the ETag this client got for them (a part whose
 * ETag differs is sent again); completed; or gone (aborted, expired, not this
 * caller's, or asked with other metadata, in which case it is aborted).
 */
async function resumeState(context: UploadContext, record: ResumeRecord, metadata: string): Promise<Resumed> {
  if (Date.parse(record.expiresAt) <= context.now()) return { state: 'gone' };
  const path = uploadPath(record.fileId);
  if (record.clientMetadata !== metadata) {
    await context
      .call({ method: 'DELETE', path, signal: context.signal, retry: 'always' })
      .catch(() => undefined);
    return { state: 'gone' };
  }
  let stored: UploadedParts;
  try {
    stored = await context.call<UploadedParts>({
      method: 'GET',
      path: `${path}/parts`,
      signal: context.signal,
      retry: 'always',
    });
  } catch (error) {
    if (!(error instanceof PresignApiError)) throw error;
    if (error.code === 'not_found') return { state: 'gone' };
    if (error.code === 'upload_closed')
      return (await wasCompleted(context, record.fileId)) ? { state: 'completed' } : { state: 'gone' };
    throw error;
  }
  const held = new Map<number, string>();
  for (const part of stored.parts) {
    if (part.partNumber > record.partCount) continue;
    const [start, end] = partRange(part.partNumber, record.partSize, record.size);
    const sent = record.etags[String(part.partNumber)];
    if (part.size === end - start && (sent === undefined || unquoted(sent) === unquoted(part.etag)))
      held.set(part.partNumber, part.etag);
  }
  return { state: 'open', held };
}

/**
 * Uploads a file as a multipart upload and resolves with its fileId. The
 * server starts it (`POST /uploads/multipart`); parts go straight to S3,
 * `concurrency` at once, each retried on its own with backoff; their URLs are
 * signed ahead of need and again when stale; the server completes it. What is
 * sent is remembered in the resume store after every part, so the same file
 * given again (after an abort, a failure or a reload) resumes: the API says
 * which parts S3 holds, and only the others are sent.
 */
export async function uploadInParts(context: UploadContext): Promise<string> {
  const { file, store, signal } = context;
  const key =
    file.lastModified === undefined
      ? undefined
      : resumeKey(context.apiUrl, { ...file, lastModified: file.lastModified });
  const metadata = JSON.stringify(context.clientMetadata ?? null);
  let record: ResumeRecord | undefined;
  let held = new Map<number, string>();
  const stored = key ? parseResumeRecord(await store.get(key)) : undefined;
  if (key && stored) {
    const resumed = await resumeState(context, stored, metadata);
    if (resumed.state === 'completed') {
      await store.delete(key);
      return stored.fileId;
    }
    if (resumed.state === 'open') {
      record = stored;
      held = resumed.held;
    } else await store.delete(key);
  }
  if (!record) {
    const started = await context.call<MultipartUpload>({
      method: 'POST',
      path: '/uploads/multipart',
      body: {
        ...describeUpload(context),
        ...(context.partSize === undefined ? {} : { partSize: context.partSize }),
      },
      signal,
      retry: 'unanswered',
    });
    record = {
      version: 1,
      apiUrl: context.apiUrl,
      fileId: started.fileId,
      name: file.name,
      type: file.type,
      size: file.size,
      lastModified: file.lastModified ?? 0,
      partSize: started.partSize,
      partCount: started.partCount,
      clientMetadata: metadata,
      etags: {},
      expiresAt: started.expiresAt,
    };
  }
  const upload = record;
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    if (!key) return saving;
    // A store that fails (storage full) costs the resume, not the upload.
    saving = saving.then(() => store.set(key, JSON.stringify(upload))).catch(() => undefined);
    return saving;
  };
  await save();

  const sizeOf = (partNumber: number) => {
    const [start, end] = partRange(partNumber, upload.partSize, upload.size);
    return end - start;
  };
  const etags = new Map(held);
  const order = Array.from({ length: upload.partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
  let done = [...held.keys()].reduce((sum, n) => sum + sizeOf(n), 0);
  const inFlight = new Map<number, number>();
  const report = () => context.progress(done + [...inFlight.values()].reduce((sum, n) => sum + n, 0));
  report();
  const signer = partSigner(context, upload.fileId, order);

  const sendPart = async (partNumber: number): Promise<string> => {
    const [start, end] = partRange(partNumber, upload.partSize, upload.size);
    for (let retry = 0; ; ) {
      try {
        const signed = await signer.url(partNumber);
        const response = await context.transport({
          method: 'PUT',
          url: signed.url,
          headers: signed.headers,
          body: file.blob.slice(start, end),
          ...(signal ? { signal } : {}),
          onProgress: (sent) => {
            inFlight.set(partNumber, Math.min(sent, end - start));
            report();
          },
        });
        if (response.status >= 200 && response.status < 300) {
          if (!response.etag)
            throw new PresignStorageError(
              response.status,
              undefined,
              `S3 answered part ${partNumber} without an ETag the page may read: the bucket's CORS must expose ETag`,
            );
          return response.etag;
        }
        // A stale or refused URL: the next try signs the part again.
        if (response.status === 403) signer.forget(partNumber);
        throw storageRefusal(`part ${partNumber}`, response);
      } catch (error) {
        inFlight.delete(partNumber);
        report();
        if (signal?.aborted) throw signal.reason;
        const again = isTransient(error) || (error instanceof PresignStorageError && error.status === 403);
        if (!again || retry >= context.retry.retries) throw error;
        retry += 1;
        await sleep(backoffDelay(context.retry, retry), signal);
      }
    }
  };

  try {
    await inPool(order, context.concurrency, async (partNumber) => {
      const etag = await sendPart(partNumber);
      etags.set(partNumber, etag);
      upload.etags[String(partNumber)] = etag;
      inFlight.delete(partNumber);
      done += sizeOf(partNumber);
      report();
      await save();
    });
  } finally {
    await saving;
  }

  const parts = [...etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  try {
    await context.call({
      method: 'POST',
      path: `${uploadPath(upload.fileId)}/complete`,
      body: { parts },
      signal,
      retry: 'always',
    });
  } catch (error) {
    // A completion whose answer was lost, tried again: the upload is closed because it is complete.
    const closed = error instanceof PresignApiError && error.code === 'upload_closed';
    if (!closed || !(await wasCompleted(context, upload.fileId))) throw error;
  }
  if (key) await store.delete(key);
  return upload.fileId;
}
