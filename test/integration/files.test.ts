import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { mp4OfSize, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  api,
  assumeFunctionRole,
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
 * A file's whole life on the real stack: listed newest first, with the
 * uploader's clientMetadata, then deleted, after which every way of reaching
 * it answers 404 and S3 itself no longer serves it.
 */

interface FileView {
  fileId: string;
  filename: string;
  status: string;
  clientMetadata: Record<string, unknown> | null;
}
interface FileList {
  items: FileView[];
  nextCursor: string | null;
}

/** Uploads a small PNG as `token` (POST form) and waits until it passed; its fileId and issued form. */
async function uploadPng(token: string, name: string, clientMetadata?: Record<string, unknown>) {
  const png = pngOfSize(200 + Math.floor(Math.random() * 500));
  const issued = await requestUpload(token, {
    filename: name,
    contentType: 'image/png',
    size: png.length,
    ...(clientMetadata ? { clientMetadata } : {}),
  });
  const posted = await postForm(issued.upload, png);
  expect(posted.status, posted.body).toBe(204);
  expect(await waitForVerdict(token, issued.fileId, 30)).toMatchObject({ status: 'passed' });
  return { fileId: issued.fileId, issued, png };
}

/** Every page of the caller's files, `limit` at a time. */
async function allPages(token: string, limit: number): Promise<FileList[]> {
  const pages: FileList[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    const answer: { status: number; body: FileList } = await api<FileList>('GET', `/files?${query}`, {
      token,
    });
    expect(answer.status).toBe(200);
    pages.push(answer.body);
    cursor = answer.body.nextCursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe('GET /files', () => {
  let alice = { sub: '', token: '' };
  const mine: string[] = [];
  const theirs: string[] = [];

  beforeAll(async () => {
    alice = await newOwner('files');
    const bob = await newOwner('files-other');
    for (let i = 0; i < 5; i++) mine.push((await uploadPng(alice.token, `a${i}.png`)).fileId);
    for (let i = 0; i < 2; i++) theirs.push((await uploadPng(bob.token, `b${i}.png`)).fileId);
  });

  it("pages through the caller's files newest first, across several pages, never showing another owner's", async () => {
    // Act
    const pages = await allPages(alice.token, 2);

    // Assert
    expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    const listed = pages.flatMap((page) => page.items.map((item) => item.fileId));
    expect(listed).toEqual([...mine].reverse());
    expect(listed.some((id) => theirs.includes(id))).toBe(false);
  });

  it('lists each file as GET /files/{fileId} describes it', async () => {
    // Act
    const [first] = (await allPages(alice.token, 1))[0]?.items ?? [];
    const single = await api('GET', `/files/${first?.fileId}`, { token: alice.token });

    // Assert
    expect(first).toEqual(single.body);
  });

  it.each([
    ['a limit of 0', 'limit=0'],
    ['a limit of 101', 'limit=101'],
    ['a limit that is not a number', 'limit=ten'],
    ['a cursor no page handed out', 'cursor=Zm9yZ2Vk'],
    ['an unknown parameter', 'offset=3'],
  ])('answers %s with 400', async (_, query) => {
    // Act
    const answer = await api('GET', `/files?${query}`, { token: alice.token });

    // Assert
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('answers 401 without a token and an empty page to a new owner', async () => {
    // Arrange
    const stranger = await newOwner('files-new');

    // Act
    const anonymous = await api('GET', '/files', { token: null });
    const empty = await api('GET', '/files', { token: stranger.token });

    // Assert
    expect(anonymous.status).toBe(401);
    expect(empty).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });
});

describe('clientMetadata', () => {
  it('comes back from GET /files/{fileId} and the list, for a form POST and a multipart upload', async () => {
    // Arrange
    const { token } = await newOwner('meta');
    const posted = await uploadPng(token, 'cat.png', { album: 'Été', n: 3 });
    const file = mp4OfSize(6 * 1024 * 1024);
    const started = await api<{ fileId: string; partCount: number }>('POST', '/uploads/multipart', {
      token,
      body: { filename: 'f.mp4', contentType: 'video/mp4', size: file.length, clientMetadata: { scene: 1 } },
    });
    const [part] = (
      await api<{ parts: { url: string; headers: Record<string, string> }[] }>(
        'POST',
        `/uploads/${started.body.fileId}/parts`,
        { token, body: { parts: [{ partNumber: 1 }] } },
      )
    ).body.parts;
    const put = await fetch(part?.url ?? '', { method: 'PUT', body: new Uint8Array(file) });
    await api('POST', `/uploads/${started.body.fileId}/complete`, {
      token,
      body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
    });
    await waitForVerdict(token, started.body.fileId, 30);

    // Act
    const single = await api<FileView>('GET', `/files/${posted.fileId}`, { token });
    const listed = await api<FileList>('GET', '/files', { token });

    // Assert
    expect(single.body.clientMetadata).toEqual({ album: 'Été', n: 3 });
    expect(Object.fromEntries(listed.body.items.map((item) => [item.fileId, item.clientMetadata]))).toEqual({
      [posted.fileId]: { album: 'Été', n: 3 },
      [started.body.fileId]: { scene: 1 },
    });
  });

  it('is pinned by the POST policy: a form posted with other clientMetadata is refused by S3', async () => {
    // Arrange
    const { token } = await newOwner('meta');
    const png = pngOfSize(300);
    const issued = await requestUpload(token, {
      filename: 'x.png',
      contentType: 'image/png',
      size: png.length,
      clientMetadata: { admin: false },
    });
    const forged = Buffer.from(JSON.stringify({ admin: true })).toString('base64url');

    // Act
    const posted = await postForm(issued.upload, png, { fields: { 'x-amz-meta-client-metadata': forged } });

    // Assert
    expect(posted.status).toBe(403);
  });

  it.each([
    ['an array', [1]],
    ['over 512 bytes', { note: 'x'.repeat(600) }],
  ])('refuses %s with 400 on both upload routes', async (_, clientMetadata) => {
    // Arrange
    const { token } = await newOwner('meta');
    const body = { filename: 'f.mp4', contentType: 'video/mp4', size: 1000, clientMetadata };

    // Act
    const answers = await Promise.all([
      api('POST', '/uploads', { token, body }),
      api('POST', '/uploads/multipart', { token, body }),
    ]);

    // Assert
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});

describe('DELETE /files/{fileId}', () => {
  it('removes every version and its share state: every read path answers 404 and S3 no longer serves it', async () => {
    // Arrange: a passed file with a download URL and a share link issued before the delete.
    const { sub, token } = await newOwner('del');
    const { fileId, issued } = await uploadPng(token, 'gone.png');
    const download = await api<{ url: string }>('POST', `/files/${fileId}/download-url`, { token, body: {} });
    const share = await api<{ shareUrl: string }>('POST', `/files/${fileId}/shares`, { token, body: {} });
    expect((await fetch(download.body.url)).status).toBe(200);

    // Act
    const deleted = await api('DELETE', `/files/${fileId}`, { token });
    const again = await api('DELETE', `/files/${fileId}`, { token });

    // Assert
    expect(deleted.status).toBe(204);
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await api('GET', `/files/${fileId}`, { token })).status).toBe(404);
    expect((await api('POST', `/files/${fileId}/download-url`, { token, body: {} })).status).toBe(404);
    expect((await api('POST', `/files/${fileId}/shares`, { token, body: {} })).status).toBe(404);
    expect((await api('DELETE', `/files/${fileId}/shares`, { token })).status).toBe(404);
    expect((await fetch(share.body.shareUrl, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(download.body.url)).status).toBe(404);
    const listed = await api<FileList>('GET', '/files', { token });
    expect(listed.body.items.map((item) => item.fileId)).not.toContain(fileId);
    const versions = await adminS3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: issued.key }),
    );
    expect(versions.Versions ?? []).toEqual([]);
    const epoch = await adminS3
      .send(
        new GetObjectCommand({
          Bucket: stack.stateBucket,
          Key: `share-epochs/${ownerOf(sub).segment}/${fileId}`,
        }),
      )
      .then(
        () => 200,
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );
    expect(epoch).toBe(404);
  });

  it('stays deleted when its still-valid form is posted again: the new bytes are never the file', async () => {
    // Arrange
    const { token } = await newOwner('del');
    const { fileId, issued, png } = await uploadPng(token, 'again.png');
    expect((await api('DELETE', `/files/${fileId}`, { token })).status).toBe(204);

    // Act
    const reposted = await postForm(issued.upload, png);
    await new Promise((done) => setTimeout(done, 3000));

    // Assert: S3 takes the form (it is still valid), but the key's oldest entry is the delete marker.
    expect(reposted.status).toBe(204);
    expect((await api('GET', `/files/${fileId}`, { token })).status).toBe(404);
    expect((await api('POST', `/files/${fileId}/download-url`, { token, body: {} })).status).toBe(404);
    const listed = await api<FileList>('GET', '/files', { token });
    expect(listed.body.items.map((item) => item.fileId)).not.toContain(fileId);
  });

  it("answers 404 to another owner, and the owner's file stays", async () => {
    // Arrange
    const { token } = await newOwner('del');
    const intruder = await newOwner('del-intruder');
    const { fileId } = await uploadPng(token, 'kept.png');

    // Act
    const answer = await api('DELETE', `/files/${fileId}`, { token: intruder.token });

    // Assert
    expect(answer).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await api('GET', `/files/${fileId}`, { token })).toMatchObject({
      status: 200,
      body: { status: 'passed' },
    });
  });

  it('answers malformed ids with 400 and missing tokens with 401', async () => {
    const { token } = await newOwner('del');
    expect((await api('DELETE', '/files/not-an-id', { token })).status).toBe(400);
    expect((await api('DELETE', `/files/${ulid()}`, { token: null })).status).toBe(401);
    expect((await api('DELETE', `/files/${ulid()}`, { token })).status).toBe(404);
  });

  it('three deletes at once: the file is gone, and no answer is a 500', async () => {
    // Arrange
    const { token } = await newOwner('del');
    const { fileId } = await uploadPng(token, 'race.png');

    // Act
    const answers = await Promise.all([1, 2, 3].map(() => api('DELETE', `/files/${fileId}`, { token })));

    // Assert
    const statuses = answers.map((answer) => answer.status);
    expect(statuses).toContain(204);
    expect(statuses.every((status) => status === 204 || status === 404)).toBe(true);
    expect((await api('GET', `/files/${fileId}`, { token })).status).toBe(404);
  });

  it('a delete racing the validation of a fresh upload: gone afterwards, never a 500', async () => {
    // Arrange
    const { token } = await newOwner('del');
    const png = pngOfSize(400);
    const issued: IssuedUpload = await requestUpload(token, {
      filename: 'fresh.png',
      contentType: 'image/png',
      size: png.length,
    });
    expect((await postForm(issued.upload, png)).status).toBe(204);

    // Act
    const deleted = await api('DELETE', `/files/${issued.fileId}`, { token });
    await new Promise((done) => setTimeout(done, 3000));

    // Assert
    expect([204, 404]).toContain(deleted.status);
    expect((await api('GET', `/files/${issued.fileId}`, { token })).status).toBe(404);
  });
});

describe('the file roles on the real gateway', () => {
  it('the delete role deletes uploads but reads none and writes nothing; the list role deletes nothing', async () => {
    // Arrange: an object of the bucket owner's under uploads/.
    const key = `uploads/${ownerOf('roles|x').segment}/${ulid()}`;
    await adminS3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: 'x',
        Tagging: 'validation-status=passed',
      }),
    );
    const deleter = roleS3Client(await assumeFunctionRole('deleteFile', 'files-lp-delete'));
    const lister = roleS3Client(await assumeFunctionRole('listFiles', 'files-lp-list'));
    const status = (call: Promise<unknown>) =>
      call.then(
        () => 200,
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );

    // Act & Assert
    expect(await status(lister.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key })))).toBe(403);
    expect(await status(deleter.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key })))).toBe(403);
    expect(
      await status(deleter.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: 'y' }))),
    ).toBe(403);
    expect(
      await status(
        deleter.send(new DeleteObjectCommand({ Bucket: stack.stateBucket, Key: `elsewhere/${ulid()}` })),
      ),
    ).toBe(403);
    // The grant exists: the refusals above are the roles' doing (200: the call succeeded).
    expect(await status(deleter.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key })))).toBe(200);
  });
});
