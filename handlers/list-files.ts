import { listFilesInput as input } from '../lib/api/inputs/files.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { listFiles } from '../lib/files/file-list.js';
import { ownerRoute } from '../lib/http/owner-route.js';

/** GET /files: a page of the caller's files, newest first. */
export const createHandler = ({ store, verifyBearer }: Pick<CallerRuntime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) =>
    routeJson<'listFiles'>(200, await listFiles(store, event.owner, event.input.query)),
  );

export const handler = createHandler(await callerRuntime());
