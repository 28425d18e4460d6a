import * as z from 'zod';
import { DOWNLOAD_TTL_DEFAULT, DOWNLOAD_TTL_MAX, issueDownloadUrl } from '../lib/download-url.js';
import { jsonResponse } from '../lib/http-response.js';
import { fileIdSchema } from '../lib/object-key.js';
import { ownerRoute } from '../lib/owner-route.js';

const input = z.object({
  path: z.object({ fileId: fileIdSchema }),
  body: z.strictObject({
    expiresIn: z.number().int().min(1).max(DOWNLOAD_TTL_MAX).default(DOWNLOAD_TTL_DEFAULT),
    disposition: z.enum(['attachment', 'inline']).default('attachment'),
  }),
});

/** POST /files/{fileId}/download-url: a short-lived presigned GET for the caller's validated file. */
export const handler = ownerRoute({ input, body: 'optional' }).handler(async (event) => {
  const { path, body } = event.input;
  const download = await issueDownloadUrl(event.owner, path.fileId, {
    ttlSeconds: body.expiresIn,
    disposition: body.disposition,
  });
  return jsonResponse(200, download);
});
