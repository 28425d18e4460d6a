import type { KeyObject } from 'node:crypto';
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Clock } from '../core/clock.js';
import { unauthorized } from '../core/errors.js';
import { type Owner, ownerFromSubject } from '../core/owner.js';
import type { RemoteKeySet } from './remote-key-set.js';

/** Asymmetric algorithms only: `none` and HMAC (`HS*`) are never accepted. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/** Tolerated clock skew between the issuer and this function, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_SUBJECT_LENGTH = 512;
/** Verified tokens remembered, oldest evicted first. */
const VERIFIED_TOKENS = 1000;
/** A remembered token is verified again after this long, so a key withdrawn from the JWKS stops working soon. */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * What binds a token to this API: at least one list is non-empty, and a token
 * passes when its claims match every non-empty one. Identity providers differ
 * in the claim: OIDC and Auth0 put the API in `aud` (a string or a list),
 * Amazon Cognito's access tokens name the app client in `client_id` (and have
 * no `aud`), Clerk's session tokens name the frontend's origin in `azp`.
 */
export interface TokenAudience {
  /** Accepted `aud` values: one of them must be in the token's `aud`. */
  audience: readonly string[];
  /** Accepted `client_id` values (Amazon Cognito access tokens). */
  clientIds?: readonly string[];
  /** Accepted `azp` values (Clerk's session tokens: the frontend's origin). */
  authorizedParties?: readonly string[];
  /** The `token_use` a token must carry (Amazon Cognito: `access` or `id`); unset: not checked. */
  tokenUse?: string;
}

export interface AuthSettings extends TokenAudience {
  issuer: string;
  /** The issuer's key set fetched from its JWKS URL (and cached), or the key set itself. */
  jwks: RemoteKeySet | JSONWebKeySet;
  /**
   * The key owner segments are derived with (from `OWNER_SECRET` or the SSM
   * parameter `OWNER_SECRET_PARAMETER` names); `undefined` in a function
   * configured without it, whose verifier then refuses to make an owner at all.
   */
  ownerKey: KeyObject | undefined;
  /** What `exp` and `nbf` are checked against. */
  clock: Clock;
}

/** Why a verifier built without an owner key fails: logged as the cause of the 500. */
export const MISSING_OWNER_KEY =
  'invalid configuration: OWNER_SECRET or OWNER_SECRET_PARAMETER is required to authenticate callers (owner segments are keyed with it)';

export type BearerVerifier = (authorization: string | undefined) => Promise<Owner>;

/** A claim that must equal one of `accepted`: unchecked when none is accepted. */
const matches = (claim: unknown, accepted: readonly string[] | undefined): boolean =>
  !accepted?.length || (typeof claim === 'string' && accepted.includes(claim));

/**
 * Whether a verified token's claims bind it to this API as `settings` say:
 * `client_id`, `azp` and `token_use` (jose has already checked `aud`).
 */
function boundToApi(payload: JWTPayload, settings: TokenAudience): boolean {
  return (
    matches(payload.client_id, settings.clientIds) &&
    matches(payload.azp, settings.authorizedParties) &&
    (settings.tokenUse === undefined || payload.token_use === settings.tokenUse)
  );
}

/**
 * Builds the verifier for `Authorization: Bearer <JWT>`: signature against the
 * JWKS, algorithm allow-list, `exp`, `nbf`, `iss`, the audience binding
 * ({@link TokenAudience}: `aud`, `client_id`, `azp`, `token_use`) and a non-empty `sub`.
 * The returned function throws a 401 {@link ApiError} for anything else.
 *
 * Built without an owner key, the verifier throws a plain error (a 500 whose
 * logged cause names the missing configuration) for every request: it never
 * falls back to an unkeyed segment, which anyone could compute from a `sub`.
 */
export function createBearerVerifier(settings: AuthSettings): BearerVerifier {
  const { ownerKey, clock } = settings;
  if (!settings.audience.length && !settings.clientIds?.length && !settings.authorizedParties?.length) {
    throw new Error('invalid configuration: a token must be bound to this API by aud, client_id or azp');
  }
  if (!ownerKey) {
    return async () => {
      throw new Error(MISSING_OWNER_KEY);
    };
  }
  const { jwks } = settings;
  const keys: JWTVerifyGetKey = typeof jwks === 'function' ? jwks : createLocalJWKSet(jwks);
  const options = {
    issuer: settings.issuer,
    ...(settings.audience.length ? { audience: [...settings.audience] } : {}),
    algorithms: ALLOWED_ALGORITHMS,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp', 'sub'],
  };

  // A token's signature and claims cannot change: one already verified is
  // trusted again for a minute (never past its `exp`), saving the signature
  // check (about 250 µs for ES256) on the further requests of a session.
  const verified = new Map<string, { owner: Owner; expiresAt: number }>();

  return async (authorization) => {
    const token = authorization ? BEARER.exec(authorization.trim())?.[1] : undefined;
    if (!token) throw unauthorized();
    const now = clock();
    const known = verified.get(token);
    if (known && now.getTime() < known.expiresAt) return known.owner;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { ...options, currentDate: now }));
    } catch (error) {
      // A JWKS endpoint that cannot be reached is our outage (5xx), not the caller's fault.
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) throw error;
      throw unauthorized();
    }
    if (!boundToApi(payload, settings)) throw unauthorized();
    const { sub, exp } = payload;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) throw unauthorized();
    const owner = ownerFromSubject(sub, ownerKey);
    if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value as string);
    verified.set(token, {
      owner,
      expiresAt: Math.min((exp as number) * 1000, now.getTime() + VERIFIED_TOKEN_TTL_MS),
    });
    return owner;
  };
}
