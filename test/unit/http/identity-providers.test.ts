// The recipes of docs/identity-providers.md, each as the params a deployer sets
// (the functions' variables they become), verifying tokens shaped like that
// provider's (claims, `kid`, algorithm) against a JWKS served over HTTP on
// loopback, as the provider's JWKS URL serves it: what must pass, and the ways
// each goes wrong.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompactEncrypt,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerRuntime } from '../../../lib/caller-runtime.js';
import { ApiError } from '../../../lib/core/errors.js';
import { TEST_SECONDS, testClock } from '../../support/clock.js';

type Algorithm = 'RS256' | 'ES256';

/** One provider's signing key, published in its JWKS under `kid`. */
interface ProviderKey {
  kid: string;
  alg: Algorithm;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function providerKey(kid: string, alg: Algorithm): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** JWKS documents by path, served on 127.0.0.1 as each provider serves its own. */
const published = new Map<string, { keys: JWK[] }>();
let server: Server;
let origin: string;

const COGNITO_ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E';
const COGNITO_CLIENT = '3n4b5urk1ft4fl3mg5e62d9ado';
const AUTH0_ISSUER = 'https://acme.eu.auth0.com/';
const AUTH0_API = 'https://api.acme.example';
const AUTH0_CLIENT = 'aZ9xLq3RtY7uWv2Bn5Mc8Kd1Pf4Gh6Js';
const CLERK_ISSUER = 'https://clerk.acme.example';
const CLERK_ORIGIN = 'https://app.acme.example';
const OIDC_ISSUER = 'https://login.acme.example/realms/main';
const OIDC_AUDIENCE = 'presign-api';

let cognito: ProviderKey;
let auth0: ProviderKey;
let clerk: ProviderKey;
let oidc: ProviderKey;
/** A key no JWKS publishes, under a `kid` the Cognito pool's JWKS does not hold. */
let stranger: ProviderKey;

beforeAll(async () => {
  [cognito, auth0, clerk, oidc, stranger] = await Promise.all([
    providerKey('rP0WdWBJqf1E0JkH7k0nCGxyR4X0bEGK6sQ6L1f0Lpg=', 'RS256'),
    providerKey('Qk0yRTVGNzFBQzBFOTBGMTc3QjRDMkRBNUQ5QzY2NzRBRkNDNDdBQQ', 'RS256'),
    providerKey('ins_2abcDEFghiJKLmnoPQRstuVWxyz', 'RS256'),
    providerKey('3kqDkzKWKlnN7bDq6VfGyUZcN2yDh6lS9lIlUKxnXnM', 'ES256'),
    providerKey('unpublished', 'RS256'),
  ]);
  published.set('/cognito/.well-known/jwks.json', { keys: [cognito.jwk] });
  published.set('/auth0/.well-known/jwks.json', { keys: [auth0.jwk] });
  published.set('/clerk/.well-known/jwks.json', { keys: [clerk.jwk] });
  published.set('/oidc/protocol/openid-connect/certs', { keys: [oidc.jwk] });
  server = createServer((request, response) => {
    const jwks = published.get(request.url ?? '');
    response.writeHead(jwks ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks ?? {}));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

/**
 * The verifier a function builds from its variables, given the params of a
 * recipe (by their variable names) and the JWKS URL under `jwksPath`.
 */
async function verifierFor(params: Record<string, string>, jwksPath: string) {
  const { AUTH_JWKS: _inline, AUTH_AUDIENCE: _audience, ...unit } = process.env;
  const runtime = await createCallerRuntime(
    { ...unit, ...params, AUTH_JWKS_URL: `${origin}${jwksPath}` },
    { clock: testClock },
  );
  return runtime.verifyBearer;
}

/** A token signed with `key`, `kid` in its header, issued at the tests' clock for an hour. */
function sign(key: ProviderKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iat: TEST_SECONDS, exp: TEST_SECONDS + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** The status a verification ends in: 200 for an owner, else the ApiError's (a 401). */
async function statusOf(verify: (authorization: string) => Promise<unknown>, token: string) {
  try {
    await verify(`Bearer ${token}`);
    return 200;
  } catch (error) {
    if (error instanceof ApiError) return error.statusCode;
    throw error;
  }
}

const COGNITO_SUB = '8f1c2e4a-90b1-4d7e-a3c5-1b2d3e4f5a6b';
/** An Amazon Cognito user pool access token: `client_id` and `token_use: access`, no `aud`. */
const cognitoAccessClaims = (changes: JWTPayload = {}): JWTPayload => ({
  sub: COGNITO_SUB,
  iss: COGNITO_ISSUER,
  client_id: COGNITO_CLIENT,
  origin_jti: 'f0e1d2c3-b4a5-4968-8776-655443322110',
  event_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  token_use: 'access',
  scope: 'aws.cognito.signin.user.admin openid email',
  auth_time: TEST_SECONDS,
  jti: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
  username: 'alice',
  ...changes,
});
/** An Amazon Cognito user pool ID token: `aud` is the app client, `token_use: id`. */
const cognitoIdClaims = (changes: JWTPayload = {}): JWTPayload => ({
  sub: COGNITO_SUB,
  iss: COGNITO_ISSUER,
  aud: COGNITO_CLIENT,
  email_verified: true,
  'cognito:username': 'alice',
  origin_jti: 'f0e1d2c3-b4a5-4968-8776-655443322110',
  event_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  token_use: 'id',
  auth_time: TEST_SECONDS,
  email: 'alice@example.com',
  ...changes,
});
/** Amazon Cognito's refresh tokens are encrypted (JWE, five segments), never a signed JWT. */
async function cognitoRefreshToken(): Promise<string> {
  const { publicKey } = await generateKeyPair('RSA-OAEP', { extractable: true });
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ sub: COGNITO_SUB })))
    .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM', cty: 'JWT' })
    .encrypt(publicKey);
}

describe('Amazon Cognito, access tokens (authClientIds, authTokenUse=access)', () => {
  const recipe = {
    AUTH_ISSUER: COGNITO_ISSUER,
    AUTH_CLIENT_IDS: COGNITO_CLIENT,
    AUTH_TOKEN_USE: 'access',
  };
  const jwks = '/cognito/.well-known/jwks.json';

  it('accepts the app client’s access token (RS256, kid of the pool’s JWKS, no aud)', async () => {
    const verify = await verifierFor(recipe, jwks);
    const owner = await verify(`Bearer ${await sign(cognito, cognitoAccessClaims())}`);
    expect(owner.sub).toBe(COGNITO_SUB);
  });

  it('accepts the access token of any app client listed (comma-separated)', async () => {
    const verify = await verifierFor({ ...recipe, AUTH_CLIENT_IDS: `other-client,${COGNITO_CLIENT}` }, jwks);
    expect(await statusOf(verify, await sign(cognito, cognitoAccessClaims()))).toBe(200);
  });

  it.each([
    ['an ID token where an access token is required', () => sign(cognito, cognitoIdClaims())],
    [
      'an ID token that also names the client in client_id',
      () => sign(cognito, cognitoIdClaims({ client_id: COGNITO_CLIENT })),
    ],
    [
      'another app client’s access token',
      () => sign(cognito, cognitoAccessClaims({ client_id: 'other-client' })),
    ],
    ['an access token with no client_id', () => sign(cognito, cognitoAccessClaims({ client_id: undefined }))],
    ['an access token with no token_use', () => sign(cognito, cognitoAccessClaims({ token_use: undefined }))],
    ['a refresh token (encrypted, not a signed JWT)', cognitoRefreshToken],
    [
      'another user pool’s access token',
      () =>
        sign(
          cognito,
          cognitoAccessClaims({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' }),
        ),
    ],
    [
      'a token signed by a key the pool does not publish',
      () => sign(stranger, cognitoAccessClaims(), { kid: cognito.kid }),
    ],
    ['an expired access token', () => sign(cognito, cognitoAccessClaims({ exp: TEST_SECONDS - 60 }))],
  ])('refuses %s with a 401', async (_, token) => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await token())).toBe(401);
  });
});

