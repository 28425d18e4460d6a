import { createMultipartUploadInput as input } from '../lib/api/inputs/uploads.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { startMultipartUpload } from '../lib/uploads/multipart-uploads.js';

/** POST /uploads/multipart: the server starts a multipart upload of one new file of the caller's. */
export const createHandler = ({
  store,
  rules,
  limits,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'rules' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'required', verify: verifyBearer }).handler(async (event, context) =>
    routeJson<'createMultipartUpload'>(
      201,
      await startMultipartUpload(
        { store, rules, limits, clock, giveUpAt: answerBy(context) },
        event.owner,
        event.input.body,
      ),
    ),
  );

export const handler = createHandler(await callerRuntime());
