import type {
  AwsS3Part,
  AwsS3UploadParameters,
  MultipartUploadResultWithSignal,
  UploadResult,
  UploadResultWithSignal,
} from '@uppy/aws-s3';
import type { Body, Meta, UppyFile } from '@uppy/core';

/**
 * The options of `@uppy/aws-s3` (major 5: the release line whose plugin takes
 * the upload callbacks) that send every upload through this API: small files
 * as one presigned form POST, large ones as a multipart upload the server
 * starts, signs part by part and completes itself. Browser code: it needs
 * `fetch` and nothing but Uppy's types.
 */

const MiB = 1024 * 1024;
/** S3's bounds for a part (every part but the last) and for the number of parts. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;

export const DEFAULT_MULTIPART_THRESHOLD = 100 * MiB;
export const DEFAULT_PART_SIZE = 16 * MiB;
/** Uppy's own default: retry a failed part at once, then after 1, 3 and 5 s. */
export const DEFAULT_RETRY_DELAYS = [0, 1000, 3000, 5000];

export interface PresignAwsS3Settings {
  /** The API's base URL, e.g. `https://api.example.com` (a trailing slash is ignored). */
  apiUrl: string;
  /** The caller's bearer token (a JWT), asked for before every request so a refreshed one is used. */
  getToken: () => string | Promise<string>;
  /** Files larger than this many bytes go multipart; smaller ones are one form POST. Default 100 MiB. */
  multipartThreshold?: number;
  /**
   * Bytes per part, 5 MiB..5 GiB (default 16 MiB). Grown, in whole MiB, for a
   * file that would need more than 10,000 parts.
   */
  partSize?: number;
  /** Delays (ms) before each retry of a failed part upload or part signing. Default Uppy's. */
  retryDelays?: number[];
}

/** What the API answered instead of a success: its status and `{error:{code,message}}`. */
export class PresignApiError extends Error {
  override readonly name = 'PresignApiError';

