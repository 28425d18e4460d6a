import {
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileIndexKey } from '../../lib/store/object-key.js';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  api,
  assumeFunctionRole,
  newOwner,
  ownerOf,
  postForm,
  requestUpload,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * End to end: download URLs and share links through the API, and
 * the bucket policy (validation-status=passed) proven as a second guard by
 * signing GETs directly with the serving functions' own role credentials.
 */

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const TAG_STATUS = 'validation-status';

interface Uploaded {
  sub: string;
  token: string;
  fileId: string;
  key: string;
  bytes: Buffer;
}

/** Uploads through the API and the real form POST, then waits for the validator's verdict. */
async function uploaded(
  options: { filename?: string; bytes?: Buffer; owner?: { sub: string; token: string } } = {},
): Promise<Uploaded & { verdict: Record<string, unknown> }> {
  const owner = options.owner ?? (await newOwner('ds'));
  const bytes = options.bytes ?? pngOfSize(3000 + Math.floor(Math.random() * 1000));
  const issued = await requestUpload(owner.token, {
    filename: options.filename ?? 'photo.png',
    contentType: 'image/png',
    size: bytes.length,
  });
  const posted = await postForm(issued.upload, bytes);
  if (posted.status !== 204) throw new Error(`upload answered ${posted.status}: ${posted.body}`);
  const verdict = await waitForVerdict(owner.token, issued.fileId);
  return { ...owner, fileId: issued.fileId, key: issued.key, bytes, verdict };
}

async function passedFile(options: Parameters<typeof uploaded>[0] = {}): Promise<Uploaded> {
  const file = await uploaded(options);
  expect(file.verdict.status).toBe('passed');
  return file;
}

async function failedFile(): Promise<Uploaded> {
  const file = await uploaded({ bytes: HTML_PAGE, filename: 'x.png' });
  expect(file.verdict.status).toBe('failed');
  return file;
}

async function tagsOf(key: string): Promise<Tag[]> {
  const tagging = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
  return tagging.TagSet ?? [];
}

/**
 * A file that stays pending: admin PutObject (as a form POST lands it), the
 * real validator lets it pass, then its tag is put back to pending and its
 * record taken out of the file index, as they are before the validator has run.
 */
async function pendingFile(): Promise<Uploaded> {
  const owner = await newOwner('ds-pending');
  const bytes = pngOfSize(2000);
  const fileId = ulid();
  const key = `uploads/${ownerOf(owner.sub).segment}/${fileId}`;
  await adminS3.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      Body: bytes,
      ContentType: 'image/png',
      Metadata: {
        filename: Buffer.from('pending.png').toString('base64url'),
        owner: ownerOf(owner.sub).segment,
        'declared-type': 'image/png',
        'declared-size': String(bytes.length),
      },
      Tagging: `${TAG_STATUS}=pending`,
    }),
  );
  await waitForVerdict(owner.token, fileId);
  await adminS3.send(
    new PutObjectTaggingCommand({
      Bucket: stack.bucket,
      Key: key,
      Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'pending' }] },
    }),
  );
  await adminS3.send(
    new DeleteObjectCommand({ Bucket: stack.stateBucket, Key: fileIndexKey(ownerOf(owner.sub), fileId) }),
  );
  return { ...owner, fileId, key, bytes };
}

