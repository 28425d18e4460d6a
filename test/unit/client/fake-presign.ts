import {
  PresignNetworkError,
  type StorageRequest,
  type StorageResponse,
  type StorageTransport,
} from '../../../client/src/index.js';

/**
 * An in-memory stand-in for the API's upload routes and S3's answers to part
 * PUTs and form POSTs, for the client's unit tests: it keeps what a real
 * multipart upload keeps (part sizes and ETags), signs part URLs with an
 * expiry, and lets a test make any request fail.
 */
export interface FakeUpload {
  fileId: string;
  size: number;
  partSize: number;
  partCount: number;
  parts: Map<number, { size: number; etag: string }>;
  closed: 'completed' | 'aborted' | undefined;
}

/** No answer, a status with the API's error body, or a proxy's 502 with a body of its own. */
type Failure = 'network' | 'proxy' | number;

export class FakePresign {
  readonly uploads = new Map<string, FakeUpload>();
  readonly files = new Set<string>();
  /** Every API request, as `METHOD path`. */
  readonly apiRequests: string[] = [];
  /** Every part PUT, as its part number, in order of sending. */
  readonly partPuts: number[] = [];
  readonly formPosts: string[] = [];
  /** The filenames of every batch `POST /uploads`, one list per request. */
  readonly batches: string[][] = [];
  /** Part URLs expire this long after signing (ms). */
  urlLifetimeMs = 900_000;
  now = () => Date.now();
  /** Failures to answer, by `PUT <n>`, `POST form`, or API `METHOD path`, used once each, in order. */
  readonly failures = new Map<string, Failure[]>();
  /** Parts in flight at once, at most. */
  maxInFlight = 0;
  private inFlight = 0;
  private counter = 0;
  partSize = 5;
  /** Statuses to answer GET /files/{fileId} with, in order; the last one stays. */
  verdicts: (number | 'pending' | 'passed' | 'failed')[] = ['passed'];
  /** Answer PUTs without an ETag header (a bucket whose CORS hides it). */
  hideEtag = false;

  fail(what: string, ...failures: Failure[]) {
    this.failures.set(what, [...(this.failures.get(what) ?? []), ...failures]);
  }

  private nextFailure(what: string): Failure | undefined {
    return this.failures.get(what)?.shift();
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const route = `${method} ${url.pathname}`;
    this.apiRequests.push(route);
    const failure = this.nextFailure(route);
    if (failure === 'network') throw new TypeError('fetch failed');
    if (failure === 'proxy') return new Response('Bad Gateway', { status: 502 });
    if (failure !== undefined) return this.json(failure, { error: { code: 'internal_error', message: 'x' } });
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const match = (pattern: RegExp) => pattern.exec(url.pathname);
    if (route === 'POST /uploads' && Array.isArray(body.files)) {
      this.batches.push(body.files.map((file: { filename: string }) => file.filename));
      const refused = body.files.findIndex(
        (file: { contentType: string }) => file.contentType === 'text/html',
      );
      if (refused >= 0)
        return this.json(415, {
          error: { code: 'unsupported_content_type', message: `files[${refused}]: not accepted` },
        });
      return this.json(201, { uploads: body.files.map((file: { size: number }) => this.form(file.size)) });
    }
    if (route === 'POST /uploads') return this.json(201, this.form(body.size));
    if (route === 'POST /uploads/multipart') {
      const partSize = body.partSize ?? this.partSize;
      const upload: FakeUpload = {
        fileId: this.newId(),
        size: body.size,
        partSize,
        partCount: Math.ceil(body.size / partSize),
        parts: new Map(),
        closed: undefined,
      };
      this.uploads.set(upload.fileId, upload);
      return this.json(201, {
        ...upload,
        parts: undefined,
        key: 'k',
        uploadId: 'u',
        expiresAt: new Date(this.now() + 86_400_000).toISOString(),
        maxBytes: body.size,
      });
    }
    const upload = match(/^\/uploads\/([^/]+)/)?.[1];
    if (upload !== undefined) {
      const found = this.uploads.get(upload);
      if (!found) return this.json(404, { error: { code: 'not_found', message: 'no such upload' } });
      const closed = () => this.json(409, { error: { code: 'upload_closed', message: 'closed' } });
      if (method === 'GET') {
        if (found.closed) return closed();
        return this.json(200, {
          parts: [...found.parts].map(([partNumber, part]) => ({ partNumber, ...part })),
        });
      }
      if (method === 'DELETE') {
        if (found.closed) return closed();
        found.closed = 'aborted';
        return new Response(null, { status: 204 });
      }
      if (url.pathname.endsWith('/parts')) {
        const expiresAt = this.now() + this.urlLifetimeMs;
        return this.json(200, {
          parts: body.parts.map(({ partNumber }: { partNumber: number }) => ({
            partNumber,
            url: `https://s3.test/part?fileId=${upload}&partNumber=${partNumber}&expires=${expiresAt}`,
            headers: {},
            expiresAt: new Date(expiresAt).toISOString(),
          })),
        });
      }
      if (url.pathname.endsWith('/complete')) {
        if (found.closed) return closed();
        for (let n = 1; n <= found.partCount; n++) {
          const expected = Math.min(found.partSize, found.size - (n - 1) * found.partSize);
          const sent = body.parts.find((part: { partNumber: number }) => part.partNumber === n);
          if (found.parts.get(n)?.size !== expected || sent?.etag !== found.parts.get(n)?.etag)
            return this.json(422, { error: { code: 'incomplete_upload', message: `part ${n}` } });
        }
        found.closed = 'completed';
        this.files.add(upload);
        return this.json(200, { fileId: upload, status: 'pending' });
      }
    }
    const file = match(/^\/files\/([^/]+)$/)?.[1];
    if (file !== undefined && method === 'GET') {
      const verdict = this.verdicts.length > 1 ? this.verdicts.shift() : this.verdicts[0];
      if (!this.files.has(file) || typeof verdict === 'number')
        return this.json(404, { error: { code: 'not_found', message: 'no such file' } });
      return this.json(200, { fileId: file, filename: 'f', status: verdict });
    }
    return this.json(500, { error: { code: 'internal_error', message: `no route ${route}` } });
  };

