import { listFilesInput as input } from '../lib/api/inputs/files.js';
import { routeJson } from '../lib/api/route-responses.js';
import { listFiles } from '../lib/files/file-list.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { type Runtime, runtime } from '../lib/runtime.js';

/** GET /files: a page of the caller's files, newest first. */
export const createHandler = ({ store, verifyBearer }: Pick<Runtime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) =>
    routeJson<'listFiles'>(200, await listFiles(store, event.owner, event.input.query)),
  );

export const handler = createHandler(await runtime());
