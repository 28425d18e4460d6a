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

/**
 * The pending-uploads sweep of the stack the integration tests start: it runs
 * every 10 s and hands over uploads 20 s old that are still pending (in AWS:
 * every 2 minutes, 5 minutes), so the fault tests see a lost event's file
 * decided within a minute.
 */
export const TEST_SWEEP = {
  PRESIGN_LOCAL_SWEEP_SECONDS: 10,
  PENDING_SWEEP_AFTER_SECONDS: 20,
} as const;

/**
 * The shortest role session the integration tests' gateway issues (`rgw sts min session duration`;
 * RGW's own minimum, as AWS's, is 900 s), so that the fault tests see a function's credentials
 * expire within a test. Functions still get sessions of an hour.
 */
export const TEST_STS = {
  RGW_STS_MIN_SESSION_SECONDS: 5,
} as const;
