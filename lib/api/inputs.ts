import * as z from 'zod';
import { DOWNLOAD_TTL_DEFAULT, DOWNLOAD_TTL_MAX } from '../downloads/download-url.js';
import { SHARE_TTL_DEFAULT, SHARE_TTL_MAX } from '../shares/shares.js';
import { fileIdSchema } from '../store/object-key.js';

export { createUploadInput } from '../uploads/upload-request.js';

/**
 * The input schemas of the HTTP routes: what `httpRoute` validates as
 * `{ path, query, body }`, and what the OpenAPI document describes. A route's
 * handler and the document use the same schema object.
 */

const filePath = z.object({
  fileId: fileIdSchema.meta({ description: 'The file id POST /uploads returned.' }),
});

/** GET /files/{fileId}. */
export const getFileInput = z.object({ path: filePath });

/** POST /files/{fileId}/download-url; the body is optional (empty means `{}`). */
export const createDownloadUrlInput = z.object({
  path: filePath,
  body: z.strictObject({
    expiresIn: z.number().int().min(1).max(DOWNLOAD_TTL_MAX).default(DOWNLOAD_TTL_DEFAULT).meta({
      description: 'Lifetime of the URL in seconds; it never outlives the credentials that sign it.',
    }),
    disposition: z.enum(['attachment', 'inline']).default('attachment').meta({
      description: 'inline is honoured for images only: every other type is served as an attachment.',
    }),
  }),
});

/** POST /files/{fileId}/shares; the body is optional (empty means `{}`). */
export const createShareInput = z.object({
  path: filePath,
  body: z.strictObject({
    expiresIn: z
      .number()
      .int()
      .min(1)
      .max(SHARE_TTL_MAX)
      .default(SHARE_TTL_DEFAULT)
      .meta({ description: 'Lifetime of the share link in seconds.' }),
  }),
});

/** DELETE /files/{fileId}/shares. */
export const revokeSharesInput = z.object({ path: filePath });

/** GET /s/{token}. */
// The token's length and format are checked by the share-token verifier: any bad token is a 404.
export const openShareInput = z.object({
  path: z.object({ token: z.string().meta({ description: 'The token of a share link.' }) }),
});
