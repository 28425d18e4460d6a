import { uploadInput as input } from '../lib/api/inputs/multipart.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { listUploadParts } from '../lib/uploads/multipart-uploads.js';

/** GET /uploads/{fileId}/parts: the parts S3 holds of the caller's open upload, to resume it. */
export const createHandler = ({ store, verifyBearer }: Pick<CallerRuntime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) =>
    routeJson<'listUploadParts'>(200, await listUploadParts({ store }, event.owner, event.input.path.fileId)),
  );

export const handler = createHandler(await callerRuntime());
