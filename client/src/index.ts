/**
 * @presign/client: a typed client of the presign API for browsers and Node 20+.
 * See `createClient`.
 */
export {
  type BatchFile,
  type BatchOptions,
  type ClientOptions,
  createClient,
  type PendingUpload,
  type PresignClient,
  type UploadOptions,
  type UploadProgress,
  type VerdictOptions,
} from './client.js';
export {
  isTransient,
  PresignApiError,
  PresignError,
  PresignNetworkError,
  PresignStorageError,
  VerdictTimeoutError,
} from './errors.js';
export {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  MAX_FORM_BYTES,
  MAX_PART_SIZE,
  MAX_PARTS,
  MAX_PARTS_PER_SIGNING,
  MIN_PART_SIZE,
  partRange,
  partSizeFor,
} from './part-sizing.js';
export {
  memoryResumeStore,
  type ResumeStore,
  webStorageResumeStore,
} from './resume-store.js';
export type { RetryPolicy } from './retry.js';
export {
  fetchTransport,
  type StorageRequest,
  type StorageResponse,
  type StorageTransport,
  xhrTransport,
} from './storage-transport.js';
export type * from './types.js';
export type { SourceOverrides, UploadSource } from './upload-source.js';
