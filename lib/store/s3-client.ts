import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  region: string;
  /** `S3_ENDPOINT`: the local Ceph RGW (path-style); unset in AWS. */
  endpoint?: string;
}

/**
 * The S3 client a function signs and calls with: the execution role's
 * temporary credentials from the environment, as Lambda provides them.
 * Checksums only where S3 requires them, so a presigned GET carries no
 * `x-amz-checksum-mode` and a ranged read is not validated against a whole-object checksum.
 */
export function createS3Client(settings: S3ClientSettings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