async function downloadUrl(file: Pick<Uploaded, 'token' | 'fileId'>, body?: unknown) {
  const answer = await api<{ url: string; expiresAt: string }>('POST', `/files/${file.fileId}/download-url`, {
    token: file.token,
    ...(body !== undefined ? { body } : {}),
  });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function share(file: Pick<Uploaded, 'token' | 'fileId'>, body?: unknown) {
  const answer = await api<{ shareUrl: string; expiresAt: string }>('POST', `/files/${file.fileId}/shares`, {
    token: file.token,
    ...(body !== undefined ? { body } : {}),
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

/** GET /s/{token} as a third party: no auth, no redirect following. */
const openShare = (shareUrl: string) =>
  fetch(shareUrl.replace(/^https?:\/\/[^/]+/, stack.apiUrl), { redirect: 'manual' });

const tokenOf = (shareUrl: string) => shareUrl.split('/s/')[1] ?? '';

async function bytesOf(url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  };
}

// ---- the serving functions' own role credentials ----

async function roleClient(fn: string): Promise<S3Client> {
  return roleS3Client(await assumeFunctionRole(fn, `ds-${fn}`));
}

const SIGNERS = ['createDownloadUrl', 'openShare'] as const;
const signers = {} as Record<(typeof SIGNERS)[number], S3Client>;

beforeAll(async () => {
  for (const fn of SIGNERS) signers[fn] = await roleClient(fn);
});

describe('download URLs', () => {
  it.each([
    [
      'attachment',
      'Kätzchen "1".png',
      `attachment; filename="Katzchen _1_.png"; filename*=UTF-8''K%C3%A4tzchen%20%221%22.png`,
    ],
    [
      'inline',
      'Kätzchen "1".png',
      `inline; filename="Katzchen _1_.png"; filename*=UTF-8''K%C3%A4tzchen%20%221%22.png`,
    ],
    [
      'attachment',
      '日本語 ☃.png',
      `attachment; filename="___ _.png"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E2%98%83.png`,
    ],
    ['inline', 'plain.png', 'inline; filename="plain.png"'],
  ] as const)(
    'serve the exact bytes, Content-Type, and %s disposition for %s',
    async (disposition, filename, header) => {
      // Arrange
      const file = await passedFile({ filename });

      // Act
      const link = await downloadUrl(file, { disposition });
      const download = await bytesOf(link.url);

      // Assert
      expect(download.status).toBe(200);
      expect(download.body.equals(file.bytes)).toBe(true);
      expect(download.headers.get('content-type')).toBe('image/png');
      expect(download.headers.get('content-disposition')).toBe(header);
    },
  );

  it('expiresIn: 1 → the presigned GET is refused by S3 two seconds later', async () => {
    const file = await passedFile();
    const link = await downloadUrl(file, { expiresIn: 1 });
    expect(Date.parse(link.expiresAt)).toBeLessThanOrEqual(Date.now() + 1500);
    await sleep(2000);

    const download = await bytesOf(link.url);

    expect(download.status).toBe(403);
    expect(download.body.toString()).toContain('AccessDenied');
  });

  it('a swapped key (file A’s URL pointed at file B) fails the signature: 403', async () => {
    // Arrange: two passed files of the same owner, so only the signature stands between them
    const a = await passedFile();
    const b = await passedFile({ owner: { sub: a.sub, token: a.token } });
    const link = await downloadUrl(a);
    const swapped = link.url.replace(a.fileId, b.fileId);
    expect(swapped).not.toBe(link.url);

    // Act
    const download = await bytesOf(swapped);

    // Assert
    expect(download.status).toBe(403);
    expect(download.body.equals(b.bytes)).toBe(false);
  });

  it('a tampered response-content-disposition / response-content-type fails the signature: 403', async () => {
    const file = await passedFile();
    const link = new URL((await downloadUrl(file)).url);
    link.searchParams.set('response-content-type', 'text/html');

    const download = await bytesOf(link.toString());

    expect(download.status).toBe(403);
  });

  it.each([
    ['pending', pendingFile],
    ['failed', failedFile],
  ] as const)('a %s file → 409 not_validated', async (_, make) => {
    const file = await make();

    const answer = await api('POST', `/files/${file.fileId}/download-url`, { token: file.token });

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: 'not_validated' } });
  });
});

