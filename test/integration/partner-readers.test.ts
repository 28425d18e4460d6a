import { readFileSync } from 'node:fs';
import {
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../scripts/dev-keys.js';
import {
  bucketArn,
  LOCAL_PARTNER_OWNER_SUB,
  LOCAL_PARTNER_ROLE,
  localPartnerPrefix,
  localPartnerReaders,
  localPartnerRoleName,
  partnerBuilder,
} from '../../scripts/partner-readers.js';
import type { RoleSession } from '../../scripts/role-sessions.js';
import { PARTNER_FILE } from '../../scripts/stack-settings.js';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  api,
  createdVersions,
  type IssuedUpload,
  newOwner,
  ownerOf,
  postForm,
  requestUpload,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * A partner account reading straight from the real gateway with its own
 * temporary credentials, under the grants `partnerReaders` builds
 * (iam/partner-readers.cjs, as in AWS): its role named in the bucket policy,
 * and a role of this stack it assumes. The local partner is a user of its own
 * (scripts/ceph-rgw.sh) whose role holds no policy: what it may do is exactly
 * what this stack grants it. Both may read the passed files of one owner and
 * list that owner's prefix; the read gate, which exempts no partner, refuses
 * every version not tagged passed; nothing else is granted.
 */
const TAG_STATUS = 'validation-status';
const DENIED = { status: 403, code: 'AccessDenied' };

const partnerKeys = JSON.parse(readFileSync(PARTNER_FILE, 'utf8')) as {
  accessKeyId: string;
  secretAccessKey: string;
};
const entries = localPartnerReaders();
const roleEntry = entries.find((entry) => entry.role);

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

async function assume(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  roleArn: string,
  sessionName: string,
): Promise<RoleSession> {
  const sts = new STSClient({ endpoint: stack.s3Endpoint, region: stack.region, credentials });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new Error(`AssumeRole ${roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

interface StoredFile {
  fileId: string;
  key: string;
  bytes: Buffer;
  issued: IssuedUpload;
}

/** Uploads through the API and a real form POST, and waits for the validator's verdict. */
async function upload(
  owner: { token: string },
  bytes: Buffer,
  expected: 'passed' | 'failed',
): Promise<StoredFile> {
  const issued = await requestUpload(owner.token, {
    filename: 'partner.png',
    contentType: 'image/png',
    size: bytes.length,
  });
  const posted = await postForm(issued.upload, bytes);
  if (posted.status !== 204) throw new Error(`upload answered ${posted.status}: ${posted.body}`);
  const verdict = await waitForVerdict(owner.token, issued.fileId);
  expect(verdict.status).toBe(expected);
  return { fileId: issued.fileId, key: issued.key, bytes, issued };
}

async function bodyOf(client: S3Client, key: string, versionId?: string): Promise<Buffer> {
  const answer = await client.send(
    new GetObjectCommand({ Bucket: stack.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
}

/** The versions of a key, newest first, with each one's validation status. */
async function versionsOf(key: string) {
  const listed = await adminS3.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }));
  return Promise.all(
    (listed.Versions ?? [])
      .filter((version) => version.Key === key)
      .map(async (version) => {
        const tags = await adminS3.send(
          new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key, VersionId: version.VersionId }),
        );
        return {
          versionId: version.VersionId ?? '',
          status: tags.TagSet?.find((tag) => tag.Key === TAG_STATUS)?.Value,
        };
      }),
  );
}

const owner = { sub: LOCAL_PARTNER_OWNER_SUB, token: '' };
const files = {} as Record<'passed' | 'pending' | 'failed' | 'replaced' | 'otherOwners', StoredFile>;
/** The first (passed) version of the replaced file, current again once the validator deleted the re-post. */
let replacedFirstVersion = '';
/** The passed file's share epoch in the state bucket (written by a revocation). */
let epochKey = '';
const readers: Record<string, S3Client> = {};
let partnerUserClient: S3Client;

const READERS = [
  'the partner’s role, named in the bucket policy',
  'the role of this stack the partner assumes',
] as const;

beforeAll(async () => {
  if (!roleEntry) throw new Error('the local partnerReaders have no role entry');
  owner.token = await devToken(owner.sub);
  expect(`uploads/${ownerOf(owner.sub).segment}/`).toBe(localPartnerPrefix());

  const partnerSession = await assume(partnerKeys, `arn:aws:iam:::role/${LOCAL_PARTNER_ROLE}`, 'partner-app');
  const ownerSideSession = await assume(
    partnerSession,
    `arn:aws:iam:::role/${localPartnerRoleName(roleEntry, 'presign-local')}`,
    'partner-app',
  );
  readers[READERS[0]] = roleS3Client(partnerSession);
  readers[READERS[1]] = roleS3Client(ownerSideSession);
  partnerUserClient = roleS3Client(partnerKeys);

  const other = await newOwner('not-shared');
  [files.passed, files.failed, files.replaced, files.otherOwners] = await Promise.all([
    upload(owner, pngOfSize(2100), 'passed'),
    upload(owner, HTML_PAGE, 'failed'),
    upload(owner, pngOfSize(2200), 'passed'),
    upload(other, pngOfSize(2300), 'passed'),
  ]);

  // Pending: a passed file whose tag is put back to what it was before the validator ran
  // (the local validator judges every landing within milliseconds).
  files.pending = await upload(owner, pngOfSize(2400), 'passed');
  await adminS3.send(
    new PutObjectTaggingCommand({
      Bucket: stack.bucket,
      Key: files.pending.key,
      Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'pending' }] },
    }),
  );

  // Replaced: the same upload form posted again; the validator deletes the second version on sight.
  const [first] = await versionsOf(files.replaced.key);
  replacedFirstVersion = first?.versionId ?? '';
  const reposted = await postForm(files.replaced.issued.upload, pngOfSize(2200));
  expect(reposted.status).toBe(204);
  await createdVersions(files.replaced.key, 2, 60);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const versions = await versionsOf(files.replaced.key);
    if (versions.length === 1 && versions[0]?.versionId === replacedFirstVersion) break;
    if (Date.now() > deadline) throw new Error(`re-posted version not deleted: ${JSON.stringify(versions)}`);
    await new Promise((done) => setTimeout(done, 200));
  }

  const revoked = await api('DELETE', `/files/${files.passed.fileId}/shares`, { token: owner.token });
  expect(revoked.status).toBeLessThan(300);
  epochKey = `share-epochs/${ownerOf(owner.sub).segment}/${files.passed.fileId}`;
}, 120_000);

describe('the partner grants on the gateway', () => {
  it('are the statements the builder makes for AWS, after the read gate, which exempts no partner', async () => {
    // Act
    const { Policy } = await adminS3.send(new GetBucketPolicyCommand({ Bucket: stack.bucket }));
    const statements = (JSON.parse(Policy ?? '{}') as { Statement: { Sid?: string }[] }).Statement;

    // Assert
    const built = partnerBuilder.partnerBucketStatements(entries, bucketArn(stack.bucket));
    expect(built.length).toBe(2);
    expect(statements.slice(-built.length)).toEqual(built);
    const gate = statements.filter((statement) => statement.Sid?.startsWith('DenyReading'));
    expect(JSON.stringify(gate)).not.toContain(LOCAL_PARTNER_ROLE);
  });

  it('name the partner’s role only: the partner user’s own keys read nothing', async () => {
    // Act
    const answer = await outcome(
      partnerUserClient,
      new GetObjectCommand({ Bucket: stack.bucket, Key: files.passed.key }),
    );

    // Assert
    expect(answer).toEqual(DENIED);
  });
});

describe.each(READERS)('%s', (reader) => {
  const client = () => readers[reader] as S3Client;

  it('reads a passed file of the owner its entry names, byte for byte', async () => {
    // Act
    const body = await bodyOf(client(), files.passed.key);

    // Assert
    expect(body.equals(files.passed.bytes)).toBe(true);
  });

  it('is refused a pending file', async () => {
    // Act
    const answer = await outcome(
      client(),
      new GetObjectCommand({ Bucket: stack.bucket, Key: files.pending.key }),
    );

    // Assert
    expect(answer).toEqual(DENIED);
  });

  it('is refused a failed file', async () => {
    // Act
    const answer = await outcome(
      client(),
      new GetObjectCommand({ Bucket: stack.bucket, Key: files.failed.key }),
    );

    // Assert
    expect(answer).toEqual(DENIED);
  });

  it('never meets a version posted over a file (the validator deletes it): reads the passed first version, by its id too', async () => {
    // Act
    const current = await bodyOf(client(), files.replaced.key);
    const first = await bodyOf(client(), files.replaced.key, replacedFirstVersion);

    // Assert
    expect(current.equals(files.replaced.bytes)).toBe(true);
    expect(first.equals(files.replaced.bytes)).toBe(true);
  });

  it('is refused another owner’s passed file', async () => {
    // Act
    const answer = await outcome(
      client(),
      new GetObjectCommand({ Bucket: stack.bucket, Key: files.otherOwners.key }),
    );

    // Assert
    expect(answer).toEqual(DENIED);
  });

  it('lists its owner’s prefix, and nothing outside it', async () => {
    // Act
    const own = await client().send(
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: localPartnerPrefix() }),
    );
    const others = await outcome(
      client(),
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: files.otherOwners.key.replace(/[^/]+$/, '') }),
    );
    const uploads = await outcome(
      client(),
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: 'uploads/' }),
    );
    const bucket = await outcome(client(), new ListObjectsV2Command({ Bucket: stack.bucket }));
    const versions = await outcome(
      client(),
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: localPartnerPrefix() }),
    );

    // Assert
    expect((own.Contents ?? []).map((object) => object.Key)).toEqual(
      expect.arrayContaining([files.passed.key, files.pending.key]),
    );
    expect(others).toEqual(DENIED);
    expect(uploads).toEqual(DENIED);
    expect(bucket).toEqual(DENIED);
    expect(versions).toEqual(DENIED);
  });

  it('writes nothing: no new object under its prefix, nothing overwritten or deleted', async () => {
    // Arrange
    const newKey = `${localPartnerPrefix()}${ulid()}`;

    // Act
    const created = await outcome(
      client(),
      new PutObjectCommand({ Bucket: stack.bucket, Key: newKey, Body: 'x' }),
    );
    const overwritten = await outcome(
      client(),
      new PutObjectCommand({ Bucket: stack.bucket, Key: files.passed.key, Body: 'x' }),
    );
    const deleted = await outcome(
      client(),
      new DeleteObjectCommand({ Bucket: stack.bucket, Key: files.passed.key }),
    );

    // Assert
    expect([created, overwritten, deleted]).toEqual([DENIED, DENIED, DENIED]);
    expect(
      await outcome(adminS3, new HeadObjectCommand({ Bucket: stack.bucket, Key: newKey })),
    ).toMatchObject({
      status: 404,
    });
    expect((await versionsOf(files.passed.key)).length).toBe(1);
  });

  it('can neither read nor write tags: a pending file cannot be made passed', async () => {
    // Act
    const read = await outcome(
      client(),
      new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: files.passed.key }),
    );
    const certify = await outcome(
      client(),
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: files.pending.key,
        Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'passed' }] },
      }),
    );

    // Assert
    expect([read, certify]).toEqual([DENIED, DENIED]);
    expect((await versionsOf(files.pending.key))[0]?.status).toBe('pending');
  });

  it('cannot touch share state: the epochs are out of its reach', async () => {
    // Act
    const read = await outcome(client(), new GetObjectCommand({ Bucket: stack.stateBucket, Key: epochKey }));
    const bumped = await outcome(
      client(),
      new PutObjectCommand({ Bucket: stack.stateBucket, Key: epochKey, Body: '0' }),
    );

    // Assert
    expect([read, bumped]).toEqual([DENIED, DENIED]);
    expect(
      await outcome(adminS3, new GetObjectCommand({ Bucket: stack.stateBucket, Key: epochKey })),
    ).toEqual({
      status: 200,
      code: 'OK',
    });
  });
});
