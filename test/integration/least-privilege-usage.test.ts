import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { usageKey } from '../../lib/store/object-key.js';
import { adminS3, assumeFunctionRole, newOwner, ownerOf, roleS3Client, stack } from './stack.js';

/**
 * Who may touch owners' usage (`usage/<owner-segment>` in the state bucket),
 * proven on the real gateway with each function role's own STS credentials:
 * the functions that move bytes read and write it, every other role is
 * refused both, and no usage writer reaches another state prefix through it.
 */
const WRITERS = [
  'createUpload',
  'createMultipartUpload',
  'abortUpload',
  'deleteFile',
  'validateUpload',
  'getUsage',
] as const;
const OTHERS = [
  'signUploadParts',
  'listUploadParts',
  'completeUpload',
  'getFile',
  'listFiles',
  'createDownloadUrl',
  'createShare',
  'openShare',
  'revokeShares',
] as const;
type Fn = (typeof WRITERS)[number] | (typeof OTHERS)[number];

const clients = {} as Record<Fn, S3Client>;
let key = '';

async function outcome(client: S3Client, command: unknown): Promise<number> {
  try {
    await client.send(command as never);
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  }
}

beforeAll(async () => {
  await Promise.all(
    [...WRITERS, ...OTHERS].map(async (fn) => {
      clients[fn] = roleS3Client(await assumeFunctionRole(fn, `lp-usage-${fn}`));
    }),
  );
  key = usageKey(ownerOf((await newOwner('lp-usage')).sub), 0);
  const body = JSON.stringify({ usedBytes: 7, open: {}, released: {}, issued: [] });
  await adminS3.send(new PutObjectCommand({ Bucket: stack.stateBucket, Key: key, Body: body }));
});

describe('owners’ usage in the state bucket, on the real gateway', () => {
  it.each(WRITERS)('%s may read and write it (a missing one reads as 404, not 403)', async (fn) => {
    // Arrange
    const missing = usageKey(ownerOf((await newOwner('lp-usage-none')).sub), 0);
    const body = JSON.stringify({ usedBytes: 7, open: {}, released: {}, issued: [] });

    // Act
    const read = await outcome(clients[fn], new GetObjectCommand({ Bucket: stack.stateBucket, Key: key }));
    const none = await outcome(
      clients[fn],
      new GetObjectCommand({ Bucket: stack.stateBucket, Key: missing }),
    );
    const write = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: key, Body: body }),
    );

    // Assert
    expect([read, none, write]).toEqual([200, 404, 200]);
  });

  it.each(WRITERS)('%s writes nothing else of the state bucket through that grant', async (fn) => {
    // Act: beside the usage prefix, under a prefix no role writes.
    const stray = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: `usage-elsewhere/${fn}`, Body: 'x' }),
    );

    // Assert
    expect(stray).toBe(403);
  });

  it.each(OTHERS)('%s may neither read nor write it', async (fn) => {
    // Act
    const read = await outcome(clients[fn], new GetObjectCommand({ Bucket: stack.stateBucket, Key: key }));
    const write = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: key, Body: '{"usedBytes":0}' }),
    );

    // Assert
    expect([read, write]).toEqual([403, 403]);
    const { Body } = await adminS3.send(new GetObjectCommand({ Bucket: stack.stateBucket, Key: key }));
    expect(JSON.parse((await Body?.transformToString()) ?? '{}')).toMatchObject({ usedBytes: 7 });
  });
});