describe('Amazon Cognito, ID tokens (authAudience, authTokenUse=id)', () => {
  const recipe = { AUTH_ISSUER: COGNITO_ISSUER, AUTH_AUDIENCE: COGNITO_CLIENT, AUTH_TOKEN_USE: 'id' };
  const jwks = '/cognito/.well-known/jwks.json';

  it('accepts the app client’s ID token', async () => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await sign(cognito, cognitoIdClaims()))).toBe(200);
  });

  it.each([
    ['an access token where an ID token is required', () => sign(cognito, cognitoAccessClaims())],
    [
      'an access token carrying aud and token_use access',
      () => sign(cognito, cognitoAccessClaims({ aud: COGNITO_CLIENT })),
    ],
    ['another app client’s ID token', () => sign(cognito, cognitoIdClaims({ aud: 'other-client' }))],
    ['a refresh token', cognitoRefreshToken],
  ])('refuses %s with a 401', async (_, token) => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await token())).toBe(401);
  });
});

const AUTH0_SUB = 'auth0|64f1c2e4a90b14d7ea3c51b2';
/** An Auth0 access token for an API: `aud` lists the API and /userinfo, `azp` the application, `scope`. */
const auth0AccessClaims = (changes: JWTPayload = {}): JWTPayload => ({
  iss: AUTH0_ISSUER,
  sub: AUTH0_SUB,
  aud: [AUTH0_API, `${AUTH0_ISSUER}userinfo`],
  azp: AUTH0_CLIENT,
  scope: 'openid profile email read:files',
  ...changes,
});

