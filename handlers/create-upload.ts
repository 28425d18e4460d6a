import { ownerRoute } from '../lib/http/owner-route.js';
import { jsonResponse } from '../lib/http/responses.js';
import { issueUpload } from '../lib/uploads/upload-issuer.js';
import { createUploadInput } from '../lib/uploads/upload-request.js';

/** POST /uploads: a presigned POST for one new file of the caller's. */
export const handler = ownerRoute({ input: createUploadInput, body: 'required' }).handler(async (event) =>
  jsonResponse(201, await issueUpload(event.owner, event.input.body)),
);
