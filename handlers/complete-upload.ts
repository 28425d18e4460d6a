import { completeUploadInput as input } from '../lib/api/inputs/multipart.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { MAX_COMPLETE_BODY_BYTES } from '../lib/http/route.js';
import { completeUpload } from '../lib/uploads/multipart-uploads.js';

// The limit lib/api/routes.ts declares for this route (see handlers/create-upload.ts).
const maxBodyBytes = MAX_COMPLETE_BODY_BYTES;

/** POST /uploads/{fileId}/complete: completes the caller's multipart upload once every part is in. */
export const createHandler = ({
  store,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'required', maxBodyBytes, verify: verifyBearer }).handler(async (event) => {
    const { path, body } = event.input;
    return routeJson<'completeUpload'>(
      200,
      await completeUpload({ store, clock }, event.owner, path.fileId, body.parts),
    );
  });

export const handler = createHandler(await callerRuntime());
