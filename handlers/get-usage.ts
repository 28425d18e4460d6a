import { getUsageInput as input } from '../lib/api/inputs/usage.js';
import { routeJson } from '../lib/api/route-responses.js';
import { type CallerRuntime, callerRuntime } from '../lib/caller-runtime.js';
import { ownerRoute } from '../lib/http/owner-route.js';
import { answerBy } from '../lib/http/route.js';
import { usageOf } from '../lib/limits/owner-limits.js';

/** GET /usage: the caller's bytes used and reserved, uploads this hour, and the limits in force. */
export const createHandler = ({
  store,
  limits,
  verifyBearer,
  clock,
}: Pick<CallerRuntime, 'store' | 'limits' | 'verifyBearer' | 'clock'>) =>
  ownerRoute({ input, body: 'none', verify: verifyBearer }).handler(async (event, context) =>
    routeJson<'getUsage'>(
      200,
      await usageOf({ store, limits, clock, giveUpAt: answerBy(context) }, event.owner),
    ),
  );

export const handler = createHandler(await callerRuntime());
