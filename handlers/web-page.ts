import * as z from 'zod';
import { httpRoute } from '../lib/http/route.js';
import { runtime } from '../lib/runtime.js';
import { configuredWebPage, webPageResponse } from '../lib/web/web-page.js';

/** Rendered once per cold start: the rules and the bucket cannot change in a running container. */
const { environment, rules } = await runtime();
const page = configuredWebPage(environment, rules);

/** GET /: the upload page, with the configured rules and a strict CSP; no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  webPageResponse(page),
);
