import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoleSession } from '../../scripts/role-sessions.js';
import { pngOfSize } from '../support/sample-files.js';
import { adminS3, assumeFunctionRole, newOwner, ownerOf, stack } from './stack.js';

/**
 * Least privilege, proven on the real gateway: every function's role
 * (`presign-local-<fn>`, built from iam/function-policies.json) is assumed
 * with STS, and RGW itself answers AccessDenied for what the role must not do.
 */
const FUNCTIONS = [
  'createUpload',
  'createMultipartUpload',
  'signUploadParts',
  'listUploadParts',
  'completeUpload',
  'abortUpload',
  'validateUpload',
  'getFile',
  'listFiles',
  'createDownloadUrl',
  'createShare',
  'openShare',
  'revokeShares',
  'sweepPendingUploads',
] as const;
type Fn = (typeof FUNCTIONS)[number];

/** Roles that must never write anything (not even tags). */
const READ_ONLY: readonly Fn[] = ['getFile', 'createDownloadUrl', 'createShare', 'openShare'];
/** Roles that may retag uploads, and nothing more. */
const TAGGERS: readonly Fn[] = ['validateUpload', 'revokeShares'];

const assumeRole = (fn: Fn) => assumeFunctionRole(fn, `lp-test-${fn}`);

const clientFor = (session: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new S3Client({
    endpoint: stack.s3Endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: session,
  });

/** The HTTP status and error code S3 answered; 200 when the call succeeded. */
async function outcome(client: S3Client, command: unknown) {
  try {
    await client.send(command as never);
    return { status: 200, code: 'OK' };
  } catch (error) {
    const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.Code ?? e.name ?? 'unknown' };
  }
}

const DENIED = { status: 403, code: 'AccessDenied' };
const sessions = {} as Record<Fn, RoleSession>;
const clients = {} as Record<Fn, S3Client>;
/** A passed upload, readable by the roles that may read, to show a refusal is the role's doing. */
let passedKey = '';
/** Its one version: the roles that read uploads may read named versions only. */
let passedVersion = '';

beforeAll(async () => {
  await Promise.all(
    FUNCTIONS.map(async (fn) => {
      sessions[fn] = await assumeRole(fn);
      clients[fn] = clientFor(sessions[fn]);
    }),
  );
  const { sub } = await newOwner('lp');
  passedKey = `uploads/${ownerOf(sub).segment}/${ulid()}`;
  const put = await adminS3.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: passedKey,
      Body: pngOfSize(256),
      ContentType: 'image/png',
      Metadata: { 'declared-type': 'image/png', 'declared-size': '256' },
      Tagging: 'validation-status=pending',
    }),
  );
  passedVersion = put.VersionId ?? '';
  // Wait for the real validator to decide, then pin the verdict for this file's checks.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const tags = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey }));
    const status = tags.TagSet?.find((t) => t.Key === 'validation-status')?.Value;
    if (status === 'passed') break;
    if (status === 'failed' || Date.now() > deadline) throw new Error(`setup object is ${status}`);
    await new Promise((done) => setTimeout(done, 200));
  }
});

