import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ulid } from 'ulid';
import { describe, expect, it, vi } from 'vitest';
import type { RoleSession } from '../../scripts/role-sessions.js';
import { apiEvent, lambdaContext } from '../support/api-event.js';
import { pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  assumeFunctionRole,
  createdObject,
  functionEnvironment,
  type IssuedUpload,
  newOwner,
  ownerOf,
  postForm,
  requestUpload,
  stack,
} from './stack.js';

/**
 * End to end on the real gateway: the presigned POST the API hands
 * out is the only guard between a hostile client and the bucket, so every
 * tampering below must be refused by S3 (Ceph RGW) itself, and nothing may
 * land. Only refusals RGW really enforces are asserted (docs/rgw-notes.md §2).
 */

const SIZE = 1000;
const PENDING_TAGGING =
  '<Tagging><TagSet><Tag><Key>validation-status</Key><Value>pending</Value></Tag></TagSet></Tagging>';
const PASSED_TAGGING =
  '<Tagging><TagSet><Tag><Key>validation-status</Key><Value>passed</Value></Tag></TagSet></Tagging>';

/** How many objects exist at exactly `key` (ListObjectsV2 is not gated by the tag policy). */
async function objectsAt(key: string): Promise<number> {
  const listed = await adminS3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: key }));
  return (listed.Contents ?? []).filter((object) => object.Key === key).length;
}

async function issue(filename = 'cat.png', size = SIZE): Promise<{ sub: string; issued: IssuedUpload }> {
  const { sub, token } = await newOwner('uc');
  const issued = await requestUpload(token, { filename, contentType: 'image/png', size });
  return { sub, issued };
}

type Policy = { expiration: string; conditions: unknown[] };
const decodePolicy = (fields: Record<string, string>): Policy =>
  JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as Policy;

/** The fields without `name` (a browser that leaves one out). */
const without = (fields: Record<string, string>, name: string) =>
  Object.fromEntries(Object.entries(fields).filter(([field]) => field !== name));

const expectRefused = (status: number) => {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
};

// ---- in-process createUpload with the createUpload role's own credentials ----

const createUploadRole = () => assumeFunctionRole('createUpload', 'uc-in-process');

/**
 * Runs handlers/createUpload.ts in this process, configured as the stack
 * configures it but with `overrides` (e.g. a 1 s TTL), signing with the
 * createUpload role's assumed credentials. The environment is restored after.
 */
async function createUploadInProcess(
  token: string,
  body: unknown,
  overrides: Record<string, string>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const settings: Record<string, string> = { ...(await functionEnvironment()), ...overrides };
  const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    vi.resetModules();
    const { handler } = await import('../../handlers/create-upload.js');
    const event = apiEvent({
      method: 'POST',
      path: '/uploads',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await handler(
      event,
      lambdaContext('presign-local-createUpload'),
    )) as APIGatewayProxyStructuredResultV2;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const roleEnv = (c: RoleSession, expiration: Date) => ({
  AWS_ACCESS_KEY_ID: c.accessKeyId,
  AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
  AWS_SESSION_TOKEN: c.sessionToken,
  AWS_CREDENTIAL_EXPIRATION: expiration.toISOString(),
});

describe('presigned POST: what lands', () => {
  it('a browser-style form POST lands with the pinned type, size, metadata and tagged pending', async () => {
    // Arrange
    const { sub, issued } = await issue('Kätzchen "1".png');
    const png = pngOfSize(SIZE);

    // Act
    const posted = await postForm(issued.upload, png, { fileContentType: 'image/png' });
    const created = await createdObject(issued.key);
    const head = await adminS3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: issued.key }));

    // Assert
    expect(posted.status).toBe(204);
    // The tags it was created with, as S3's own event reports them: the validator may have run since.
    expect(created.tags).toEqual([{ key: 'validation-status', val: 'pending' }]);
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ContentType).toBe('image/png');
    expect(head.Metadata).toEqual({
      filename: Buffer.from('Kätzchen "1".png', 'utf8').toString('base64url'),
      owner: ownerOf(sub).segment,
      'declared-type': 'image/png',
      'declared-size': String(SIZE),
    });
    expect(issued.key).toBe(`uploads/${ownerOf(sub).segment}/${issued.fileId}`);
  });

  it('the policy pins every field exactly, the signer’s session token included, and expires by expiresAt', async () => {
    // Arrange / Act
    const { issued } = await issue();
    const { fields } = issued.upload;
    const policy = decodePolicy(fields);

    // Assert
    expect(fields['X-Amz-Security-Token']?.length).toBeGreaterThan(100);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', SIZE, SIZE],
        { key: issued.key },
        { 'Content-Type': 'image/png' },
        { tagging: PENDING_TAGGING },
        { 'x-amz-meta-filename': fields['x-amz-meta-filename'] },
        { 'x-amz-meta-owner': fields['x-amz-meta-owner'] },
        { 'x-amz-meta-declared-type': 'image/png' },
        { 'x-amz-meta-declared-size': String(SIZE) },
        { 'X-Amz-Security-Token': fields['X-Amz-Security-Token'] },
      ]),
    );
    expect(Date.parse(policy.expiration)).toBeLessThanOrEqual(Date.parse(issued.expiresAt) + 1000);
    expect(issued.maxBytes).toBe(SIZE);
  });
});

