import * as z from '../../core/zod.js';
import { SHARE_TTL_DEFAULT, SHARE_TTL_MAX } from '../../shares/shares.js';
import { filePath } from './paths.js';

// The input schemas of the routes for share links (what an input schema is: ./paths.ts).

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
