import * as z from 'zod';
import { ownerRoute } from '../lib/http/owner-route.js';
import { publicBaseUrl } from '../lib/http/public-url.js';
import { jsonResponse } from '../lib/http/responses.js';
import { issueShare, SHARE_TTL_DEFAULT, SHARE_TTL_MAX } from '../lib/shares/shares.js';
import { fileIdSchema } from '../lib/store/object-key.js';

const input = z.object({
  path: z.object({ fileId: fileIdSchema }),
  body: z.strictObject({
    expiresIn: z.number().int().min(1).max(SHARE_TTL_MAX).default(SHARE_TTL_DEFAULT),
  }),
});

/** POST /files/{fileId}/shares: a revocable third-party link that outlives the signing credentials. */
export const handler = ownerRoute({ input, body: 'optional' }).handler(async (event) => {
  const { path, body } = event.input;
  const share = await issueShare(event.owner, path.fileId, {
    ttlSeconds: body.expiresIn,
    baseUrl: publicBaseUrl(event),
  });
  return jsonResponse(201, share);
});
