import * as z from '../../core/zod.js';
import { DOWNLOAD_TTL_DEFAULT, DOWNLOAD_TTL_MAX } from '../../downloads/download-url.js';
import { filePath } from './paths.js';

// The input schemas of the routes for download URLs (what an input schema is: ./paths.ts).

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