describe('another owner', () => {
  it('gets 404 not_found on every route for a file that is not theirs, exactly as for an unknown id', async () => {
    // Arrange
    const file = await passedFile();
    const intruder = await newOwner('intruder');
    const tagsBefore = await tagsOf(file.key);
    const routes = [
      ['GET', `/files/${file.fileId}`],
      ['POST', `/files/${file.fileId}/download-url`],
      ['POST', `/files/${file.fileId}/shares`],
      ['DELETE', `/files/${file.fileId}/shares`],
    ] as const;

    // Act
    const answers = await Promise.all(
      routes.map(([method, path]) => api(method, path, { token: intruder.token })),
    );
    const unknown = await Promise.all(
      routes.map(([method, path]) =>
        api(method, path.replace(file.fileId, ulid()), { token: intruder.token }),
      ),
    );

    // Assert
    for (const answer of [...answers, ...unknown]) {
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ error: { code: 'not_found', message: 'no such file' } });
    }
    expect(await tagsOf(file.key)).toEqual(tagsBefore); // the intruder's DELETE revoked nothing
    expect((await openShare((await share(file)).shareUrl)).status).toBe(302);
  });
});

describe('share links', () => {
  it('302 to a short-lived presigned GET that serves the bytes, with cache-control: no-store', async () => {
    // Arrange
    const file = await passedFile();
    const { shareUrl, expiresAt } = await share(file);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 86_000_000);

    // Act
    const redirect = await openShare(shareUrl);
    const location = redirect.headers.get('location') ?? '';
    const download = await bytesOf(location);

    // Assert
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    expect(Number(new URL(location).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(60);
    expect(download.status).toBe(200);
    expect(download.body.equals(file.bytes)).toBe(true);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it.each([
    ['a flipped payload character', (t: string) => `${t[0] === 'M' ? 'N' : 'M'}${t.slice(1)}`],
    [
      'a flipped MAC character',
      (t: string) => {
        const at = t.length - 10;
        return `${t.slice(0, at)}${t[at] === 'A' ? 'B' : 'A'}${t.slice(at + 1)}`;
      },
    ],
    ['a truncated token', (t: string) => t.slice(0, -5)],
    ['the MAC dropped', (t: string) => t.split('.')[0] ?? ''],
    [
      'another payload with the same MAC',
      (t: string) =>
        `${Buffer.from('1.00000000000000000000000000000000.01JDQ7ZJ8W3N4T6X9Y2B5C7D8E.9999999999.0').toString('base64url')}.${t.split('.')[1]}`,
    ],
  ])('a tampered token (%s) → 404 not_found', async (_, tamper) => {
    const file = await passedFile();
    const token = tokenOf((await share(file)).shareUrl);
    const tampered = tamper(token);
    expect(tampered).not.toBe(token);

    const answer = await api('GET', `/s/${tampered}`);

    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('expiresIn: 1 → 410 link_expired two seconds later', async () => {
    const file = await passedFile();
    const { shareUrl } = await share(file, { expiresIn: 1 });
    await sleep(2000);

    const answer = await api('GET', `/s/${tokenOf(shareUrl)}`);

    expect(answer.status).toBe(410);
    expect(answer.body).toMatchObject({ error: { code: 'link_expired' } });
  });

  it('DELETE revokes every earlier link (410 link_revoked); a link issued after revocation works', async () => {
    // Arrange
    const file = await passedFile();
    const first = await share(file);
    const second = await share(file);
    expect((await openShare(first.shareUrl)).status).toBe(302);

    // Act
    const revoked = await api('DELETE', `/files/${file.fileId}/shares`, { token: file.token });
    const afterFirst = await api('GET', `/s/${tokenOf(first.shareUrl)}`);
    const afterSecond = await api('GET', `/s/${tokenOf(second.shareUrl)}`);
    const fresh = await share(file);
    const freshRedirect = await openShare(fresh.shareUrl);

    // Assert
    expect(revoked.status).toBe(204);
    for (const answer of [afterFirst, afterSecond]) {
      expect(answer.status).toBe(410);
      expect(answer.body).toMatchObject({ error: { code: 'link_revoked' } });
    }
    expect(freshRedirect.status).toBe(302);
    const download = await bytesOf(freshRedirect.headers.get('location') ?? '');
    expect(download.body.equals(file.bytes)).toBe(true);
    expect(await tagsOf(file.key)).toContainEqual({ Key: TAG_STATUS, Value: 'passed' });
  });

  it.each([
    ['pending', pendingFile],
    ['failed', failedFile],
  ] as const)('sharing a %s file → 409 not_validated', async (_, make) => {
    const file = await make();

    const answer = await api('POST', `/files/${file.fileId}/shares`, { token: file.token });

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: 'not_validated' } });
  });

  it('a link to a file whose tag another writer has since set to failed: the read gate refuses its redirect (403)', async () => {
    // Arrange: an unsigned tag is no verdict either way: the link reads the validator's record.
    const file = await passedFile();
    const { shareUrl } = await share(file);
    await adminS3.send(
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: file.key,
        Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'failed' }] },
      }),
    );

    // Act
    const answer = await openShare(shareUrl);
    const served = await fetch(answer.headers.get('location') ?? '');

    // Assert: S3 judges the version the redirect names by its tag, and serves nothing.
    expect(answer.status).toBe(302);
    expect(served.status).toBe(403);
  });
});

