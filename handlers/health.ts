import * as z from 'zod';
import { httpRoute } from '../lib/http.js';
import { jsonResponse } from '../lib/http-response.js';

/** GET /health: liveness, no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  jsonResponse(200, { status: 'ok' }),
);
