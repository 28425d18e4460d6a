import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPostPresigner, type PostPolicyRequest } from '../../../lib/uploads/presign-post.js';

const BUCKET = 'presign-test-uploads';
const KEYS = { accessKeyId: 'AKIAPRESIGNPOSTTEST', secretAccessKey: 'presign-post-secret/0123456789+abcdef' };
const SESSION = { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////session+token/==' };

const clients: Record<string, S3ClientConfig> = {
  'virtual-hosted, no session token': { region: 'us-east-1', credentials: KEYS },
  'virtual-hosted, session token': { region: 'eu-west-3', credentials: SESSION },
  'path-style, no session token': {
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:7480',
    forcePathStyle: true,
    credentials: KEYS,
  },
  'path-style, session token': {
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:7480',
    forcePathStyle: true,
    credentials: SESSION,
  },
};

/** The request POST /uploads makes, plus a duplicate condition and a non-ASCII value. */
const uploadRequest = (key: string): PostPolicyRequest => ({
  Key: key,
  Expires: 300,
  Conditions: [['content-length-range', 48213, 48213], { 'Content-Type': 'image/png' }],
  Fields: {
    'Content-Type': 'image/png',
    tagging:
      '<Tagging><TagSet><Tag><Key>validation-status</Key><Value>pending</Value></Tag></TagSet></Tagging>',
    'x-amz-meta-filename': 'Y2F0LnBuZw',
    'x-amz-meta-note': 'ünïcode "quoted" \\ slash',
  },
});

describe('createPostPresigner', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-23T10:59:58.765Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(Object.entries(clients))('signs exactly what createPresignedPost signs (%s)', async (_, config) => {
    // Arrange
    const client = new S3Client(config);
    const presign = createPostPresigner(client, BUCKET);

    for (const key of ['uploads/0123abcd/01JZ0000000000000000000000', `uploads/dir/${'$'}{filename}`]) {
      const request = uploadRequest(key);
      // Act
      const expected = await createPresignedPost(client, { Bucket: BUCKET, ...request });
      const actual = await presign(request);

      // Assert: same URL, same fields in the same order, same policy bytes and signature.
      expect(actual.url).toBe(expected.url);
      expect(Object.entries(actual.fields)).toEqual(Object.entries(expected.fields));
      expect(actual.fields.Policy).toBe(expected.fields.Policy);
      expect(actual.fields['X-Amz-Signature']).toBe(expected.fields['X-Amz-Signature']);
    }
  });

  it('uses the default lifetime and no conditions like the SDK', async () => {
    const client = new S3Client(clients['path-style, session token'] as S3ClientConfig);
    const expected = await createPresignedPost(client, { Bucket: BUCKET, Key: 'a/b' });
    const actual = await createPostPresigner(client, BUCKET)({ Key: 'a/b' });
    expect(actual).toEqual(expected);
  });

  it('signs at the given time, shifted by the client clock offset like the SDK', async () => {
    // Arrange
    const client = new S3Client(clients['virtual-hosted, session token'] as S3ClientConfig);
    client.config.systemClockOffset = -4_000;
    const request = uploadRequest('uploads/x/y');

    // Act
    const expected = await createPresignedPost(client, { Bucket: BUCKET, ...request });
    const actual = await createPostPresigner(client, BUCKET)({ ...request, now: new Date() });

    // Assert
    expect(actual).toEqual(expected);
    expect(actual.fields['X-Amz-Date']).toBe('20261123T105954Z');
  });

  it('re-derives the signing key when the day or the credentials change', async () => {
    // Arrange
    let credentials = { ...SESSION };
    const client = new S3Client({ region: 'us-east-1', credentials: async () => credentials });
    const presign = createPostPresigner(client, BUCKET);
    await presign({ Key: 'k' });

    // Act: a new day, then rotated credentials.
    vi.setSystemTime(new Date('2026-11-24T00:00:01Z'));
    const nextDay = await presign({ Key: 'k' });
    const nextDayExpected = await createPresignedPost(client, { Bucket: BUCKET, Key: 'k' });
    credentials = { ...SESSION, secretAccessKey: 'rotated-secret', sessionToken: 'rotated' };
    const rotated = await presign({ Key: 'k' });
    const rotatedExpected = await createPresignedPost(client, { Bucket: BUCKET, Key: 'k' });

    // Assert
    expect(nextDay).toEqual(nextDayExpected);
    expect(rotated).toEqual(rotatedExpected);
  });
});
