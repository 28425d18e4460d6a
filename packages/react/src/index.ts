/**
 * @presign/react: the `useUpload` hook and an accessible `DropZone` for the
 * presign API, built on `@presign/client`.
 */
export { DropZone, type DropZoneProps, describeItem } from './drop-zone.js';
export {
  createUploadQueue,
  type UploadItem,
  type UploadQueue,
  type UploadQueueOptions,
  type UploadState,
} from './upload-queue.js';
export { type UseUpload, useUpload } from './use-upload.js';
