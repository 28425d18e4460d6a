import type { JSONWebKeySet } from 'jose';
import { loadEnvironment } from './config/environment.js';
import { readSecureString, resolveSecret } from './config/secrets.js';
import { systemClock } from './core/clock.js';
import { MIN_OWNER_SECRET_LENGTH, ownerKeyFrom } from './core/owner.js';
import { type BearerVerifier, createBearerVerifier } from './http/bearer-auth.js';
import { remoteKeySet } from './http/remote-key-set.js';
import { configured, type Runtime, type RuntimeOverrides, runtimeOf } from './runtime.js';

/** The runtime of a function that serves callers who bring a bearer token. */
export interface CallerRuntime extends Runtime {
  /**
   * The caller's owner from `Authorization: Bearer`, its segment keyed with the owner
   * secret; in a function configured without that secret every call fails (a 500).
   */
  verifyBearer: BearerVerifier;
}

/**
 * Builds the runtime of a function that authenticates its callers: the
 * runtime every function has (lib/runtime.ts), and the verifier of their
 * bearer tokens, keyed with the owner secret. The issuer's key set (from
 * `AUTH_JWKS_URL`) is fetched while the secrets are read: in AWS, the
 * identity provider's round trip and SSM's are waited for at once, not one
 * after the other. Throws, naming the variable, on a configuration it cannot
 * use.
 */
export async function createCallerRuntime(
  variables: NodeJS.ProcessEnv,
  overrides: RuntimeOverrides = {},
): Promise<CallerRuntime> {
  const environment = loadEnvironment(variables);
  const readParameter = overrides.readParameter ?? readSecureString;
  const clock = overrides.clock ?? systemClock;
  const keySet = environment.AUTH_JWKS_URL ? remoteKeySet(new URL(environment.AUTH_JWKS_URL)) : undefined;
  keySet?.prefetch();
  const [runtime, ownerSecret] = await Promise.all([
    runtimeOf(environment, { ...overrides, readParameter, clock }),
    resolveSecret(
      {
        variable: 'OWNER_SECRET',
        value: environment.OWNER_SECRET,
        parameterVariable: 'OWNER_SECRET_PARAMETER',
        parameter: environment.OWNER_SECRET_PARAMETER,
        minLength: MIN_OWNER_SECRET_LENGTH,
      },
      readParameter,
    ),
  ]);
  return {
    ...runtime,
    verifyBearer: createBearerVerifier({
      issuer: environment.AUTH_ISSUER,
      audience: environment.AUTH_AUDIENCE ?? [],
      ...(environment.AUTH_CLIENT_IDS ? { clientIds: environment.AUTH_CLIENT_IDS } : {}),
      ...(environment.AUTH_AUTHORIZED_PARTIES
        ? { authorizedParties: environment.AUTH_AUTHORIZED_PARTIES }
        : {}),
      ...(environment.AUTH_TOKEN_USE ? { tokenUse: environment.AUTH_TOKEN_USE } : {}),
      jwks: keySet ?? (environment.AUTH_JWKS as JSONWebKeySet),
      // Without the owner secret the verifier fails every request rather than hash a `sub` unkeyed.
      ownerKey:
        ownerSecret === undefined ? undefined : configured('OWNER_SECRET', () => ownerKeyFrom(ownerSecret)),
      clock,
    }),
  };
}

let current: Promise<CallerRuntime> | undefined;

/** This container's runtime, built from `process.env` on first use (a handler module's import) and kept. */
export const callerRuntime = (): Promise<CallerRuntime> => {
  current ??= createCallerRuntime(process.env);
  return current;
};
