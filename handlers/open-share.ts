import * as z from 'zod';
import { httpRoute } from '../lib/http/route.js';
import { openShare } from '../lib/shares/shares.js';

// The token's length and format are checked by the share-token verifier: any bad token is a 404.
const input = z.object({ path: z.object({ token: z.string() }) });

/** GET /s/{token} (no auth): redirects a share link to a fresh presigned GET of at most 60 s. */
export const handler = httpRoute({ input, body: 'none' }).handler(async (event) => {
  const { location } = await openShare(event.input.path.token);
  return {
    statusCode: 302,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: '',
  };
});
