import type { JSONWebKeySet } from 'jose';
import type * as z from 'zod';
import { env } from '../config/env.js';
import type { Owner } from '../core/owner.js';
import { createBearerVerifier } from './bearer-auth.js';
import { httpRoute, type RouteOptions } from './route.js';

/** The bearer verifier for this deployment's identity provider, built at cold start. */
export const verifyBearer = createBearerVerifier({
  issuer: env.AUTH_ISSUER,
  audience: env.AUTH_AUDIENCE,
  jwks: env.AUTH_JWKS_URL ? new URL(env.AUTH_JWKS_URL) : (env.AUTH_JWKS as JSONWebKeySet),
});

/** The HTTP chain for routes that need `Authorization: Bearer <JWT>`; `event.owner` is the caller. */
export function ownerRoute<Schema extends z.ZodType>(options: RouteOptions<Schema>) {
  return httpRoute<Schema, Owner>({ ...options, verify: verifyBearer });
}
