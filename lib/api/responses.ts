import * as z from 'zod';
import type { ErrorCode } from '../core/errors.js';
import { fileIdSchema } from '../store/object-key.js';

/**
 * The response bodies of the HTTP routes. Strict objects: a field a handler
 * sends that is not described here makes the contract tests fail.
 */

const timestamp = z.iso.datetime().meta({ description: 'An ISO 8601 UTC timestamp.' });

/** GET /health. */
export const healthBody = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });

/** POST /uploads (201): a browser-ready presigned POST. */
export const issuedUploadBody = z
  .strictObject({
    fileId: fileIdSchema,
    key: z.string().meta({ description: 'The object key: `uploads/<owner-segment>/<fileId>`.' }),
    upload: z
      .strictObject({
        method: z.literal('POST'),
        url: z.url(),
        fields: z.record(z.string(), z.string()).meta({
          description:
            'Form fields to post, in this order, before the file itself as the last part named `file`.',
        }),
      })
      .meta({ description: 'The HTML form POST that uploads the file straight to S3.' }),
    expiresAt: timestamp.meta({ description: 'The form is refused after this instant.' }),
    maxBytes: z.number().int().positive().meta({ description: 'The exact size the form accepts.' }),
  })
  .meta({ id: 'IssuedUpload' });

/** POST /uploads (201) for a batch: a form for each file, in the request's order. */
export const issuedUploadsBody = z
  .strictObject({
    uploads: z.array(issuedUploadBody).meta({ description: "One form per file, in the request's order." }),
  })
  .meta({ id: 'IssuedUploads' });

/** POST /uploads/multipart (201): a multipart upload the server started. */
export const multipartUploadBody = z
  .strictObject({
    fileId: fileIdSchema,
    key: z.string().meta({ description: 'The object key: `uploads/<owner-segment>/<fileId>`.' }),
    uploadId: z.string().meta({ description: "S3's id of the multipart upload." }),
    partSize: z
      .number()
      .int()
      .positive()
      .meta({ description: 'Bytes of every part but the last, which holds the rest.' }),
    partCount: z.number().int().positive().meta({ description: 'How many parts make the file.' }),
    expiresAt: timestamp.meta({
      description: 'Not completed by then, the upload may be aborted by the bucket lifecycle (one day).',
    }),
    maxBytes: z.number().int().positive().meta({ description: 'The exact size the parts must add up to.' }),
  })
  .meta({ id: 'MultipartUpload' });

/** POST /uploads/{fileId}/parts. */
export const partUrlsBody = z
  .strictObject({
    parts: z.array(
      z.strictObject({
        partNumber: z.number().int().positive(),
        url: z.url().meta({ description: "A presigned UploadPart: `PUT` exactly the part's bytes here." }),
        headers: z.record(z.string(), z.string()).meta({
          description: 'Headers to send with the PUT (`content-md5` when the MD5 was given).',
        }),
        expiresAt: timestamp.meta({
          description: 'The URL is refused after this instant (15 minutes at most).',
        }),
      }),
    ),
  })
  .meta({ id: 'PartUrls' });

/** GET /uploads/{fileId}/parts. */
export const uploadedPartsBody = z
  .strictObject({
    parts: z.array(
      z.strictObject({
        partNumber: z.number().int().positive(),
        size: z.number().int().nonnegative(),
        etag: z.string().meta({ description: 'The ETag S3 holds for the part, quoted.' }),
      }),
    ),
  })
  .meta({ id: 'UploadedParts', description: 'The parts S3 holds, in part-number order.' });

/** POST /uploads/{fileId}/complete. */
export const completedUploadBody = z
  .strictObject({ fileId: fileIdSchema, status: z.literal('pending') })
  .meta({ id: 'CompletedUpload' });

/** The validation states of a file. */
export const validationStatus = z.enum(['pending', 'passed', 'failed']);

/** Each check a file must pass, on its own. */
export const fileChecksBody = z
  .strictObject({
    content: validationStatus.meta({
      description: "The validator's verdict: the bytes are the type declared.",
    }),
    malware: z.enum(['clean', 'infected', 'unscannable', 'pending', 'off']).meta({
      description:
        "Amazon GuardDuty Malware Protection for S3's verdict on the version (`unscannable`: too large, encrypted, access denied or failed); `off` when the deployment does not scan (`malwareScan: none`).",
    }),
  })
  .meta({ id: 'FileChecks' });

