import { CreateRoleCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUARDDUTY_SCAN_TAG } from '../../lib/core/file-checks.js';
import { TAG } from '../../lib/store/object-encoding.js';
import { roleAssumer } from '../../scripts/role-sessions.js';
import { adminAccess, adminS3, assumeFunctionRole, newOwner, ownerOf, roleS3Client, stack } from './stack.js';

/**
 * Who may change the tags of an upload that exists, on the real gateway: each
 * role's own STS session against the role policies and the bucket policy the
 * local stack provisions from the template's statements (iam/function-policies.json,
 * scripts/provision.ts). The fixtures live under keys that are not a file's,
 * which the validator leaves alone, so their tags stay as they are set here.
 */
const UPLOAD_FUNCTIONS = ['createUpload', 'createMultipartUpload'] as const;

/** What an upload carries once it exists: pending as it landed, each verdict, GuardDuty's tag alone or beside one. */
const TAG_SETS: Record<string, Record<string, string>> = {
  pending: { [TAG.status]: 'pending' },
  passed: { [TAG.status]: 'passed', [TAG.detectedType]: 'image/png', [TAG.signature]: 'c2lnbmVk' },
  failed: { [TAG.status]: 'failed', [TAG.reason]: 'type_mismatch' },
  'GuardDuty’s tag only': { [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND' },
  'passed and scanned clean': { [TAG.status]: 'passed', [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND' },
};
const tagCases = Object.entries(TAG_SETS);
/** The sets the bucket policy guards on this stack (malwareScan none: GuardDuty's tag alone is nobody's verdict). */
const verdictCases = tagCases.filter(([, tags]) => TAG.status in tags);

const DENIED = { status: 403, code: 'AccessDenied' };
const OK = { status: 200, code: 'OK' };
/** A role of this account granted tagging outside the stack (an operator's, say). */
const OUTSIDE_ROLE = 'presign-test-outside-tagger';

let segment = '';
const clients = {} as Record<(typeof UPLOAD_FUNCTIONS)[number] | 'validateUpload' | 'outside', S3Client>;

/** The HTTP status and error code S3 answered; 200 when the call succeeded. */
async function outcome(client: S3Client, command: unknown) {
  try {
    await client.send(command as never);
    return OK;
  } catch (error) {
    const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.Code ?? e.name ?? 'unknown' };
  }
}

const asTagSet = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A new object under a key that is not a file's, carrying `tags`, as the bucket owner writes it. */
async function fixture(tags: Record<string, string>) {
  const key = `uploads/${segment}/fixture-${ulid()}`;
  const put = await adminS3.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      Body: 'x',
      ...(Object.keys(tags).length > 0 ? { Tagging: new URLSearchParams(tags).toString() } : {}),
    }),
  );
  return { key, versionId: put.VersionId ?? '' };
}

async function tagsOf(key: string): Promise<Record<string, string>> {
  const { TagSet } = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
  return Object.fromEntries((TagSet ?? []).map((tag) => [tag.Key, tag.Value]));
}

/** The outside role, idempotently: PutObjectTagging and PutObjectVersionTagging on every upload. */
async function outsideTagger(): Promise<S3Client> {
  const config = {
    endpoint: adminAccess.endpoint,
    region: adminAccess.region,
    credentials: { accessKeyId: adminAccess.accessKeyId, secretAccessKey: adminAccess.secretAccessKey },
  };
  const iam = new IAMClient(config);
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam:::user/presign-admin'] },
        Action: ['sts:AssumeRole'],
      },
    ],
  };
  await iam
    .send(new CreateRoleCommand({ RoleName: OUTSIDE_ROLE, AssumeRolePolicyDocument: JSON.stringify(trust) }))
    .catch((error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode !== 409) throw error;
    });
  const role = (await iam.send(new GetRoleCommand({ RoleName: OUTSIDE_ROLE }))).Role;
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: OUTSIDE_ROLE,
      PolicyName: 'tag-uploads',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
            Resource: [`arn:aws:s3:::${stack.bucket}/uploads/*`],
          },
        ],
      }),
    }),
  );
  return roleS3Client(await roleAssumer(adminAccess)(role?.Arn ?? '', 'retag-test', 900));
}

