import { routeJson } from '../lib/api/route-responses.js';
import * as z from '../lib/core/zod.js';
import { httpRoute } from '../lib/http/route.js';

/** GET /health: liveness, no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  routeJson<'health'>(200, { status: 'ok' }),
);
