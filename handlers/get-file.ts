import * as z from 'zod';
import { fileView } from '../lib/files/file-view.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { jsonResponse } from '../lib/http/responses.js';
import { readFileRecord } from '../lib/store/file-record.js';
import { fileIdSchema } from '../lib/store/object-key.js';

const input = z.object({ path: z.object({ fileId: fileIdSchema }) });

/** GET /files/{fileId}: the caller's own file and its validation status; 404 for anyone else's. */
export const handler = ownerRoute({ input, body: 'none' }).handler(async (event) => {
  const record = await readFileRecord(event.owner, event.input.path.fileId);
  return jsonResponse(200, fileView(record));
});
