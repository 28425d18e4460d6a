import { revokeSharesInput as input } from '../lib/api/inputs/shares.js';
import { routeNoContent } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { revokeShares } from '../lib/shares/shares.js';

/** DELETE /files/{fileId}/shares: revokes every share link of the caller's file issued so far. */
export const createHandler = ({ store, verifyBearer }: Pick<CallerRuntime, 'store' | 'verifyBearer'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event) => {
    await revokeShares(store, event.owner, event.input.path.fileId);
    return routeNoContent<'revokeShares'>(204);
  });

export const handler = createHandler(await callerRuntime());
