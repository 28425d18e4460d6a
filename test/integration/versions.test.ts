// A fileId names one set of bytes forever: the first version under its key.
// Each test here drives the real stack as an attacker would, re-posting an
// upload form, racing reads, writing tags with the upload role's own
// credentials, revoking concurrently.
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  api,
  assumeFunctionRole,
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

const SIZE = 2048;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Two valid PNGs of the same size (the form pins it) but other bytes. */
function twoPngs(): [Buffer, Buffer] {
  const a = pngOfSize(SIZE);
  const b = Buffer.from(a);
  b.fill(0x42, b.length - 64);
  return [a, b];
}

/** Follows a URL as a browser would and answers its status and the bytes' hash. */
async function fetchBytes(url: string): Promise<{ status: number; sha256: string }> {
  const response = await fetch(url, { redirect: 'follow' });
  return { status: response.status, sha256: sha256(new Uint8Array(await response.arrayBuffer())) };
}

/** The tags of one version of a key, read as the bucket owner. */
async function versionTags(key: string, versionId: string): Promise<Record<string, string>> {
  const { TagSet } = await adminS3.send(
    new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key, VersionId: versionId }),
  );
  return Object.fromEntries((TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/**
 * The version ids under a key, oldest first, as the bucket owner lists them;
 * waits for at least `count` (RGW's events for form POSTs name no version).
 */
async function versionsOf(key: string, count: number, seconds = 20): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const { Versions = [] } = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
    );
    const ids = Versions.filter((entry) => entry.Key === key)
      .map((entry) => entry.VersionId ?? '')
      .reverse();
    if (ids.length >= count) return ids;
    if (Date.now() > deadline)
      throw new Error(`${ids.length} of ${count} versions of ${key} after ${seconds} s`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/**
 * Waits until a key holds exactly its first version again, once RGW has
 * pushed `events` ObjectCreated events for it: every version posted over the
 * file was deleted by the validator. Returns the version ids left.
 */
async function onlyFirstVersionLeft(key: string, events: number, seconds = 75): Promise<string[]> {
  await createdVersions(key, events, seconds);
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const { Versions = [] } = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
    );
    const ids = Versions.filter((entry) => entry.Key === key).map((entry) => entry.VersionId ?? '');
    if (ids.length === 1) return ids;
    if (Date.now() > deadline)
      throw new Error(`${key} still holds ${ids.length} versions after ${seconds} s`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** Waits until the validator has tagged a version with a verdict. */
async function waitForVersionVerdict(key: string, versionId: string, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const tags = await versionTags(key, versionId);
    if (tags['validation-status'] === 'passed' || tags['validation-status'] === 'failed') return tags;
    if (Date.now() > deadline)
      throw new Error(`version ${versionId} of ${key} still ${JSON.stringify(tags)}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** An uploaded, validated PNG of a fresh owner's, and its upload form (still valid for re-posting). */
async function passedUpload(bytes: Buffer): Promise<{ token: string; sub: string; issued: IssuedUpload }> {
  const { sub, token } = await newOwner('versions');
  const issued = await requestUpload(token, {
    filename: 'a.png',
    contentType: 'image/png',
    size: bytes.length,
  });
  expect((await postForm(issued.upload, bytes, { fileContentType: 'image/png' })).status).toBe(204);
  expect(await waitForVerdict(token, issued.fileId, 30)).toMatchObject({ status: 'passed' });
  return { token, sub, issued };
}

describe('a fileId names its first version', () => {
  it('bait and switch: re-posting the form never changes what a share link, a download URL or GET /files serve', async () => {
    // Arrange: A passed, with a 7-day share link and a download URL.
    const [a, b] = twoPngs();
    const { token, issued } = await passedUpload(a);
    const share = await api<{ shareUrl: string }>('POST', `/files/${issued.fileId}/shares`, {
      token,
      body: { expiresIn: 604_800 },
    });
    const download = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });
    const before = await api('GET', `/files/${issued.fileId}`, { token });

    // Act: B, valid too, posted with the very same form.
    const [first] = await versionsOf(issued.key, 1);
    expect((await postForm(issued.upload, b, { fileContentType: 'image/png' })).status).toBe(204);
    const servedAtOnce = {
      share: await fetchBytes(share.body.shareUrl),
      download: await fetchBytes(download.body.url),
      file: await api('GET', `/files/${issued.fileId}`, { token }),
    };
    // RGW's persistent topic may deliver B's event many seconds later; the validator then deletes B.
    const left = await onlyFirstVersionLeft(issued.key, 2);

    // Assert: A is served before B is judged and after, under every link; B is gone.
    expect(share.status).toBe(201);
    expect(first).toBeTruthy();
    expect(left).toEqual([first]);
    expect(servedAtOnce.share).toEqual({ status: 200, sha256: sha256(a) });
    expect(servedAtOnce.download).toEqual({ status: 200, sha256: sha256(a) });
    expect(servedAtOnce.file).toMatchObject({ status: 200, body: before.body });
    expect(await fetchBytes(share.body.shareUrl)).toEqual({ status: 200, sha256: sha256(a) });
    const fresh = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });
    expect(new URL(fresh.body.url).searchParams.get('versionId')).toBe(first);
    expect(await fetchBytes(fresh.body.url)).toEqual({ status: 200, sha256: sha256(a) });
    expect(await api('GET', `/files/${issued.fileId}`, { token })).toMatchObject({
      status: 200,
      body: before.body,
    });
  }, 180_000);

  it('stale verdicts: a verdict binds its version, so a URL never serves bytes posted after it', async () => {
    // Arrange: A and B posted back to back, before either is judged.
    const [a, b] = twoPngs();
    const { token } = await newOwner('versions');
    const issued = await requestUpload(token, { filename: 'b.png', contentType: 'image/png', size: SIZE });
    expect((await postForm(issued.upload, a, { fileContentType: 'image/png' })).status).toBe(204);
    expect((await postForm(issued.upload, b, { fileContentType: 'image/png' })).status).toBe(204);

    // Act: the first event to come lists both, judges A and deletes B.
    const left = await onlyFirstVersionLeft(issued.key, 2);
    const firstVerdict = await waitForVersionVerdict(issued.key, left[0] ?? '', 75);
    const download = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });

    // Assert: A passed and is what the URL names and serves; B is gone.
    expect(firstVerdict['validation-status']).toBe('passed');
    expect(new URL(download.body.url).searchParams.get('versionId')).toBe(left[0]);
    expect(await fetchBytes(download.body.url)).toEqual({ status: 200, sha256: sha256(a) });
  }, 180_000);

  it('a race of re-posts with download-url requests answers 200 or 4xx, never 500', async () => {
    // Arrange
    const [a, b] = twoPngs();
    const { token, issued } = await passedUpload(a);

    // Act: 40 download-url requests while the form is posted again, five times.
    const [answers] = await Promise.all([
      Promise.all(
        Array.from({ length: 40 }, () => api('POST', `/files/${issued.fileId}/download-url`, { token })),
      ),
      (async () => {
        for (let i = 0; i < 5; i++)
          await postForm(issued.upload, i % 2 ? a : b, { fileContentType: 'image/png' });
      })(),
    ]);

    // Assert
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
  }, 90_000);
});

describe('only the validator can certify', () => {
  it("an object the upload role's own credentials create tagged passed is never served", async () => {
    // Arrange: another owner's key, HTML declared as a PNG, tagged passed with a plausible validated-etag.
    const upload = roleS3Client(await assumeFunctionRole('createUpload', 'self-certify'));
    const { sub, token } = await newOwner('victim');
    const fileId = (await requestUpload(token, { filename: 'x.png', contentType: 'image/png', size: 10 }))
      .fileId;
    const key = `uploads/${ownerOf(sub).segment}/${fileId}`;
    const md5 = createHash('md5').update(HTML_PAGE).digest('hex');

    // Act
    await upload.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: HTML_PAGE,
        ContentType: 'image/png',
        Metadata: { 'declared-type': 'image/png', 'declared-size': String(HTML_PAGE.length), filename: 'eA' },
        Tagging: `validation-status=passed&validated-etag=${md5}`,
      }),
    );
    const right = await api('POST', `/files/${fileId}/download-url`, { token });
    const verdict = await waitForVerdict(token, fileId, 30);

    // Assert: unsigned, the tag is no verdict (409); then the validator judges the bytes for real.
    expect(right.status).toBe(409);
    expect(verdict).toMatchObject({ status: 'failed', reason: 'unknown_type' });
    expect((await api('POST', `/files/${fileId}/shares`, { token })).status).toBe(409);
  }, 90_000);

  it('a verdict the upload role would rewrite with its own credentials is refused, and one rewritten past S3 policy is not believed', async () => {
    // Arrange: a real upload the validator failed (HTML declared as PNG).
    const { token } = await newOwner('retag');
    const issued = await requestUpload(token, {
      filename: 'x.png',
      contentType: 'image/png',
      size: HTML_PAGE.length,
    });
    expect((await postForm(issued.upload, HTML_PAGE, { fileContentType: 'image/png' })).status).toBe(204);
    expect(await waitForVerdict(token, issued.fileId, 30)).toMatchObject({ status: 'failed' });
    const upload = roleS3Client(await assumeFunctionRole('createUpload', 'retag'));
    const { Versions } = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: issued.key }),
    );
    const tags = await versionTags(issued.key, Versions?.[0]?.VersionId ?? '');

    const forged = new PutObjectTaggingCommand({
      Bucket: stack.bucket,
      Key: issued.key,
      Tagging: {
        TagSet: Object.entries({ ...tags, 'validation-status': 'passed' })
          .filter(([name]) => name !== 'validation-reason')
          .map(([Key, Value]) => ({ Key, Value })),
      },
    });

    // Act: the upload role tags it passed, copying the validator's own tags but the status; then
    // the bucket owner's keys (which S3 policy does not stop here) write the same tag set.
    const byUploadRole = await upload.send(forged).then(
      () => 200,
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
    );
    const unchanged = await versionTags(issued.key, Versions?.[0]?.VersionId ?? '');
    await adminS3.send(forged);

    // Assert: the role may not retag an object that carries a verdict; and the signature does not
    // cover "passed", so every route still refuses the tag written past the policies: they read the
    // validator's own verdict from the file's record, never the rewritten tag.
    expect(byUploadRole).toBe(403);
    expect(unchanged).toEqual(tags);
    expect((await versionTags(issued.key, Versions?.[0]?.VersionId ?? ''))['validation-status']).toBe(
      'passed',
    );
    expect((await api('GET', `/files/${issued.fileId}`, { token })).body).toMatchObject({
      status: 'failed',
    });
    expect((await api('POST', `/files/${issued.fileId}/download-url`, { token })).status).toBe(409);
    expect((await api('POST', `/files/${issued.fileId}/shares`, { token })).status).toBe(409);
  }, 90_000);
});

describe('revocation only ever moves forward', () => {
  it('concurrent revocations all succeed, move the epoch on, and every link issued before them stays revoked', async () => {
    // Arrange
    const { token, sub, issued } = await passedUpload(pngOfSize(SIZE));
    const links = await Promise.all(
      Array.from({ length: 3 }, () =>
        api<{ shareUrl: string }>('POST', `/files/${issued.fileId}/shares`, {
          token,
          body: { expiresIn: 3600 },
        }),
      ),
    );

    // Act: twelve revocations at once.
    const revocations = await Promise.all(
      Array.from({ length: 12 }, () => api('DELETE', `/files/${issued.fileId}/shares`, { token })),
    );
    const epochObject = await adminS3.send(
      new GetObjectCommand({
        Bucket: stack.stateBucket,
        Key: `share-epochs/${ownerOf(sub).segment}/${issued.fileId}`,
      }),
    );
    const after = await api<{ shareUrl: string }>('POST', `/files/${issued.fileId}/shares`, { token });

    // Assert
    expect(revocations.map((answer) => answer.status)).toEqual(Array(12).fill(204));
    // Each landed write moved it by one; a revocation that lost the race found it moved already.
    const epoch = Number(await epochObject.Body?.transformToString());
    expect(epoch).toBeGreaterThanOrEqual(1);
    expect(epoch).toBeLessThanOrEqual(12);
    for (const link of links) {
      const opened = await fetch(link.body.shareUrl, { redirect: 'manual' });
      expect(opened.status).toBe(410);
    }
    expect((await fetch(after.body.shareUrl, { redirect: 'manual' })).status).toBe(302);
  }, 90_000);
});
