import { buildOpenApiDocument } from '../lib/api/openapi.js';
import * as z from '../lib/core/zod.js';
import { httpRoute } from '../lib/http/route.js';

/** The document changes only with a deployment: caches may keep it a few minutes. */
const CACHE_CONTROL = 'public, max-age=300';

/** The serialised document, built on the first request of this container. */
let serialised: string | undefined;

/** GET /openapi.json: this API's OpenAPI 3.1 document; no auth, no AWS calls. */
export const handler = httpRoute({ input: z.unknown(), body: 'none' }).handler(async () => {
  serialised ??= JSON.stringify(buildOpenApiDocument());
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': CACHE_CONTROL,
      'x-content-type-options': 'nosniff',
    },
    body: serialised,
  };
});
