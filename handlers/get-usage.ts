import { getUsageInput as input } from '../lib/api/inputs/usage.js';
import { routeJson } from '../lib/api/route-responses.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { usageOf } from '../lib/limits/owner-limits.js';
import { type Runtime, runtime } from '../lib/runtime.js';

/** GET /usage: the caller's bytes used and reserved, uploads this hour, and the limits in force. */
export const createHandler = ({
  store,
  limits,
  verifyBearer,
  clock,
}: Pick<Runtime, 'store' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event, context) =>
    routeJson<'getUsage'>(
      200,
      await usageOf({ store, limits, clock, giveUpAt: answerBy(context) }, event.owner),
    ),
  );

export const handler = createHandler(await runtime());