beforeAll(async () => {
  segment = ownerOf((await newOwner('retag')).sub).segment;
  for (const fn of [...UPLOAD_FUNCTIONS, 'validateUpload'] as const) {
    clients[fn] = roleS3Client(await assumeFunctionRole(fn, `retag-${fn}`));
  }
  clients.outside = await outsideTagger();
});

describe.each(UPLOAD_FUNCTIONS)('%s’s own credentials', (fn) => {
  it.each(tagCases)(
    'cannot retag an upload tagged %s, pending or passed alike, and its tags stay',
    async (_name, tags) => {
      // Arrange
      const { key } = await fixture(tags);

      // Act
      const answers = [];
      for (const status of ['pending', 'passed']) {
        answers.push(
          await outcome(
            clients[fn],
            new PutObjectTaggingCommand({
              Bucket: stack.bucket,
              Key: key,
              Tagging: { TagSet: [{ Key: TAG.status, Value: status }] },
            }),
          ),
        );
      }

      // Assert
      expect(answers).toEqual([DENIED, DENIED]);
      expect(await tagsOf(key)).toEqual(tags);
    },
  );

  it('still create a new key tagged pending (PutObject, CreateMultipartUpload)', async () => {
    // Arrange
    const key = `uploads/${segment}/fixture-${ulid()}`;

    // Act
    const put = await outcome(
      clients[fn],
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: 'x', Tagging: `${TAG.status}=pending` }),
    );
    const multipart = await outcome(
      clients[fn],
      new CreateMultipartUploadCommand({
        Bucket: stack.bucket,
        Key: `uploads/${segment}/fixture-${ulid()}`,
        Tagging: `${TAG.status}=pending`,
      }),
    );

    // Assert
    expect([put, multipart]).toEqual([OK, OK]);
    expect(await tagsOf(key)).toEqual({ [TAG.status]: 'pending' });
  });
});

describe('a role granted tagging outside the stack', () => {
  it.each(verdictCases)(
    'cannot retag an upload tagged %s: the bucket policy denies it',
    async (_name, tags) => {
      // Arrange
      const { key, versionId } = await fixture(tags);
      const write = (VersionId?: string) =>
        outcome(
          clients.outside,
          new PutObjectTaggingCommand({
            Bucket: stack.bucket,
            Key: key,
            ...(VersionId ? { VersionId } : {}),
            Tagging: { TagSet: [{ Key: TAG.status, Value: 'pending' }] },
          }),
        );

      // Act
      const answers = [await write(), await write(versionId)];

      // Assert
      expect(answers).toEqual([DENIED, DENIED]);
      expect(await tagsOf(key)).toEqual(tags);
    },
  );

  it('may tag an object that carries no verdict tag (the grant exists, so the refusals above are the guard’s)', async () => {
    // Arrange
    const { key } = await fixture({ 'other-tag': 'x' });

    // Act
    const answer = await outcome(
      clients.outside,
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: key,
        Tagging: { TagSet: [{ Key: 'other-tag', Value: 'y' }] },
      }),
    );

    // Assert
    expect(answer).toEqual(OK);
    expect(await tagsOf(key)).toEqual({ 'other-tag': 'y' });
  });
});

it.each(tagCases)(
  'the validator’s own credentials still write a verdict on a version tagged %s',
  async (_name, tags) => {
    // Arrange: the validator keeps GuardDuty's tag when it writes its own.
    const { key, versionId } = await fixture(tags);
    const verdict = {
      [TAG.status]: 'failed',
      [TAG.reason]: 'type_mismatch',
      ...(tags[GUARDDUTY_SCAN_TAG] ? { [GUARDDUTY_SCAN_TAG]: tags[GUARDDUTY_SCAN_TAG] } : {}),
    };

    // Act
    const answer = await outcome(
      clients.validateUpload,
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: key,
        VersionId: versionId,
        Tagging: { TagSet: asTagSet(verdict) },
      }),
    );

    // Assert
    expect(answer).toEqual(OK);
    expect(await tagsOf(key)).toEqual(verdict);
  },
);
