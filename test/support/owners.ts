import { type Owner, ownerFromSubject, ownerKeyFrom } from '../../lib/core/owner.js';

/** The unit tests' owner secret (OWNER_SECRET in test/unit/setup-env.ts). */
export const TEST_OWNER_SECRET = 'unit-test-owner-secret-0123456789abcdef0123456789';

/**
 * The owner a runtime built from the unit tests' environment makes of `sub`:
 * its segment keyed with that environment's OWNER_SECRET, as the code under
 * test keys it.
 */
export function testOwner(sub: string): Owner {
  const secret = process.env.OWNER_SECRET;
  if (!secret) throw new Error('OWNER_SECRET is not set (test/unit/setup-env.ts sets it)');
  return ownerFromSubject(sub, ownerKeyFrom(secret));
}
