import type { S3Client } from '@aws-sdk/client-s3';
import { type CallerRuntime, createCallerRuntime } from '../../lib/caller-runtime.js';
import { verdictSigner, verdictVerifier } from '../../lib/core/verdict-signature.js';
import { createFileStore, type FileStore } from '../../lib/store/file-store.js';
import { createS3Client } from '../../lib/store/s3-client.js';
import { testClock } from './clock.js';
import { TEST_VERDICT_KEYS } from './verdict-keys.js';

/**
 * A runtime built from the unit tests' environment (test/unit/setup-env.ts)
 * around an S3 client of its own, which a test may stub: no module singleton
 * is patched. Its clock is the unit tests' ({@link testClock}). It is the
 * authenticated functions' runtime, a superset of every other function's.
 */
export async function unitRuntime(): Promise<CallerRuntime & { s3: S3Client }> {
  const s3 = createS3Client({ region: process.env.AWS_REGION ?? 'us-east-1' });
  return { ...(await createCallerRuntime(process.env, { s3, clock: testClock })), s3 };
}

/** A file store on `s3` as the unit tests' validator has it: it signs and checks verdicts with the test keys. */
export function unitStore(s3: S3Client, bucket = 'unit-test-bucket'): FileStore {
  return createFileStore({
    s3,
    bucket,
    stateBucket: 'unit-test-state',
    verifyVerdict: verdictVerifier(TEST_VERDICT_KEYS.publicKey),
    signVerdict: verdictSigner(TEST_VERDICT_KEYS.privateKey),
    conditionalETag: 'quoted',
  });
}
