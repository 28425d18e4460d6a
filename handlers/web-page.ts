import * as z from 'zod';
import { httpRoute } from '../lib/http/route.js';
import { configuredWebPage, webPageResponse } from '../lib/web/web-page.js';

/** GET /: the upload page, with the configured rules and a strict CSP; no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  webPageResponse(configuredWebPage()),
);