describe('defense in depth: the bucket policy refuses what a leaked URL would serve', () => {
  /** A GET of the key's one version, presigned as the role would: the read gate, not the role, decides. */
  const signedGet = async (client: S3Client, key: string) => {
    const { Versions = [] } = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
    );
    expect(Versions).toHaveLength(1);
    const command = new GetObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      VersionId: Versions[0]?.VersionId,
    });
    return getSignedUrl(client, command, { expiresIn: 300 });
  };

  it.each(SIGNERS)('%s role: a presigned GET of a pending object is refused by S3 (403)', async (fn) => {
    const file = await pendingFile();

    const download = await bytesOf(await signedGet(signers[fn], file.key));

    expect(download.status).toBe(403);
    expect(download.body.equals(file.bytes)).toBe(false);
  });

  it.each(SIGNERS)('%s role: a presigned GET of a failed object is refused by S3 (403)', async (fn) => {
    const file = await failedFile();

    const download = await bytesOf(await signedGet(signers[fn], file.key));

    expect(download.status).toBe(403);
  });

  it.each(SIGNERS)(
    '%s role: a presigned GET of an object with no validation tag at all is refused (403)',
    async (fn) => {
      // Arrange: a passed object whose tags are then removed (RGW evaluates a missing tag key as "not denied")
      const file = await passedFile();
      const { Versions = [] } = await adminS3.send(
        new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: file.key }),
      );
      const version = { Bucket: stack.bucket, Key: file.key, VersionId: Versions[0]?.VersionId };
      await adminS3.send(new DeleteObjectTaggingCommand(version));
      expect((await adminS3.send(new GetObjectTaggingCommand(version))).TagSet ?? []).toEqual([]);

      // Act
      const download = await bytesOf(await signedGet(signers[fn], file.key));

      // Assert
      expect(download.status).toBe(403);
    },
  );

  it.each(SIGNERS)(
    '%s role: the same presigned GET of a passed object serves the bytes (200)',
    async (fn) => {
      const file = await passedFile();

      const download = await bytesOf(await signedGet(signers[fn], file.key));

      expect(download.status).toBe(200);
      expect(download.body.equals(file.bytes)).toBe(true);
    },
  );

  it('a URL issued while passed stops working the moment the object is marked failed', async () => {
    const file = await passedFile();
    const link = await downloadUrl(file);
    await adminS3.send(
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: file.key,
        Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'failed' }] },
      }),
    );

    const download = await bytesOf(link.url);

    expect(download.status).toBe(403);
  });
});