  readonly transport: StorageTransport = async (request: StorageRequest): Promise<StorageResponse> => {
    const url = new URL(request.url);
    if (request.method === 'POST') {
      this.formPosts.push(url.href);
      const failure = this.nextFailure('POST form');
      if (failure === 'network' || failure === 'proxy') throw new PresignNetworkError('connection reset');
      if (failure !== undefined)
        return { status: failure, etag: null, text: '<Error><Code>AccessDenied</Code></Error>' };
      request.onProgress?.(1, 1);
      return { status: 204, etag: null, text: '' };
    }
    const partNumber = Number(url.searchParams.get('partNumber'));
    this.partPuts.push(partNumber);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (request.signal?.aborted) throw request.signal.reason;
      const failure = this.nextFailure(`PUT ${partNumber}`);
      if (failure === 'network' || failure === 'proxy') throw new PresignNetworkError('connection reset');
      if (failure !== undefined)
        return { status: failure, etag: null, text: '<Error><Code>Boom</Code></Error>' };
      if (Number(url.searchParams.get('expires')) < this.now())
        return { status: 403, etag: null, text: '<Error><Code>AccessDenied</Code></Error>' };
      const upload = this.uploads.get(String(url.searchParams.get('fileId')));
      const body = request.body as Blob;
      const etag = `"etag-${partNumber}-${body.size}-${this.counter++}"`;
      upload?.parts.set(partNumber, { size: body.size, etag });
      request.onProgress?.(body.size, body.size);
      return { status: 200, etag: this.hideEtag ? null : etag, text: '' };
    } finally {
      this.inFlight -= 1;
    }
  };

  private form(size: number) {
    const fileId = this.newId();
    return {
      fileId,
      key: `uploads/o/${fileId}`,
      upload: {
        method: 'POST',
        url: `https://s3.test/bucket?fileId=${fileId}`,
        fields: { key: 'k', policy: 'p' },
      },
      expiresAt: new Date(this.now() + 300_000).toISOString(),
      maxBytes: size,
    };
  }

  private newId() {
    this.counter += 1;
    return `01FILE${String(this.counter).padStart(20, '0')}`;
  }

  private json(status: number, body: unknown) {
    return new Response(JSON.stringify(body), {
      status,
      headers: status === 429 ? { 'retry-after': '0' } : {},
    });
  }
}
