import { GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import { adminS3, api, newOwner, postForm, requestUpload, stack, waitForVerdict } from './stack.js';

describe('upload → validate → download, through the real local stack', () => {
  it('a real PNG lands pending with its pinned metadata, passes, and downloads byte for byte', async () => {
    // Arrange
    const { token } = await newOwner('alice');
    const png = pngOfSize(2048);
    const issued = await requestUpload(token, {
      filename: 'Kätzchen "1".png',
      contentType: 'image/png',
      size: png.length,
    });

    // Act
    const posted = await postForm(issued.upload, png);

    // Assert: landed as S3 stored it
    expect(posted.status).toBe(204);
    const head = await adminS3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: issued.key }));
    expect(head.ContentLength).toBe(png.length);
    expect(head.ContentType).toBe('image/png');
    expect(head.Metadata?.['declared-size']).toBe(String(png.length));
    const verdict = await waitForVerdict(token, issued.fileId);
    expect(verdict).toMatchObject({ status: 'passed', filename: 'Kätzchen "1".png', size: png.length });
    const tags = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: issued.key }));
    expect(tags.TagSet).toContainEqual({ Key: 'validation-status', Value: 'passed' });

    const link = await api<{ url: string; expiresAt: string }>(
      'POST',
      `/files/${issued.fileId}/download-url`,
      { token },
    );
    expect(link.status).toBe(200);
    const download = await fetch(link.body.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(png)).toBe(true);
    expect(download.headers.get('content-disposition')).toContain(
      "filename*=UTF-8''K%C3%A4tzchen%20%221%22.png",
    );
  });

  it('HTML declared as image/png fails with a type reason and cannot be downloaded', async () => {
    const { token } = await newOwner('mallory');
    const issued = await requestUpload(token, {
      filename: 'x.png',
      contentType: 'image/png',
      size: HTML_PAGE.length,
    });

    expect((await postForm(issued.upload, HTML_PAGE)).status).toBe(204);

    const verdict = await waitForVerdict(token, issued.fileId);
    expect(verdict.status).toBe('failed');
    expect(String(verdict.reason)).toMatch(/type/);
    const link = await api('POST', `/files/${issued.fileId}/download-url`, { token });
    expect(link.status).toBe(409);
    expect(link.body).toMatchObject({ error: { code: 'not_validated' } });
  });
});
