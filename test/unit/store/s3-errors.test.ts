import { NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { classifyS3Error } from '../../../lib/store/s3-errors.js';

const answered = (name: string, httpStatusCode: number) =>
  new S3ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });

describe('classifyS3Error', () => {
  it.each([
    [
      'HEAD of a missing object (NotFound)',
      new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'x' }),
    ],
    [
      'GET of a missing object (NoSuchKey)',
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'x' }),
    ],
    ['a missing version', answered('NoSuchVersion', 404)],
  ])('reads %s as missing', (_, error) => {
    // Act / Assert
    expect(classifyS3Error(error)).toBe('missing');
  });

  it('reads a failed If-Match as replaced', () => {
    expect(classifyS3Error(answered('PreconditionFailed', 412))).toBe('replaced');
  });

  it('reads two conditional writes at once as a conflict', () => {
    expect(classifyS3Error(answered('ConditionalRequestConflict', 409))).toBe('conflict');
  });

  it.each([
    ['AccessDenied', 403],
    ['Forbidden', 403],
  ])('reads %s (%i) as denied', (name, status) => {
    expect(classifyS3Error(answered(name, status))).toBe('denied');
  });

  it.each([
    ['a server error', answered('InternalError', 500)],
    ['throttling', answered('SlowDown', 503)],
    ['a plain error', new Error('socket hang up')],
    ['an S3 error without a status', new S3ServiceException({ name: 'X', $fault: 'client', $metadata: {} })],
    ['not an error at all', 'boom'],
  ])('leaves %s unclassified, for the caller to rethrow', (_, error) => {
    expect(classifyS3Error(error)).toBeUndefined();
  });
});
