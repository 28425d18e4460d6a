import { createDownloadUrlInput as input } from '../lib/api/inputs/downloads.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { issueDownloadUrl } from '../lib/downloads/download-url.js';
import { ownerRoute } from '../lib/http/owner-route.js';

/** POST /files/{fileId}/download-url: a short-lived presigned GET for the caller's validated file. */
export const createHandler = ({
  store,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'optional', verify: verifyBearer }).handler(async (event) => {
    const { path, body } = event.input;
    const download = await issueDownloadUrl(store, event.owner, path.fileId, {
      ttlSeconds: body.expiresIn,
      disposition: body.disposition,
      now: clock(),
    });
    return routeJson<'createDownloadUrl'>(200, download);
  });

export const handler = createHandler(await callerRuntime());
