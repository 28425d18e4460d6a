import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { TEST_NOW } from './clock.js';

export const TEST_ISSUER = 'https://issuer.test/';
export const TEST_AUDIENCE = 'presign-api';

/** The test identity provider's key pair, made fresh for each test run. */
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
export const testJwks = {
  keys: [{ ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' }],
};

const seconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/**
 * A valid bearer token for `sub`, issued at `now` ({@link TEST_NOW}, the unit
 * tests' clock, unless given: a test against the running stack passes the
 * real time) and living five minutes unless `expiresAt` (seconds since the
 * epoch) says otherwise; claims can be overridden per test.
 */
export async function signTestToken(
  sub: string,
  overrides: { claims?: JWTPayload; now?: Date; expiresAt?: number; audience?: string; issuer?: string } = {},
): Promise<string> {
  const issuedAt = seconds(overrides.now ?? TEST_NOW);
  return new SignJWT({ ...overrides.claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
    .setSubject(sub)
    .setIssuer(overrides.issuer ?? TEST_ISSUER)
    .setAudience(overrides.audience ?? TEST_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(overrides.expiresAt ?? issuedAt + 300)
    .sign(privateKey);
}