  constructor(
    /** HTTP status of the answer. */
    readonly status: number,
    /** The API's stable error code (`not_found`, `incomplete_upload`…), or `http_<status>` when the body had none. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface PresignedPost {
  fileId: string;
  key: string;
  upload: { method: 'POST'; url: string; fields: Record<string, string> };
}

interface StartedMultipart {
  fileId: string;
  key: string;
  uploadId: string;
  partSize: number;
  partCount: number;
}

interface SignedParts {
  parts: { partNumber: number; url: string; headers?: Record<string, string> }[];
}

interface StoredParts {
  parts: { partNumber: number; size: number; etag: string }[];
}

interface Completed {
  fileId: string;
  status: string;
}

/** The options object `presignAwsS3Options` returns, for `uppy.use(AwsS3, options)`. */
export interface PresignAwsS3Options<M extends Meta, B extends Body> {
  shouldUseMultipart: (file: UppyFile<M, B>) => boolean;
  getChunkSize: (file: { size: number }) => number;
  retryDelays: number[];
  getUploadParameters: (
    file: UppyFile<M, B>,
    options?: { signal?: AbortSignal },
  ) => Promise<AwsS3UploadParameters>;
  createMultipartUpload: (file: UppyFile<M, B>, signal?: AbortSignal) => Promise<UploadResult>;
  signPart: (
    file: UppyFile<M, B>,
    options: { uploadId: string; key: string; partNumber: number; signal?: AbortSignal },
  ) => Promise<AwsS3UploadParameters>;
  listParts: (file: UppyFile<M, B>, options: UploadResultWithSignal) => Promise<AwsS3Part[]>;
  completeMultipartUpload: (
    file: UppyFile<M, B>,
    options: MultipartUploadResultWithSignal,
  ) => Promise<{ location?: string; fileId: string; key: string; status: string }>;
  abortMultipartUpload: (file: UppyFile<M, B>, options: UploadResultWithSignal) => Promise<void>;
}

/**
 * The part size for a file of `size` bytes: `preferred`, grown to the next
 * whole MiB when the file would otherwise need more than 10,000 parts. The same
 * number is Uppy's chunk size and the `partSize` the API is asked for, so every
 * part but the last is exactly that long.
 * @throws RangeError when the file needs parts over 5 GiB (over S3's 5 TiB object limit).
 */
export function partSizeFor(size: number, preferred = DEFAULT_PART_SIZE): number {
  const fewEnough = Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB;
  const chosen = Math.max(preferred, MIN_PART_SIZE, fewEnough);
  if (chosen > MAX_PART_SIZE) throw new RangeError(`a file of ${size} bytes needs parts over 5 GiB`);
  return chosen;
}

/** The `fileId` of an upload: the last segment of its key (`uploads/<owner-segment>/<fileId>`). */
export function fileIdOfKey(key: string): string {
  const fileId = key.slice(key.lastIndexOf('/') + 1);
  if (!fileId) throw new Error(`no fileId in the upload key "${key}"`);
  return fileId;
}

const sizeOf = (file: { size?: number | null; data?: { size: number | null } | null }): number =>
  file.size ?? file.data?.size ?? 0;

/**
 * Options for `uppy.use(AwsS3, …)` (`@uppy/aws-s3` 5.x) that map Uppy's
 * upload callbacks onto this API's routes, each request with the bearer token
 * from `getToken` and the abort signal Uppy passes:
 *
 * - `getUploadParameters` → `POST /uploads` (a presigned form POST) for files up to `multipartThreshold`;
 * - `createMultipartUpload` → `POST /uploads/multipart` with `partSize` = `getChunkSize`'s answer;
 * - `signPart` → `POST /uploads/{fileId}/parts`; `listParts` → `GET /uploads/{fileId}/parts`;
 * - `completeMultipartUpload` → `POST /uploads/{fileId}/complete`; `abortMultipartUpload` → `DELETE /uploads/{fileId}`.
 *
 * A refused request throws {@link PresignApiError} carrying the API's error code.
 * @throws RangeError when `partSize` is outside 5 MiB..5 GiB or `multipartThreshold` is negative.
 */
export function presignAwsS3Options<M extends Meta = Meta, B extends Body = Body>(
  settings: PresignAwsS3Settings,
): PresignAwsS3Options<M, B> {
  const apiUrl = settings.apiUrl.replace(/\/+$/, '');
  const threshold = settings.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const preferredPartSize = settings.partSize ?? DEFAULT_PART_SIZE;
  if (
    !Number.isInteger(preferredPartSize) ||
    preferredPartSize < MIN_PART_SIZE ||
    preferredPartSize > MAX_PART_SIZE
  )
    throw new RangeError(
      `partSize must be a whole number of bytes from 5 MiB to 5 GiB, not ${preferredPartSize}`,
    );
  if (!(threshold >= 0)) throw new RangeError(`multipartThreshold must be 0 or more, not ${threshold}`);

  async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${await settings.getToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      throw new PresignApiError(
        response.status,
        typeof error?.code === 'string' ? error.code : `http_${response.status}`,
        typeof error?.message === 'string' ? error.message : `${method} ${path} answered ${response.status}`,
      );
    }
    return parsed as T;
  }

  const uploadPath = (key: string) => `/uploads/${encodeURIComponent(fileIdOfKey(key))}`;
  const describe = (file: UppyFile<M, B>) => ({
    filename: file.name,
    contentType: file.type,
    size: sizeOf(file),
  });

  return {
    shouldUseMultipart: (file) => sizeOf(file) > threshold,
    getChunkSize: (file) => partSizeFor(file.size, preferredPartSize),
    retryDelays: settings.retryDelays ?? DEFAULT_RETRY_DELAYS,

    async getUploadParameters(file, options) {
      const issued = await call<PresignedPost>('POST', '/uploads', describe(file), options?.signal);
      return { method: 'POST', url: issued.upload.url, fields: issued.upload.fields };
    },

    async createMultipartUpload(file, signal) {
      const request = { ...describe(file), partSize: partSizeFor(sizeOf(file), preferredPartSize) };
      const started = await call<StartedMultipart>('POST', '/uploads/multipart', request, signal);
      if (started.partSize !== request.partSize) {
        // Uppy cuts the file by its own chunk size: parts of another size would never complete.
        await call<void>('DELETE', uploadPath(started.key)).catch(() => undefined);
        throw new Error(
          `the API chose parts of ${started.partSize} bytes, not the ${request.partSize} asked`,
        );
      }
      return { uploadId: started.uploadId, key: started.key };
    },

    async signPart(_file, { key, partNumber, signal }) {
      const signed = await call<SignedParts>(
        'POST',
        `${uploadPath(key)}/parts`,
        { parts: [{ partNumber }] },
        signal,
      );
      const part = signed.parts.find((candidate) => candidate.partNumber === partNumber);
      if (!part) throw new Error(`the API signed no URL for part ${partNumber}`);
      return { method: 'PUT', url: part.url, headers: part.headers ?? {} };
    },

    async listParts(_file, { key, signal }) {
      const stored = await call<StoredParts>('GET', `${uploadPath(key)}/parts`, undefined, signal);
      return stored.parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
    },

    async completeMultipartUpload(_file, { key, parts, signal }) {
      const done = parts.map(({ PartNumber, ETag }) => {
        if (PartNumber === undefined || ETag === undefined)
          throw new Error('a part to complete has no number or ETag');
        return { partNumber: PartNumber, etag: ETag };
      });
      const completed = await call<Completed>('POST', `${uploadPath(key)}/complete`, { parts: done }, signal);
      return { fileId: completed.fileId, key, status: completed.status };
    },

    async abortMultipartUpload(_file, { key, signal }) {
      await call<void>('DELETE', uploadPath(key), undefined, signal);
    },
  };
}
