import type { components, operations } from './api-types.js';

/**
 * Names for the API's shapes, all taken from the generated `api-types.ts`:
 * they change when the schemas in lib/api change, and nowhere else.
 */
type Schemas = components['schemas'];

/** What `GET /files/{fileId}` says of one of your files. */
export type FileView = Schemas['FileView'];
/** A page of `GET /files`. */
export type FileList = Schemas['FileList'];
/** The presigned form of `POST /uploads`. */
export type IssuedUpload = Schemas['IssuedUpload'];
/** The forms of a batch `POST /uploads`, one per file in the request's order. */
export type IssuedUploads = Schemas['IssuedUploads'];
/** The multipart upload `POST /uploads/multipart` started. */
export type MultipartUpload = Schemas['MultipartUpload'];
/** Part URLs of `POST /uploads/{fileId}/parts`. */
export type PartUrls = Schemas['PartUrls'];
/** What S3 holds of a multipart upload, `GET /uploads/{fileId}/parts`. */
export type UploadedParts = Schemas['UploadedParts'];
/** The answer of `POST /uploads/{fileId}/complete`. */
export type CompletedUpload = Schemas['CompletedUpload'];
/** A presigned download, `POST /files/{fileId}/download-url`. */
export type DownloadUrl = Schemas['DownloadUrl'];
/** A share link, `POST /files/{fileId}/shares`. */
export type Share = Schemas['Share'];
/** A validation status: `pending`, `passed` or `failed`. */
export type ValidationStatus = FileView['status'];

/** Every error code the API documents, from the error envelopes of the OpenAPI document. */
export type ApiErrorCode = {
  [Name in keyof Schemas]: Schemas[Name] extends { error: { code: infer Code } } ? Code : never;
}[keyof Schemas];

type JsonBody<Operation> = Operation extends { requestBody?: { content: { 'application/json': infer Body } } }
  ? Body
  : never;

/** The body of `POST /uploads` (and, with `partSize`, of `POST /uploads/multipart`). */
export type CreateMultipartUploadRequest = JsonBody<operations['createMultipartUpload']>;
/** `clientMetadata`: your own JSON object, at most 512 bytes serialized. */
export type ClientMetadata = NonNullable<CreateMultipartUploadRequest['clientMetadata']>;
/** Options of `POST /files/{fileId}/download-url`. */
export type DownloadUrlOptions = NonNullable<JsonBody<operations['createDownloadUrl']>>;
/** Options of `POST /files/{fileId}/shares`. */
export type ShareOptions = NonNullable<JsonBody<operations['createShare']>>;
/** The query of `GET /files`. */
export type ListFilesQuery = NonNullable<operations['listFiles']['parameters']['query']>;
