import { uploadInput as input } from '../lib/api/inputs/multipart.js';
import { routeNoContent } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { abortUpload } from '../lib/uploads/multipart-uploads.js';

/** DELETE /uploads/{fileId}: aborts the caller's open multipart upload; S3 drops its parts, its bytes are given back. */
export const createHandler = ({
  store,
  limits,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event, context) => {
    await abortUpload(
      { store, limits, clock, giveUpAt: answerBy(context) },
      event.owner,
      event.input.path.fileId,
    );
    return routeNoContent<'abortUpload'>(204);
  });

export const handler = createHandler(await callerRuntime());
