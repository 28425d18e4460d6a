/**
 * The per-owner limits of the stack the integration tests start, which the
 * limit tests are designed around: a quota that holds ten uploads of a tenth
 * of it, and a rate above any other test's uploads per owner (the largest is
 * a burst of 200). Every test uses an owner of its own.
 */
export const TEST_LIMITS = {
  QUOTA_BYTES_PER_OWNER: 2_000_000_000,
  UPLOADS_PER_HOUR_PER_OWNER: 250,
} as const;
