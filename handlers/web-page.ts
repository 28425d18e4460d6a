import { loadEnvironment } from '../lib/config/environment.js';
import { parseUploadRules } from '../lib/config/upload-rules.js';
import * as z from '../lib/core/zod.js';
import { httpRoute } from '../lib/http/route.js';
import { configuredWebPage, webPageResponse } from '../lib/web/web-page.js';

// Only the settings the page shows, not the whole runtime: the page calls no AWS service, and its
// bundle then carries no S3 client, JWT verifier or secret reader to compile at every cold start.
// The whole environment is still checked, so a misconfigured stage fails this cold start too.
const environment = loadEnvironment(process.env);

/** Rendered once per cold start: the rules and the bucket cannot change in a running container. */
const page = configuredWebPage(environment, parseUploadRules(environment.UPLOAD_RULES));

/** GET /: the upload page, with the configured rules and a strict CSP; no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () =>
  webPageResponse(page),
);
