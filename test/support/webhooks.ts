/**
 * The Standard Webhooks key of every test: the unit tests sign and verify
 * with it, and the local stack the integration tests start sends with it.
 * 32 bytes, a test value only.
 */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 'presign-test-webhooks').toString('base64')}`;

/** The path the integration tests' receiver takes webhooks on. */
export const TEST_WEBHOOK_PATH = '/webhooks';