describe('Auth0 (authAudience = the API identifier)', () => {
  const recipe = { AUTH_ISSUER: AUTH0_ISSUER, AUTH_AUDIENCE: AUTH0_API };
  const jwks = '/auth0/.well-known/jwks.json';

  it('accepts an access token for the API whose aud is a list (the API and /userinfo)', async () => {
    const verify = await verifierFor(recipe, jwks);
    const owner = await verify(`Bearer ${await sign(auth0, auth0AccessClaims())}`);
    expect(owner.sub).toBe(AUTH0_SUB);
  });

  it.each([
    [
      'an ID token (aud is the application, not the API)',
      () =>
        sign(auth0, {
          iss: AUTH0_ISSUER,
          sub: AUTH0_SUB,
          aud: AUTH0_CLIENT,
          nonce: 'n-0S6_WzA2Mj',
          email: 'alice@example.com',
        }),
    ],
    [
      'an access token for another API',
      () =>
        sign(auth0, auth0AccessClaims({ aud: ['https://billing.acme.example', `${AUTH0_ISSUER}userinfo`] })),
    ],
    [
      'an access token of another tenant',
      () => sign(auth0, auth0AccessClaims({ iss: 'https://other.eu.auth0.com/' })),
    ],
    [
      'a token signed HS256 with a client secret',
      () =>
        new SignJWT(auth0AccessClaims({ iat: TEST_SECONDS, exp: TEST_SECONDS + 3600 }))
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .sign(new TextEncoder().encode('client-secret-of-the-application-0123456789')),
    ],
    [
      'an unsecured token (alg none)',
      async () =>
        new UnsecuredJWT(auth0AccessClaims({ iat: TEST_SECONDS, exp: TEST_SECONDS + 3600 })).encode(),
    ],
    ['an opaque refresh token', async () => 'v1.MRrT1g2h3j4k5l6z7x8c9v0b1n2m3q4w5e6r7t8y9u0i'],
  ])('refuses %s with a 401', async (_, token) => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await token())).toBe(401);
  });
});

const CLERK_SUB = 'user_2NNEqL2nrIRdJ194ndJqAHwEfxC';
/** A Clerk session token: `azp` is the frontend's origin, `sid` the session; no `aud`. */
const clerkClaims = (changes: JWTPayload = {}): JWTPayload => ({
  azp: CLERK_ORIGIN,
  iss: CLERK_ISSUER,
  nbf: TEST_SECONDS - 10,
  sid: 'sess_2NNEqQ7cLlBqHc9PEYZwQOmRJOu',
  sub: CLERK_SUB,
  v: 2,
  fva: [0, -1],
  ...changes,
});

