import { MAX_PARTS } from '../core/object-limits.js';
import * as z from '../core/zod.js';
import { DOWNLOAD_TTL_DEFAULT, DOWNLOAD_TTL_MAX } from '../downloads/download-url.js';
import { SHARE_TTL_DEFAULT, SHARE_TTL_MAX } from '../shares/shares.js';
import { fileIdSchema } from '../store/object-key.js';
import { MAX_PARTS_PER_SIGNING } from '../uploads/multipart-uploads.js';

export { createMultipartUploadInput, createUploadInput } from '../uploads/upload-request.js';

/**
 * The input schemas of the HTTP routes: what `httpRoute` validates as
 * `{ path, query, body }`, and what the OpenAPI document describes. A route's
 * handler and the document use the same schema object.
 */

const filePath = z.object({
  fileId: fileIdSchema.check(z.meta({ description: 'The file id POST /uploads returned.' })),
});

/** GET /files/{fileId}. */
export const getFileInput = z.object({ path: filePath });

/** DELETE /files/{fileId}. */
export const deleteFileInput = z.object({ path: filePath });

/** GET /files?limit&cursor. */
export const listFilesInput = z.object({
  query: z.strictObject({
    limit: z
      ._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50)
      .check(z.meta({ description: 'Files per page, 1 to 100.', type: 'integer' })),
    cursor: z
      .optional(z.string().check(z.maxLength(200)))
      .check(z.meta({ description: "The previous page's `nextCursor`." })),
  }),
});

/** POST /files/{fileId}/download-url; the body is optional (empty means `{}`). */
export const createDownloadUrlInput = z.object({
  path: filePath,
  body: z.strictObject({
    expiresIn: z
      ._default(z.number().check(z.int(), z.minimum(1), z.maximum(DOWNLOAD_TTL_MAX)), DOWNLOAD_TTL_DEFAULT)
      .check(
        z.meta({
          description: 'Lifetime of the URL in seconds; it never outlives the credentials that sign it.',
        }),
      ),
    disposition: z._default(z.enum(['attachment', 'inline']), 'attachment').check(
      z.meta({
        description: 'inline is honoured for images only: every other type is served as an attachment.',
      }),
    ),
  }),
});

/** POST /files/{fileId}/shares; the body is optional (empty means `{}`). */
export const createShareInput = z.object({
  path: filePath,
  body: z.strictObject({
    expiresIn: z
      ._default(z.number().check(z.int(), z.minimum(1), z.maximum(SHARE_TTL_MAX)), SHARE_TTL_DEFAULT)
      .check(z.meta({ description: 'Lifetime of the share link in seconds.' })),
  }),
});

/** DELETE /files/{fileId}/shares. */
export const revokeSharesInput = z.object({ path: filePath });

/** GET /s/{token}. */
// The token's length and format are checked by the share-token verifier: any bad token is a 404.
export const openShareInput = z.object({
  path: z.object({ token: z.string().check(z.meta({ description: 'The token of a share link.' })) }),
});

const uploadPath = z.object({
  fileId: fileIdSchema.check(z.meta({ description: 'The file id POST /uploads/multipart returned.' })),
});

const partNumber = z
  .number()
  .check(
    z.int(),
    z.minimum(1),
    z.maximum(MAX_PARTS),
    z.meta({ description: "A part number, from 1 to the upload's `partCount`." }),
  );

/** Each part number at most once. */
const distinctParts = <Part extends { partNumber: number }>(parts: readonly Part[]) =>
  new Set(parts.map((part) => part.partNumber)).size === parts.length;

/** A list of 1..`max` parts, each named once by its `partNumber`, with `fields` beside it. */
const partList = <Fields extends z.core.$ZodLooseShape>(fields: Fields, max: number) =>
  z.array(z.strictObject({ partNumber, ...fields })).check(
    z.minLength(1),
    z.maxLength(max),
    z.refine((parts) => distinctParts(parts as { partNumber: number }[]), 'must name each part number once'),
  );

/** POST /uploads/{fileId}/parts. */
export const signUploadPartsInput = z.object({
  path: uploadPath,
  body: z.strictObject({
    parts: partList(
      {
        md5: z
          .optional(
            z
              .string()
              .check(z.regex(/^[A-Za-z0-9+/]{22}==$/, 'must be the base64 of an MD5 digest (24 characters)')),
          )
          .check(
            z.meta({ description: "The base64 MD5 of the part's bytes: S3 then refuses any other bytes." }),
          ),
      },
      MAX_PARTS_PER_SIGNING,
    ),
  }),
});

/** GET /uploads/{fileId}/parts and DELETE /uploads/{fileId}. */
export const uploadInput = z.object({ path: uploadPath });

/** POST /uploads/{fileId}/complete. */
export const completeUploadInput = z.object({
  path: uploadPath,
  body: z.strictObject({
    parts: partList(
      {
        etag: z
          .string()
          .check(
            z.regex(/^"?[0-9A-Za-z-]{1,100}"?$/, 'must be an ETag'),
            z.meta({ description: 'The ETag S3 answered the part with, quoted or not.' }),
          ),
      },
      MAX_PARTS,
    ),
  }),
});

/** GET /usage: no parameters; unknown query parameters are refused. */
export const getUsageInput = z.object({ query: z.strictObject({}) });
