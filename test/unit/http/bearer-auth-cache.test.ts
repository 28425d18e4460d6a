import { describe, expect, it } from 'vitest';
import { ownerKeyFrom } from '../../../lib/core/owner.js';
import { createBearerVerifier } from '../../../lib/http/bearer-auth.js';
import { TEST_OWNER_SECRET } from '../../support/owners.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER, testJwks } from '../../support/tokens.js';

const verifier = () =>
  createBearerVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: testJwks,
    ownerKey: ownerKeyFrom(TEST_OWNER_SECRET),
  });

describe('verified-token cache', () => {
  it('answers a repeated token with the same owner', async () => {
    const verify = verifier();
    const token = await signTestToken('carol');
    const first = await verify(`Bearer ${token}`);
    const again = await verify(`Bearer ${token}`);
    expect(again).toEqual(first);
    expect(again.sub).toBe('carol');
  });

  it('does not trust a cached token past its exp', async () => {
    // Arrange: a token that expires 2 s from now, verified once while valid
    const verify = verifier();
    const token = await signTestToken('dave', { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    await verify(`Bearer ${token}`);

    // Act: past exp plus the clock tolerance
    await new Promise((done) => setTimeout(done, 8000));

    // Assert
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ statusCode: 401 });
  }, 15_000);

  it('caches only what verified: a tampered copy of a cached token is still refused', async () => {
    const verify = verifier();
    const token = await signTestToken('erin');
    await verify(`Bearer ${token}`);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
    await expect(verify(`Bearer ${tampered}`)).rejects.toMatchObject({ statusCode: 401 });
  });
});
