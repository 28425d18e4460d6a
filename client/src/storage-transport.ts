import { PresignNetworkError, PresignStorageError } from './errors.js';

/** One request straight to S3: a presigned form POST or a part PUT. */
export interface StorageRequest {
  method: 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body: Blob | FormData;
  signal?: AbortSignal;
  /** Bytes of the body sent so far, as the transport learns it. */
  onProgress?: (sent: number, total: number) => void;
}

/** S3's answer: its status, the `ETag` header (a part's), and the body (S3's XML error). */
export interface StorageResponse {
  status: number;
  etag: string | null;
  text: string;
}

/**
 * Sends one request to S3 and resolves with its answer, whatever the status;
 * rejects with {@link PresignNetworkError} when there is no answer, and with
 * the signal's reason when it aborts.
 */
export type StorageTransport = (request: StorageRequest) => Promise<StorageResponse>;

/**
 * XMLHttpRequest, in browsers: the only way a page learns how many bytes of a
 * request body have left (fetch has no upload progress over HTTP/1.1).
 */
export function xhrTransport(): StorageTransport {
  return (request) =>
    new Promise((resolve, reject) => {
      const { signal } = request;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      xhr.open(request.method, request.url);
      for (const [name, value] of Object.entries(request.headers ?? {})) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) request.onProgress?.(event.loaded, event.total);
      });
      xhr.addEventListener('load', () => {
        settle();
        resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag'), text: xhr.responseText });
      });
      xhr.addEventListener('error', () => {
        settle();
        reject(new PresignNetworkError(`${request.method} to storage got no answer`));
      });
      xhr.addEventListener('timeout', () => {
        settle();
        reject(new PresignNetworkError(`${request.method} to storage timed out`));
      });
      xhr.addEventListener('abort', () => {
        settle();
        reject(signal?.reason ?? new DOMException('The upload was aborted.', 'AbortError'));
      });
      xhr.send(request.body);
    });
}

/**
 * fetch, where there is no XMLHttpRequest (Node): progress is reported once,
 * when S3 has taken the whole body.
 */
export function fetchTransport(fetchFn: typeof fetch): StorageTransport {
  return async (request) => {
    let response: Response;
    try {
      response = await fetchFn(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new PresignNetworkError(`${request.method} to storage got no answer`, { cause: error });
    }
    const text = await response.text();
    if (response.ok) {
      // A form's encoded length is not known here: report it as whole.
      const size = request.body instanceof Blob ? request.body.size : 1;
      request.onProgress?.(size, size);
    }
    return { status: response.status, etag: response.headers.get('etag'), text };
  };
}

/** XMLHttpRequest where there is one (browsers), fetch elsewhere. */
export function defaultTransport(fetchFn: typeof fetch): StorageTransport {
  return typeof XMLHttpRequest === 'function' ? xhrTransport() : fetchTransport(fetchFn);
}

/** The error for an answer of S3 that is not a success, with S3's `<Code>` when its body has one. */
export function storageRefusal(what: string, response: StorageResponse): PresignStorageError {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(response.text)?.[1];
  return new PresignStorageError(
    response.status,
    code,
    `storage refused ${what} (${response.status}${code ? ` ${code}` : ''})`,
  );
}
