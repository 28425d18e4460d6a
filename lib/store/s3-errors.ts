import { NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';

/** Whether an S3 error means "no such object" (HEAD's NotFound, GET's NoSuchKey, or any 404). */
export function isMissingObject(error: unknown): boolean {
  return (
    error instanceof NotFound ||
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException &&
      (['NoSuchKey', 'NotFound'].includes(error.name) || error.$metadata.httpStatusCode === 404))
  );
}
