import * as z from 'zod';
import { jsonResponse } from '../lib/http/responses.js';
import { httpRoute } from '../lib/http/route.js';

/** GET /health: liveness, no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  jsonResponse(200, { status: 'ok' }),
);
