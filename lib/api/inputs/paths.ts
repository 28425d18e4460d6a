import * as z from '../../core/zod.js';
import { fileIdSchema } from '../../store/object-key.js';

/*
 * A route's input schema is what `httpRoute` validates as `{ path, query, body }`,
 * and what the OpenAPI document describes: the handler and the document use the
 * same schema object. They are kept in one module per group of routes, and each
 * handler imports its own group's, so a cold start builds only the schemas its
 * route needs; this module holds the paths the groups share.
 */

/** The path of the routes on one file: `/files/{fileId}…`. */
export const filePath = z.object({
  fileId: fileIdSchema.check(z.meta({ description: 'The file id POST /uploads returned.' })),
});

/** The path of the routes on one open multipart upload: `/uploads/{fileId}…`. */
export const uploadPath = z.object({
  fileId: fileIdSchema.check(z.meta({ description: 'The file id POST /uploads/multipart returned.' })),
});
