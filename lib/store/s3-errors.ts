import { S3ServiceException } from '@aws-sdk/client-s3';

/** What an S3 error means for a file record. */
export type S3ErrorKind =
  /** No such object or version (404: NotFound, NoSuchKey, NoSuchVersion). */
  | 'missing'
  /** A condition on the object's ETag failed (412): it was replaced since it was read. */
  | 'replaced'
  /** The bucket policy or the role refused (403). */
  | 'denied'
  /** Two conditional writes reached S3 at once (409): neither may have landed. */
  | 'conflict';

const KIND_BY_STATUS: Readonly<Record<number, S3ErrorKind>> = {
  404: 'missing',
  412: 'replaced',
  403: 'denied',
  409: 'conflict',
};

/**
 * Classifies an error thrown by the S3 client by the HTTP status S3 answered
 * with (HEAD answers carry no error code, so the status is the one signal
 * every operation shares). `undefined` for anything else, which callers rethrow.
 */
export function classifyS3Error(error: unknown): S3ErrorKind | undefined {
  if (!(error instanceof S3ServiceException)) return undefined;
  const status = error.$metadata.httpStatusCode;
  return status === undefined ? undefined : KIND_BY_STATUS[status];
}

/** Whether S3 answered that the key holds no object (and not, say, that the bucket is missing). */
export function isNoSuchKey(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name === 'NoSuchKey';
}
