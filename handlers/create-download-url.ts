import * as z from 'zod';
import { DOWNLOAD_TTL_DEFAULT, DOWNLOAD_TTL_MAX, issueDownloadUrl } from '../lib/downloads/download-url.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { jsonResponse } from '../lib/http/responses.js';
import { type Runtime, runtime } from '../lib/runtime.js';
import { fileIdSchema } from '../lib/store/object-key.js';

const input = z.object({
  path: z.object({ fileId: fileIdSchema }),
  body: z.strictObject({
    expiresIn: z.number().int().min(1).max(DOWNLOAD_TTL_MAX).default(DOWNLOAD_TTL_DEFAULT),
    disposition: z.enum(['attachment', 'inline']).default('attachment'),
  }),
});

/** POST /files/{fileId}/download-url: a short-lived presigned GET for the caller's validated file. */
export const createHandler = ({ store, verifyBearer }: Pick<Runtime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'optional', verify: verifyBearer }).handler(async (event) => {
    const { path, body } = event.input;
    const download = await issueDownloadUrl(store, event.owner, path.fileId, {
      ttlSeconds: body.expiresIn,
      disposition: body.disposition,
    });
    return jsonResponse(200, download);
  });

export const handler = createHandler(runtime());
