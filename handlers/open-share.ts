import { openShareInput as input } from '../lib/api/inputs/shares.js';
import { httpRoute } from '../lib/http/route.js';
import { requireShareKey, runtime } from '../lib/runtime.js';
import { openShare, type ShareDependencies } from '../lib/shares/shares.js';

/** GET /s/{token} (no auth): redirects a share link to a fresh presigned GET of at most 60 s. */
export const createHandler = (shares: ShareDependencies) =>
  httpRoute({ input, body: 'none' }).handler(async (event) => {
    const { location } = await openShare(shares, event.input.path.token);
    return {
      statusCode: 302,
      headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
      body: '',
    };
  });

// The share key is read (from SSM in AWS) at cold start: an unreadable parameter fails the cold start.
const configured = await runtime();
export const handler = createHandler({
  store: configured.store,
  shareKey: requireShareKey(configured),
  clock: configured.clock,
});
