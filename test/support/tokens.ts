import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const TEST_ISSUER = 'https://issuer.test/';
export const TEST_AUDIENCE = 'presign-api';

/** The test identity provider's key pair, made fresh for each test run. */
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
export const testJwks = {
  keys: [{ ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' }],
};

/** A valid bearer token for `sub`; claims and times can be overridden per test. */
export async function signTestToken(
  sub: string,
  overrides: { claims?: JWTPayload; expiresIn?: string | number; audience?: string; issuer?: string } = {},
): Promise<string> {
  return new SignJWT({ ...overrides.claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
    .setSubject(sub)
    .setIssuer(overrides.issuer ?? TEST_ISSUER)
    .setAudience(overrides.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? '5m')
    .sign(privateKey);
}