/** GET /files/{fileId}: what the owner may see of a file. */
export const fileViewBody = z
  .strictObject({
    fileId: fileIdSchema,
    filename: z.string(),
    contentType: z.string().meta({ description: 'The declared content type.' }),
    size: z.number().int().nonnegative(),
    status: validationStatus.meta({
      description: '`passed` only when every enabled check in `checks` passed; `failed` once one failed.',
    }),
    reason: z.string().optional().meta({
      description:
        "Why the file failed: the content check's reason, or `malware` / `unscannable` from the malware check (which take precedence).",
    }),
    detectedType: z.string().optional().meta({ description: 'The type the validator found in the bytes.' }),
    checks: fileChecksBody,
    uploadedAt: timestamp,
    clientMetadata: z
      .record(z.string(), z.json())
      .nullable()
      .meta({ description: 'The `clientMetadata` the upload was asked with; `null` when none.' }),
  })
  .meta({ id: 'FileView' });

/** GET /files: a page of the caller's files, newest first. */
export const fileListBody = z
  .strictObject({
    items: z.array(fileViewBody),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; `null` on the last page.' }),
  })
  .meta({ id: 'FileList' });

const bytes = (description: string) => z.number().int().nonnegative().meta({ description });

/** GET /usage (200): what the caller's files hold and reserve, and the limits in force. */
export const usageBody = z
  .strictObject({
    usedBytes: bytes('Bytes of your files that passed validation (counted since limits were set).'),
    reservedBytes: bytes(
      'Bytes reserved by uploads issued and not yet judged: forms until they expire (and an hour after, in case bytes are still arriving), multipart uploads until completed and judged or aborted.',
    ),
    quotaBytes: z
      .number()
      .int()
      .positive()
      .nullable()
      .meta({ description: 'Used plus reserved bytes may not exceed this; `null`: no quota.' }),
    uploadsThisHour: z.number().int().nonnegative().meta({
      description: 'Uploads issued to you within the last hour (POST /uploads and POST /uploads/multipart).',
    }),
    uploadsPerHour: z
      .number()
      .int()
      .positive()
      .nullable()
      .meta({ description: 'Uploads you may be issued per hour; `null`: no rate limit.' }),
  })
  .meta({ id: 'Usage' });

/** POST /files/{fileId}/download-url. */
export const downloadUrlBody = z
  .strictObject({
    url: z.url().meta({ description: 'A presigned GET of the file.' }),
    expiresAt: timestamp,
  })
  .meta({ id: 'DownloadUrl' });

/** POST /files/{fileId}/shares (201). */
export const shareBody = z
  .strictObject({
    shareUrl: z.url().meta({ description: 'A link anyone may open: `GET /s/{token}` on this API.' }),
    expiresAt: timestamp,
  })
  .meta({ id: 'Share' });

/** GET /openapi.json: the parts of an OpenAPI document a client relies on. */
export const openApiDocumentBody = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'This OpenAPI document.' });

/**
 * Every error code a caller may see, with its HTTP status: as thrown by the
 * factories of lib/core/errors.ts, and `internal_error` for anything else.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  quota_exceeded: 403,
  not_found: 404,
  not_validated: 409,
  upload_closed: 409,
  link_expired: 410,
  link_revoked: 410,
  file_too_large: 413,
  request_too_large: 413,
  unsupported_content_type: 415,
  unsupported_media_type: 415,
  incomplete_upload: 422,
  rate_limited: 429,
  internal_error: 500,
} as const satisfies Record<ErrorCode, number>;

const pascal = (code: string) => code.replace(/(?:^|_)([a-z])/g, (_, letter: string) => letter.toUpperCase());

function envelope(codes: [ErrorCode, ...ErrorCode[]]) {
  const name = codes.map(pascal).join('Or');
  return z
    .strictObject({
      error: z.strictObject({
        code: z.enum(codes),
        message: z.string().meta({ description: 'For people; never internal details.' }),
      }),
    })
    .meta({ id: name.endsWith('Error') ? name : `${name}Error` });
}

export type ErrorBodySchema = ReturnType<typeof envelope>;

const errorBodies = new Map<string, ErrorBodySchema>();

/**
 * The error envelope, `{ "error": { "code", "message" } }`, with `code` one of
 * `codes`: one schema (and one OpenAPI component) per set of codes.
 */
export function errorBody(codes: readonly [ErrorCode, ...ErrorCode[]]): ErrorBodySchema {
  const sorted = [...codes].sort() as [ErrorCode, ...ErrorCode[]];
  const key = sorted.join(' ');
  let schema = errorBodies.get(key);
  if (!schema) {
    schema = envelope(sorted);
    errorBodies.set(key, schema);
  }
  return schema;
}