describe('every function role on the real gateway', () => {
  it.each(FUNCTIONS)('%s: credentials are temporary (session token + expiration)', (fn) => {
    // Arrange / Act: assumed in beforeAll
    const session = sessions[fn];

    // Assert
    expect(session.sessionToken.length).toBeGreaterThan(100);
    expect(session.expiration.getTime()).toBeGreaterThan(Date.now());
    expect(session.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 900_000 + 5_000);
  });

  it.each(FUNCTIONS)('%s: the keys without their session token are refused', async (fn) => {
    // Arrange
    const { sessionToken: _dropped, expiration: _e, ...keysOnly } = sessions[fn];
    const bare = clientFor(keysOnly);

    // Act
    const answer = await outcome(bare, new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey }));

    // Assert
    expect(answer).toEqual(DENIED);
  });

  it.each(FUNCTIONS)('%s: PutObject outside uploads/ is AccessDenied and writes nothing', async (fn) => {
    // Arrange
    const key = `elsewhere/${fn}/${ulid()}`;

    // Act
    const answer = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: 'x' }),
    );

    // Assert
    expect(answer).toEqual(DENIED);
    expect(await outcome(adminS3, new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).toMatchObject({
      status: 404,
    });
  });

  it.each(FUNCTIONS)('%s: DeleteObject is AccessDenied and the object stays', async (fn) => {
    const answer = await outcome(
      clients[fn],
      new DeleteObjectCommand({ Bucket: stack.bucket, Key: passedKey }),
    );

    expect(answer).toEqual(DENIED);
    expect(await outcome(adminS3, new HeadObjectCommand({ Bucket: stack.bucket, Key: passedKey }))).toEqual({
      status: 200,
      code: 'OK',
    });
  });

  it.each(FUNCTIONS)('%s: PutBucketPolicy is AccessDenied', async (fn) => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${stack.bucket}/*`,
        },
      ],
    });

    const answer = await outcome(
      clients[fn],
      new PutBucketPolicyCommand({ Bucket: stack.bucket, Policy: policy }),
    );

    expect(answer).toEqual(DENIED);
  });

  it.each(FUNCTIONS)('%s: ListBuckets is AccessDenied', async (fn) => {
    const answer = await outcome(clients[fn], new ListBucketsCommand({}));

    expect(answer).toEqual(DENIED);
  });

  it('createUpload: reads nothing (GetObject, HeadObject, GetObjectTagging all AccessDenied)', async () => {
    const client = clients.createUpload;

    const answers = [
      await outcome(client, new GetObjectCommand({ Bucket: stack.bucket, Key: passedKey })),
      await outcome(client, new HeadObjectCommand({ Bucket: stack.bucket, Key: passedKey })),
      await outcome(client, new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey })),
    ];

    // HEAD has no body, so the SDK cannot name the code: its status is what counts.
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403]);
    expect(answers[0]).toEqual(DENIED);
    expect(answers[2]).toEqual(DENIED);
  });

  it('createUpload: may write under uploads/ (the grant exists, so the refusals above are scoped)', async () => {
    const { sub } = await newOwner('lp-cu');
    const key = `uploads/${ownerOf(sub).segment}/${ulid()}`;

    const answer = await outcome(
      clients.createUpload,
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: 'x',
        Tagging: 'validation-status=pending',
      }),
    );

    expect(answer).toEqual({ status: 200, code: 'OK' });
  });

  it.each(READ_ONLY)(
    '%s: writes nothing under uploads/ (PutObject, PutObjectTagging AccessDenied)',
    async (fn) => {
      // Arrange
      const { sub } = await newOwner('lp-ro');
      const newKey = `uploads/${ownerOf(sub).segment}/${ulid()}`;
      const before = await adminS3.send(
        new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey }),
      );

      // Act
      const put = await outcome(
        clients[fn],
        new PutObjectCommand({ Bucket: stack.bucket, Key: newKey, Body: 'x' }),
      );
      const retag = await outcome(
        clients[fn],
        new PutObjectTaggingCommand({
          Bucket: stack.bucket,
          Key: passedKey,
          Tagging: { TagSet: [{ Key: 'validation-status', Value: 'pending' }] },
        }),
      );

      // Assert
      expect(put).toEqual(DENIED);
      expect(retag).toEqual(DENIED);
      const after = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey }));
      expect(after.TagSet).toEqual(before.TagSet);
      expect(
        await outcome(adminS3, new HeadObjectCommand({ Bucket: stack.bucket, Key: newKey })),
      ).toMatchObject({
        status: 404,
      });
    },
  );

  it.each(READ_ONLY)('%s: may read a passed upload, by version (the grant exists)', async (fn) => {
    const byVersion = await outcome(
      clients[fn],
      new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey, VersionId: passedVersion }),
    );
    const current = await outcome(
      clients[fn],
      new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: passedKey }),
    );
    const bytes = await outcome(clients[fn], new GetObjectCommand({ Bucket: stack.bucket, Key: passedKey }));

    expect(byVersion).toEqual({ status: 200, code: 'OK' });
    // Without a version, a read names whatever bytes were posted last: no role that signs URLs may
    // read those. The routes that tell a file the validator has not recorded yet (pending) from none
    // read its current version's tags; getFile, exempt from the read gate, HEADs it to describe it.
    expect(current).toEqual(
      fn === 'createDownloadUrl' || fn === 'createShare' ? { status: 200, code: 'OK' } : DENIED,
    );
    expect(bytes).toEqual(fn === 'getFile' ? { status: 200, code: 'OK' } : DENIED);
  });

  it.each(TAGGERS)('%s: may retag under uploads/ but never PutObject (no new bytes)', async (fn) => {
    const { sub } = await newOwner('lp-tag');
    const newKey = `uploads/${ownerOf(sub).segment}/${ulid()}`;

    const put = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.bucket, Key: newKey, Body: 'x' }),
    );

    expect(put).toEqual(DENIED);
    expect(
      await outcome(adminS3, new HeadObjectCommand({ Bucket: stack.bucket, Key: newKey })),
    ).toMatchObject({
      status: 404,
    });
  });

  it('sweepPendingUploads: reads, tags and writes no upload and no file record, but keeps pending markers (the grants exist)', async () => {
    // Arrange
    const client = clients.sweepPendingUploads;
    const marker = `pending/2026-11-23T09:00:00.000Z/${'0'.repeat(32)}/${ulid()}`;

    // Act
    const readUpload = await outcome(client, new GetObjectCommand({ Bucket: stack.bucket, Key: passedKey }));
    const tagUpload = await outcome(
      client,
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: passedKey,
        Tagging: { TagSet: [{ Key: 'validation-status', Value: 'passed' }] },
      }),
    );
    const writeRecord = await outcome(
      client,
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: `file-index/${'0'.repeat(32)}/x`, Body: '{}' }),
    );
    const writeMarker = await outcome(
      client,
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: marker, Body: '{}' }),
    );
    const listMarkers = await outcome(
      client,
      new ListObjectsV2Command({ Bucket: stack.stateBucket, Prefix: 'pending/', MaxKeys: 1 }),
    );
    const dropMarker = await outcome(
      client,
      new DeleteObjectCommand({ Bucket: stack.stateBucket, Key: marker }),
    );

    // Assert
    expect([readUpload, tagUpload, writeRecord]).toEqual([DENIED, DENIED, DENIED]);
    expect([writeMarker, listMarkers, dropMarker]).toEqual([
      { status: 200, code: 'OK' },
      { status: 200, code: 'OK' },
      { status: 200, code: 'OK' },
    ]);
  });
});
