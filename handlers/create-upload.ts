import { createUploadInput as input } from '../lib/api/inputs/uploads.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy, MAX_UPLOAD_BODY_BYTES } from '../lib/http/route.js';
import { issueUpload, issueUploads } from '../lib/uploads/upload-issuer.js';
import { isBatch } from '../lib/uploads/upload-request.js';

// The limit lib/api/routes.ts declares for this route (test/unit/api/responses.test.ts holds each handler
// to its declaration); the declarations stay out of the bundle, since their response schemas are the
// OpenAPI document's, built with zod's classic API.
const maxBodyBytes = MAX_UPLOAD_BODY_BYTES;

/** POST /uploads: a presigned POST for one new file of the caller's, or one for each file of a batch. */
export const createHandler = ({ store, rules, limits, environment, verifyBearer, clock }: CallerRuntime) => {
  const uploads = { store, rules, limits, clock, uploadTtlSeconds: environment.UPLOAD_URL_TTL_SECONDS };
  return ownerRoute({ input, body: 'required', maxBodyBytes, verify: verifyBearer }).handler(
    async (event, context) => {
      const dependencies = { ...uploads, giveUpAt: answerBy(context) };
      const { body } = event.input;
      return routeJson<'createUpload'>(
        201,
        isBatch(body)
          ? { uploads: await issueUploads(dependencies, event.owner, body.files) }
          : await issueUpload(dependencies, event.owner, body),
      );
    },
  );
};

export const handler = createHandler(await callerRuntime());
