import type { ApiCall } from './api-call.js';
import type { ResumeStore } from './resume-store.js';
import type { RetryPolicy } from './retry.js';
import type { StorageTransport } from './storage-transport.js';
import type { ClientMetadata } from './types.js';
import type { UploadFile } from './upload-source.js';

/** Everything one upload works with. */
export interface UploadContext {
  call: ApiCall;
  transport: StorageTransport;
  store: ResumeStore;
  apiUrl: string;
  retry: RetryPolicy;
  /** Parts in flight at once. */
  concurrency: number;
  /** Bytes per part to ask the API for; undefined lets the API choose. */
  partSize: number | undefined;
  file: UploadFile;
  clientMetadata: ClientMetadata | undefined;
  signal: AbortSignal | undefined;
  /** Bytes of the file S3 has taken so far (in flight included). */
  progress: (loaded: number) => void;
  now: () => number;
}

/** The body of `POST /uploads` and `POST /uploads/multipart` for this file. */
export const describeUpload = (context: UploadContext) => ({
  filename: context.file.name,
  contentType: context.file.type,
  size: context.file.size,
  ...(context.clientMetadata === undefined ? {} : { clientMetadata: context.clientMetadata }),
});

/** `/uploads/{fileId}` or `/files/{fileId}`, the id encoded. */
export const uploadPath = (fileId: string) => `/uploads/${encodeURIComponent(fileId)}`;
export const filePath = (fileId: string) => `/files/${encodeURIComponent(fileId)}`;
