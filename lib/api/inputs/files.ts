import * as z from '../../core/zod.js';
import { filePath } from './paths.js';

// The input schemas of the routes on files (what an input schema is: ./paths.ts).

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
