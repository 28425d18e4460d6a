import type { KeyObject } from 'node:crypto';
import { createShareInput as input } from '../lib/api/inputs/shares.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { publicBaseUrl } from '../lib/http/public-url.js';
import { requireShareKey } from '../lib/runtime.js';
import { issueShare } from '../lib/shares/shares.js';

type Dependencies = Pick<CallerRuntime, 'store' | 'verifyBearer' | 'publicUrl' | 'clock'> & {
  shareKey: KeyObject;
};

/** POST /files/{fileId}/shares: a revocable third-party link that outlives the signing credentials. */
export const createHandler = ({ store, verifyBearer, publicUrl, shareKey, clock }: Dependencies) =>
  ownerRoute({ input, body: 'optional', verify: verifyBearer }).handler(async (event) => {
    const { path, body } = event.input;
    const share = await issueShare({ store, shareKey, clock }, event.owner, path.fileId, {
      ttlSeconds: body.expiresIn,
      baseUrl: publicBaseUrl(event, publicUrl),
    });
    return routeJson<'createShare'>(201, share);
  });

// The share key is read (from SSM in AWS) at cold start: an unreadable parameter fails the cold start.
const configured = await callerRuntime();
export const handler = createHandler({ ...configured, shareKey: requireShareKey(configured) });
