import { createUploadInput } from '../lib/api/inputs.js';
import { routeJson } from '../lib/api/route-responses.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { type Runtime, runtime } from '../lib/runtime.js';
import { issueUpload } from '../lib/uploads/upload-issuer.js';

/** POST /uploads: a presigned POST for one new file of the caller's. */
export const createHandler = ({ store, rules, limits, environment, verifyBearer, clock }: Runtime) => {
  const uploads = { store, rules, limits, clock, uploadTtlSeconds: environment.UPLOAD_URL_TTL_SECONDS };
  return ownerRoute({ input: createUploadInput, body: 'required', verify: verifyBearer }).handler(
    async (event, context) =>
      routeJson<'createUpload'>(
        201,
        await issueUpload({ ...uploads, giveUpAt: answerBy(context) }, event.owner, event.input.body),
      ),
  );
};

export const handler = createHandler(await runtime());
