/**
 * @presign/client: a typed client of the presign API for browsers and Node 20+.
 * See `createClient`.
 */
export {
  type BatchFile,
  type BatchOptions,
  type ClientOptions,
  createClient,
  DEFAULT_MULTIPART_THRESHOLD,
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
