/**
 * @presign/uppy: an Uppy uploader plugin for the presign API, built on
 * `@presign/client`. See `PresignUpload`.
 */
export {
  PresignUpload,
  type PresignUploadBody,
  type PresignUploadOptions,
  RejectedFileError,
} from './presign-upload.js';
