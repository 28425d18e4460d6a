import * as z from 'zod';
import { readFileRecord } from '../lib/file-record.js';
import { fileView } from '../lib/file-view.js';
import { jsonResponse } from '../lib/http-response.js';
import { fileIdSchema } from '../lib/object-key.js';
import { ownerRoute } from '../lib/owner-route.js';

const input = z.object({ path: z.object({ fileId: fileIdSchema }) });

/** GET /files/{fileId}: the caller's own file and its validation status; 404 for anyone else's. */
export const handler = ownerRoute({ input, body: 'none' }).handler(async (event) => {
  const record = await readFileRecord(event.owner, event.input.path.fileId);
  return jsonResponse(200, fileView(record));
});
