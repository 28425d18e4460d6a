import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../lib/core/errors.js';
import { ownerFromSubject, ownerKeyFrom } from '../../../lib/core/owner.js';
import { createBearerVerifier, MISSING_OWNER_KEY } from '../../../lib/http/bearer-auth.js';
import { testClock } from '../../support/clock.js';
import { TEST_OWNER_SECRET } from '../../support/owners.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER, testJwks } from '../../support/tokens.js';

const SETTINGS = { issuer: TEST_ISSUER, audience: [TEST_AUDIENCE], jwks: testJwks, clock: testClock };
const OTHER_SECRET = 'another-deployment-owner-secret-0123456789abcdef';
const unkeyed = (sub: string) => createHash('sha256').update(sub, 'utf8').digest('hex').slice(0, 32);

describe('the owner a verified token makes', () => {
  it('has the segment keyed with the verifier’s owner key, never the unkeyed SHA-256 prefix', async () => {
    // Arrange
    const key = ownerKeyFrom(TEST_OWNER_SECRET);
    const verify = createBearerVerifier({ ...SETTINGS, ownerKey: key });
    const token = await signTestToken('alice@example.com');

    // Act
    const owner = await verify(`Bearer ${token}`);

    // Assert
    expect(owner).toEqual(ownerFromSubject('alice@example.com', key));
    expect(owner.segment).toMatch(/^[0-9a-f]{32}$/);
    expect(owner.segment).not.toBe(unkeyed('alice@example.com'));
  });

  it('maps the same sub to another segment in a deployment with another owner secret', async () => {
    // Arrange
    const token = `Bearer ${await signTestToken('alice@example.com')}`;
    const here = createBearerVerifier({ ...SETTINGS, ownerKey: ownerKeyFrom(TEST_OWNER_SECRET) });
    const there = createBearerVerifier({ ...SETTINGS, ownerKey: ownerKeyFrom(OTHER_SECRET) });

    // Act
    const [ours, theirs] = await Promise.all([here(token), there(token)]);

    // Assert
    expect(ours.sub).toBe(theirs.sub);
    expect(ours.segment).not.toBe(theirs.segment);
  });
});

describe('a verifier built without an owner key', () => {
  const verify = createBearerVerifier({ ...SETTINGS, ownerKey: undefined });

  it('fails a valid token with an internal error naming the missing configuration, not a 401', async () => {
    // Arrange
    const token = await signTestToken('alice@example.com');

    // Act
    const failure = await verify(`Bearer ${token}`).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assert
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ApiError);
    expect((failure as Error).message).toBe(MISSING_OWNER_KEY);
    expect(MISSING_OWNER_KEY).toMatch(/OWNER_SECRET or OWNER_SECRET_PARAMETER is required/);
  });

  it.each([
    ['no header', undefined],
    ['a malformed header', 'Basic dXNlcjpwYXNz'],
  ])('fails %s the same way: it makes no owner at all', async (_, header) => {
    await expect(verify(header)).rejects.toThrow(MISSING_OWNER_KEY);
  });
});
