import { deleteFileInput as input } from '../lib/api/inputs/files.js';
import { routeNoContent } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { deleteOwnedFile } from '../lib/files/file-deletion.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';

/** DELETE /files/{fileId}: removes every version of the caller's file and its share state, and gives its bytes back. */
export const createHandler = ({
  store,
  limits,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event, context) => {
    await deleteOwnedFile(
      { store, limits, clock, giveUpAt: answerBy(context) },
      event.owner,
      event.input.path.fileId,
    );
    return routeNoContent<'deleteFile'>(204);
  });

export const handler = createHandler(await callerRuntime());