describe('Clerk (authAuthorizedParties = the frontend’s origins)', () => {
  const recipe = {
    AUTH_ISSUER: CLERK_ISSUER,
    AUTH_AUTHORIZED_PARTIES: `${CLERK_ORIGIN},https://admin.acme.example`,
  };
  const jwks = '/clerk/.well-known/jwks.json';

  it('accepts a session token from a listed origin (RS256, kid of the instance, no aud)', async () => {
    const verify = await verifierFor(recipe, jwks);
    const owner = await verify(`Bearer ${await sign(clerk, clerkClaims())}`);
    expect(owner.sub).toBe(CLERK_SUB);
  });

  it.each([
    ['a session token from another origin', () => sign(clerk, clerkClaims({ azp: 'https://evil.example' }))],
    ['a session token with no azp', () => sign(clerk, clerkClaims({ azp: undefined }))],
    [
      'a token of another Clerk instance',
      () => sign(clerk, clerkClaims({ iss: 'https://clerk.other.example' })),
    ],
    ['a session token not yet valid', () => sign(clerk, clerkClaims({ nbf: TEST_SECONDS + 600 }))],
  ])('refuses %s with a 401', async (_, token) => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await token())).toBe(401);
  });
});

const OIDC_SUB = 'f:0a1b2c3d:alice';
const oidcClaims = (changes: JWTPayload = {}): JWTPayload => ({
  iss: OIDC_ISSUER,
  sub: OIDC_SUB,
  aud: OIDC_AUDIENCE,
  typ: 'Bearer',
  azp: 'web-app',
  ...changes,
});

describe('any OIDC issuer (authIssuer, authAudience, authJwksUrl from its discovery document)', () => {
  const recipe = { AUTH_ISSUER: OIDC_ISSUER, AUTH_AUDIENCE: OIDC_AUDIENCE };
  const jwks = '/oidc/protocol/openid-connect/certs';

  it('accepts a token for the audience (ES256, kid of its JWKS)', async () => {
    const verify = await verifierFor(recipe, jwks);
    const owner = await verify(`Bearer ${await sign(oidc, oidcClaims())}`);
    expect(owner.sub).toBe(OIDC_SUB);
  });

  it.each([
    ['a token for another audience', () => sign(oidc, oidcClaims({ aud: 'account' }))],
    ['a token with no aud', () => sign(oidc, oidcClaims({ aud: undefined }))],
    [
      'a token of another issuer',
      () => sign(oidc, oidcClaims({ iss: 'https://login.acme.example/realms/other' })),
    ],
    ['a token with no sub', () => sign(oidc, oidcClaims({ sub: undefined }))],
    ['a token whose kid the JWKS does not hold', () => sign(oidc, oidcClaims(), { kid: 'rotated-away' })],
  ])('refuses %s with a 401', async (_, token) => {
    const verify = await verifierFor(recipe, jwks);
    expect(await statusOf(verify, await token())).toBe(401);
  });
});

describe('the audience binding itself', () => {
  it('fails the cold start when no param binds tokens to this API, naming the three params', async () => {
    await expect(
      verifierFor({ AUTH_ISSUER: OIDC_ISSUER }, '/oidc/protocol/openid-connect/certs'),
    ).rejects.toThrow(/param authAudience.*param authClientIds.*param authAuthorizedParties/);
  });

  it('fails the cold start on a token_use Amazon Cognito never issues, naming authTokenUse', async () => {
    await expect(
      verifierFor(
        { AUTH_ISSUER: COGNITO_ISSUER, AUTH_CLIENT_IDS: COGNITO_CLIENT, AUTH_TOKEN_USE: 'refresh' },
        '/x',
      ),
    ).rejects.toThrow(/AUTH_TOKEN_USE \(param authTokenUse: --param authTokenUse=…\)/);
  });

  it('checks every binding given: a token must match aud and azp when both are set', async () => {
    const verify = await verifierFor(
      { AUTH_ISSUER: OIDC_ISSUER, AUTH_AUDIENCE: OIDC_AUDIENCE, AUTH_AUTHORIZED_PARTIES: 'web-app' },
      '/oidc/protocol/openid-connect/certs',
    );
    expect(await statusOf(verify, await sign(oidc, oidcClaims()))).toBe(200);
    expect(await statusOf(verify, await sign(oidc, oidcClaims({ azp: 'mobile-app' })))).toBe(401);
  });
});
