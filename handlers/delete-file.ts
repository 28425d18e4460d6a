import { deleteFileInput as input } from '../lib/api/inputs.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { type Runtime, runtime } from '../lib/runtime.js';

/** DELETE /files/{fileId}: removes every version of the caller's file and its share state. */
export const createHandler = ({ store, verifyBearer }: Pick<Runtime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) => {
    await store.deleteFile(event.owner, event.input.path.fileId);
    return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
  });

export const handler = createHandler(await runtime());
