import type { Owner } from '../core/owner.js';
import type * as z from '../core/zod.js';
import type { BearerVerifier } from './bearer-auth.js';
import { httpRoute, type RouteOptions } from './route.js';

/** The HTTP chain for routes that need `Authorization: Bearer <JWT>`; `event.owner` is the caller. */
export function ownerRoute<Schema extends z.ZodMiniType>(
  options: RouteOptions<Schema> & { verify: BearerVerifier },
) {
  return httpRoute<Schema, Owner>(options);
}
