import { describe, expect, it } from 'vitest';
import { TEST_LIMITS } from '../support/limits.js';
import { HTML_PAGE, PDF_MINIMAL, pngOfSize } from '../support/sample-files.js';
import { api, type IssuedUpload, newOwner, postForm, waitForVerdict } from './stack.js';

/**
 * A batch POST /uploads on the real local stack: the forms it answers are
 * posted to the real S3 (Ceph RGW), which enforces each one's policy, and the
 * validator judges each file; the quota is the one the integration stack runs
 * with (test/support/limits.ts). Every test has an owner of its own.
 */

interface Usage {
  usedBytes: number;
  reservedBytes: number;
  uploadsThisHour: number;
}

const describeFile = (name: string, bytes: Buffer, contentType: string) => ({
  filename: name,
  contentType,
  size: bytes.length,
});

async function usage(token: string): Promise<Usage> {
  const answer = await api<Usage>('GET', '/usage', { token });
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('POST /uploads with a batch', () => {
  it('answers a form per file in order; each form takes only its own file, and each file gets its verdict', async () => {
    // Arrange
    const { token } = await newOwner('batch');
    const png = pngOfSize(40 * 1024);
    const small = pngOfSize(512);
    const lying = Buffer.from(HTML_PAGE);
    const files = [
      { bytes: png, request: describeFile('photo.png', png, 'image/png') },
      { bytes: PDF_MINIMAL, request: describeFile('report.pdf', PDF_MINIMAL, 'application/pdf') },
      { bytes: small, request: describeFile('icon.png', small, 'image/png') },
      // HTML bytes declared as a PNG: the form takes them (S3 checks the declared size and type), the validator fails them.
      { bytes: lying, request: describeFile('fake.png', lying, 'image/png') },
    ];

    // Act
    const answer = await api<{ uploads: IssuedUpload[] }>('POST', '/uploads', {
      token,
      body: { files: files.map((file) => file.request) },
    });
    const { uploads } = answer.body;
    const swapped = await postForm((uploads[0] as IssuedUpload).upload, PDF_MINIMAL);
    const posted = await Promise.all(
      uploads.map((upload, index) => postForm(upload.upload, files[index]?.bytes as Buffer)),
    );
    const verdicts = await Promise.all(uploads.map((upload) => waitForVerdict(token, upload.fileId)));

    // Assert
    expect(answer.status).toBe(201);
    expect(uploads.map((upload) => upload.maxBytes)).toEqual(files.map((file) => file.bytes.length));
    expect(swapped.status).toBe(400);
    expect(posted.map((result) => result.status)).toEqual([204, 204, 204, 204]);
    expect(verdicts.map((verdict) => [verdict.filename, verdict.status])).toEqual([
      ['photo.png', 'passed'],
      ['report.pdf', 'passed'],
      ['icon.png', 'passed'],
      ['fake.png', 'failed'],
    ]);
  });

  it('refuses a batch with one disallowed type with 415 naming it, and reserves and counts nothing', async () => {
    // Arrange
    const { token } = await newOwner('batch-type');
    const png = pngOfSize(1024);

    // Act
    const answer = await api('POST', '/uploads', {
      token,
      body: {
        files: [
          describeFile('a.png', png, 'image/png'),
          describeFile('b.png', png, 'image/png'),
          describeFile('page.html', HTML_PAGE, 'text/html'),
        ],
      },
    });

    // Assert
    expect(answer).toMatchObject({
      status: 415,
      body: {
        error: {
          code: 'unsupported_content_type',
          message: 'files[2]: content type "text/html" is not accepted',
        },
      },
    });
    expect(await usage(token)).toMatchObject({ reservedBytes: 0, uploadsThisHour: 0 });
  });

  it('refuses a batch over the quota with 403 though each file fits alone, and reserves nothing', async () => {
    // Arrange: two files of 40% of the quota each fit; a third goes over it.
    const { token } = await newOwner('batch-quota');
    const share = Math.floor(TEST_LIMITS.QUOTA_BYTES_PER_OWNER * 0.4);
    const big = (name: string) => ({ filename: name, contentType: 'video/mp4', size: share });

    // Act
    const refused = await api('POST', '/uploads/multipart', { token, body: big('first.mp4') });
    const batch = await api('POST', '/uploads', { token, body: { files: [big('a.mp4'), big('b.mp4')] } });
    const after = await usage(token);

    // Assert
    expect(refused.status).toBe(201);
    expect(batch).toMatchObject({ status: 403, body: { error: { code: 'quota_exceeded' } } });
    expect(after).toMatchObject({ reservedBytes: share, uploadsThisHour: 1 });
  });

  it('signs 100 files in one call, reserved in one step, each form a distinct key that S3 takes', async () => {
    // Arrange
    const { token } = await newOwner('batch-100');
    const png = pngOfSize(2048);
    const files = Array.from({ length: 100 }, (_, index) => describeFile(`p${index}.png`, png, 'image/png'));

    // Act
    const answer = await api<{ uploads: IssuedUpload[] }>('POST', '/uploads', { token, body: { files } });
    const { uploads } = answer.body;
    const sample = [uploads[0], uploads[57], uploads[99]] as IssuedUpload[];
    const posted = await Promise.all(sample.map((upload) => postForm(upload.upload, png)));
    const verdicts = await Promise.all(sample.map((upload) => waitForVerdict(token, upload.fileId)));

    // Assert
    expect(answer.status).toBe(201);
    expect(uploads).toHaveLength(100);
    expect(new Set(uploads.map((upload) => upload.key)).size).toBe(100);
    expect(posted.map((result) => result.status)).toEqual([204, 204, 204]);
    expect(verdicts.map((verdict) => [verdict.filename, verdict.status])).toEqual([
      ['p0.png', 'passed'],
      ['p57.png', 'passed'],
      ['p99.png', 'passed'],
    ]);
    expect(await usage(token)).toMatchObject({ uploadsThisHour: 100 });
  });

  it('refuses 101 files, or an empty batch, with 400 naming files', async () => {
    // Arrange
    const { token } = await newOwner('batch-bad');
    const one = { filename: 'a.png', contentType: 'image/png', size: 1 };

    // Act
    const tooMany = await api('POST', '/uploads', {
      token,
      body: { files: Array.from({ length: 101 }, () => one) },
    });
    const none = await api('POST', '/uploads', { token, body: { files: [] } });

    // Assert
    for (const answer of [tooMany, none]) {
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(String((answer.body.error as { message: string }).message)).toMatch(/^files: /);
    }
  });
});
