import { jsonResponse } from '../lib/http-response.js';
import { ownerRoute } from '../lib/owner-route.js';
import { issueUpload } from '../lib/upload-issuer.js';
import { createUploadInput } from '../lib/upload-request.js';

/** POST /uploads: a presigned POST for one new file of the caller's. */
export const handler = ownerRoute({ input: createUploadInput, body: 'required' }).handler(async (event) =>
  jsonResponse(201, await issueUpload(event.owner, event.input.body)),
);