describe('presigned POST: S3 itself refuses tampering, and nothing lands', () => {
  it('one byte over the declared size → 400 EntityTooLarge', async () => {
    const { issued } = await issue();

    const posted = await postForm(issued.upload, pngOfSize(SIZE + 1));

    expect(posted.status).toBe(400);
    expect(posted.body).toContain('EntityTooLarge');
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('one byte under the declared size → 400 EntityTooSmall', async () => {
    const { issued } = await issue();

    const posted = await postForm(issued.upload, pngOfSize(SIZE - 1));

    expect(posted.status).toBe(400);
    expect(posted.body).toContain('EntityTooSmall');
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it.each(['image/gif', 'text/html', 'image/svg+xml', 'image/png; charset=utf-8'])(
    'another Content-Type field (%s) → 403',
    async (contentType) => {
      const { issued } = await issue();

      const posted = await postForm(issued.upload, pngOfSize(SIZE), {
        fields: { 'Content-Type': contentType },
      });

      expect(posted.status).toBe(403);
      expect(posted.body).toContain('AccessDenied');
      expect(await objectsAt(issued.key)).toBe(0);
    },
  );

  it('the Content-Type field left out → 403', async () => {
    const { issued } = await issue();

    const posted = await postForm(
      { url: issued.upload.url, fields: without(issued.upload.fields, 'Content-Type') },
      pngOfSize(SIZE),
    );

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it.each([
    [
      'another owner’s segment, same file id',
      (key: string, other: string) => key.replace(/^uploads\/[0-9a-f]{32}\//, `uploads/${other}/`),
    ],
    ['the same segment, another file id', (key: string) => key.replace(/[0-9A-HJKMNP-TV-Z]{26}$/, ulid())],
    ['outside uploads/', (key: string) => key.replace(/^uploads\//, 'public/')],
    ['a sibling of the key', (key: string) => `${key}/../../${ulid()}`],
  ])('another key (%s) → 403, nothing at either key', async (_, otherKey) => {
    // Arrange
    const { issued } = await issue();
    const victim = ownerOf((await newOwner('victim')).sub).segment;
    const target = otherKey(issued.key, victim);
    expect(target).not.toBe(issued.key);

    // Act
    const posted = await postForm(issued.upload, pngOfSize(SIZE), { fields: { key: target } });

    // Assert
    expect(posted.status).toBe(403);
    expect(posted.body).toContain('AccessDenied');
    expect(await objectsAt(target)).toBe(0);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('a changed x-amz-meta-filename → 403', async () => {
    const { issued } = await issue('cat.png');

    const posted = await postForm(issued.upload, pngOfSize(SIZE), {
      fields: { 'x-amz-meta-filename': Buffer.from('evil.html').toString('base64url') },
    });

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it.each([
    ['x-amz-meta-declared-type', 'text/html'],
    ['x-amz-meta-declared-size', '1'],
    ['x-amz-meta-owner', '0123456789abcdef0123456789abcdef'],
  ])('a changed %s → 403', async (name, value) => {
    const { issued } = await issue();

    const posted = await postForm(issued.upload, pngOfSize(SIZE), { fields: { [name]: value } });

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('a client tagging itself validation-status=passed → 403', async () => {
    const { issued } = await issue();

    const posted = await postForm(issued.upload, pngOfSize(SIZE), { fields: { tagging: PASSED_TAGGING } });

    expect(posted.status).toBe(403);
    expect(posted.body).toContain('AccessDenied');
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('the tagging field left out (an untagged object would dodge the read gate) → 403', async () => {
    const { issued } = await issue();

    const posted = await postForm(
      { url: issued.upload.url, fields: without(issued.upload.fields, 'tagging') },
      pngOfSize(SIZE),
    );

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it.each([
    ['x-amz-meta-extra', 'smuggled'],
    ['x-amz-website-redirect-location', '/evil'],
    ['Content-Disposition', 'inline; filename=evil.html'],
    ['Cache-Control', 'public, max-age=31536000'],
    ['acl', 'public-read'],
  ])('an extra unpinned field %s → 403', async (name, value) => {
    const { issued } = await issue();

    const posted = await postForm(issued.upload, pngOfSize(SIZE), { fields: { [name]: value } });

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('a tampered X-Amz-Signature → 403', async () => {
    const { issued } = await issue();
    const signature = issued.upload.fields['X-Amz-Signature'] ?? '';
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;

    const posted = await postForm(issued.upload, pngOfSize(SIZE), { fields: { 'X-Amz-Signature': flipped } });

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('a tampered Policy (size range widened, re-encoded) → 403, even for the bigger body it would allow', async () => {
    const { issued } = await issue();
    const policy = decodePolicy(issued.upload.fields);
    policy.conditions = policy.conditions.map((condition) =>
      Array.isArray(condition) && condition[0] === 'content-length-range'
        ? ['content-length-range', 1, 10 * 1024 * 1024]
        : condition,
    );
    const tampered = Buffer.from(JSON.stringify(policy)).toString('base64');

    const posted = await postForm(issued.upload, pngOfSize(SIZE * 2), { fields: { Policy: tampered } });

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('the X-Amz-Security-Token field dropped → 403 (the signer is a role session)', async () => {
    const { issued } = await issue();

    const posted = await postForm(
      { url: issued.upload.url, fields: without(issued.upload.fields, 'X-Amz-Security-Token') },
      pngOfSize(SIZE),
    );

    expect(posted.status).toBe(403);
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('a second POST of the same form after a successful one cannot replace the bytes with other ones of another size', async () => {
    const { issued } = await issue();
    expect((await postForm(issued.upload, pngOfSize(SIZE))).status).toBe(204);

    const again = await postForm(issued.upload, pngOfSize(SIZE + 500));

    expectRefused(again.status);
    const head = await adminS3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: issued.key }));
    expect(head.ContentLength).toBe(SIZE);
  });
});

describe('presigned POST lifetime, configured in-process with the createUpload role', () => {
  it('UPLOAD_URL_TTL_SECONDS=1: a POST 2 s later is refused by S3 (403), nothing lands', async () => {
    // Arrange
    const role = await createUploadRole();
    const { token } = await newOwner('uc-ttl');
    const answer = await createUploadInProcess(
      token,
      { filename: 'late.png', contentType: 'image/png', size: SIZE },
      { ...roleEnv(role, role.expiration), UPLOAD_URL_TTL_SECONDS: '1' },
    );
    expect(answer.statusCode).toBe(201);
    const issued = JSON.parse(String(answer.body)) as IssuedUpload;
    expect(Date.parse(issued.expiresAt)).toBeLessThanOrEqual(Date.now() + 1500);
    await new Promise((done) => setTimeout(done, 2000));

    // Act
    const posted = await postForm(issued.upload, pngOfSize(SIZE));

    // Assert
    expect(posted.status).toBe(403);
    expect(posted.body).toContain('AccessDenied');
    expect(await objectsAt(issued.key)).toBe(0);
  });

  it('control: the same in-process handler with the default TTL issues a POST that S3 accepts', async () => {
    const role = await createUploadRole();
    const { token } = await newOwner('uc-ctl');
    const answer = await createUploadInProcess(
      token,
      { filename: 'ok.png', contentType: 'image/png', size: SIZE },
      roleEnv(role, role.expiration),
    );
    const issued = JSON.parse(String(answer.body)) as IssuedUpload;

    const posted = await postForm(issued.upload, pngOfSize(SIZE));

    expect(answer.statusCode).toBe(201);
    expect(posted.status).toBe(204);
    expect(issued.upload.fields['X-Amz-Security-Token']).toBe(role.sessionToken);
    expect(decodePolicy(issued.upload.fields).conditions).toContainEqual({
      'X-Amz-Security-Token': role.sessionToken,
    });
  });

  it('expiresAt (and the policy expiration) never outlive the signing credentials', async () => {
    // Arrange: the runtime says the credentials expire in 60 s, the TTL asks for 900 s
    const role = await createUploadRole();
    const { token } = await newOwner('uc-cap');
    const credentialsExpire = new Date(Date.now() + 60_000);

    // Act
    const answer = await createUploadInProcess(
      token,
      { filename: 'cap.png', contentType: 'image/png', size: SIZE },
      { ...roleEnv(role, credentialsExpire), UPLOAD_URL_TTL_SECONDS: '900' },
    );

    // Assert
    expect(answer.statusCode).toBe(201);
    const issued = JSON.parse(String(answer.body)) as IssuedUpload;
    expect(Date.parse(issued.expiresAt)).toBeLessThanOrEqual(credentialsExpire.getTime());
    expect(Date.parse(issued.expiresAt)).toBeGreaterThan(Date.now() + 30_000);
    expect(Date.parse(decodePolicy(issued.upload.fields).expiration)).toBeLessThanOrEqual(
      credentialsExpire.getTime() + 1000,
    );
  });
});
