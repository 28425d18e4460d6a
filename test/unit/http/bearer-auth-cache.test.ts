import { describe, expect, it } from 'vitest';
import { ownerKeyFrom } from '../../../lib/core/owner.js';
import { createBearerVerifier } from '../../../lib/http/bearer-auth.js';
import { TEST_NOW } from '../../support/clock.js';
import { TEST_OWNER_SECRET } from '../../support/owners.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER, testJwks } from '../../support/tokens.js';

/** A verifier whose clock reads `clock.now`, which a test moves on. */
const verifier = (clock = { now: TEST_NOW }) =>
  createBearerVerifier({
    issuer: TEST_ISSUER,
    audience: [TEST_AUDIENCE],
    jwks: testJwks,
    ownerKey: ownerKeyFrom(TEST_OWNER_SECRET),
    clock: () => clock.now,
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
    const clock = { now: TEST_NOW };
    const verify = verifier(clock);
    const token = await signTestToken('dave', { expiresAt: Math.floor(TEST_NOW.getTime() / 1000) + 2 });
    await verify(`Bearer ${token}`);

    // Act: past exp plus the clock tolerance, well within the cache's minute
    clock.now = new Date(TEST_NOW.getTime() + 8000);

    // Assert
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ statusCode: 401 });
  });

  it('verifies a cached token again after a minute, by the clock it is given', async () => {
    // Arrange: a long-lived token, cached at TEST_NOW
    const clock = { now: TEST_NOW };
    const verify = verifier(clock);
    const token = await signTestToken('frank', { expiresAt: Math.floor(TEST_NOW.getTime() / 1000) + 3600 });
    const first = await verify(`Bearer ${token}`);

    // Act: a minute and a half later, still before exp
    clock.now = new Date(TEST_NOW.getTime() + 90_000);
    const again = await verify(`Bearer ${token}`);

    // Assert: verified anew (the same owner), not refused
    expect(again).toEqual(first);
  });

  it('caches only what verified: a tampered copy of a cached token is still refused', async () => {
    const verify = verifier();
    const token = await signTestToken('erin');
    await verify(`Bearer ${token}`);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
    await expect(verify(`Bearer ${tampered}`)).rejects.toMatchObject({ statusCode: 401 });
  });
});
