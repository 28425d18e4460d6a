import { deleteFileInput as input } from '../lib/api/inputs/files.js';
import { routeNoContent } from '../lib/api/route-responses.js';
import { deleteOwnedFile } from '../lib/files/file-deletion.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { type Runtime, runtime } from '../lib/runtime.js';

/** DELETE /files/{fileId}: removes every version of the caller's file and its share state, and gives its bytes back. */
export const createHandler = ({
  store,
  limits,
  verifyBearer,
  clock,
}: Pick<Runtime, 'store' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event, context) => {
    await deleteOwnedFile(
      { store, limits, clock, giveUpAt: answerBy(context) },
      event.owner,
      event.input.path.fileId,
    );
    return routeNoContent<'deleteFile'>(204);
  });

export const handler = createHandler(await runtime());
