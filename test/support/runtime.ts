import type { S3Client } from '@aws-sdk/client-s3';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import { createS3Client } from '../../lib/store/s3-client.js';

/**
 * A runtime built from the unit tests' environment (test/unit/setup-env.ts)
 * around an S3 client of its own, which a test may stub: no module singleton
 * is patched.
 */
export function unitRuntime(): Runtime & { s3: S3Client } {
  const s3 = createS3Client({ region: process.env.AWS_REGION ?? 'us-east-1' });
  return { ...createRuntime(process.env, { s3 }), s3 };
}
