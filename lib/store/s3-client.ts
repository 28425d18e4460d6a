import { S3Client } from '@aws-sdk/client-s3';
import { env } from '../config/env.js';

/**
 * The one S3 client, built at cold start. It signs with the execution role's
 * temporary credentials from the environment; `S3_ENDPOINT` points it at the
 * local Ceph RGW (path-style), and is unset in AWS.
 */
export const s3 = new S3Client({
  region: env.AWS_REGION,
  ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT, forcePathStyle: true } : {}),
});

export const bucket = env.UPLOADS_BUCKET;
