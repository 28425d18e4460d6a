import { signUploadPartsInput as input } from '../lib/api/inputs/multipart.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { signUploadParts } from '../lib/uploads/multipart-uploads.js';

/** POST /uploads/{fileId}/parts: presigned URLs for parts of the caller's multipart upload. */
export const createHandler = ({
  store,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'required', verify: verifyBearer }).handler(async (event) => {
    const { path, body } = event.input;
    return routeJson<'signUploadParts'>(
      200,
      await signUploadParts({ store, clock }, event.owner, path.fileId, body.parts),
    );
  });

export const handler = createHandler(await callerRuntime());
