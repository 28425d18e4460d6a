import { getFileInput as input } from '../lib/api/inputs/files.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { describeFile } from '../lib/files/file-view.js';
import { ownerRoute } from '../lib/http/owner-route.js';

/** GET /files/{fileId}: the caller's own file and its validation status; 404 for anyone else's. */
export const createHandler = ({ store, verifyBearer }: Pick<CallerRuntime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) => {
    return routeJson<'getFile'>(200, await describeFile(store, event.owner, event.input.path.fileId));
  });

export const handler = createHandler(await callerRuntime());
