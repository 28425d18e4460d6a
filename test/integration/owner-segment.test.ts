import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { devToken } from '../../scripts/dev-keys.js';
import { pngOfSize } from '../support/sample-files.js';
import { api, ownerOf, postForm, requestUpload, stack, waitForVerdict } from './stack.js';

/**
 * Owner segments on the real stack: whoever holds a share link or a presigned
 * URL sees the owner segment of the file's key, so it must not let them
 * confirm a guessed subject (an e-mail address) by hashing it. Segments are
 * keyed with the stack's owner secret: the unkeyed SHA-256 of the subject
 * appears nowhere, yet one subject always has one segment.
 */

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
/** What anyone can compute from a guessed subject: the first 128 bits of its SHA-256, in hex. */
const unkeyed = (sub: string) => createHash('sha256').update(sub, 'utf8').digest('hex').slice(0, 32);
const SEGMENT_OF_KEY = /^uploads\/([0-9a-f]{32})\/[0-9A-HJKMNP-TV-Z]{26}$/;

const segmentOf = (key: string): string => {
  const segment = SEGMENT_OF_KEY.exec(key)?.[1];
  if (!segment) throw new Error(`not an upload key: ${key}`);
  return segment;
};

/** Uploads a PNG as `sub` through the API and the real form POST; resolves once it passed validation. */
async function uploadAs(sub: string) {
  const token = await devToken(sub);
  const png = pngOfSize(2000 + Math.floor(Math.random() * 1000));
  const issued = await requestUpload(token, {
    filename: 'me.png',
    contentType: 'image/png',
    size: png.length,
  });
  const posted = await postForm(issued.upload, png);
  expect(posted.status).toBe(204);
  expect((await waitForVerdict(token, issued.fileId)).status).toBe('passed');
  return { token, issued };
}

describe('owner segments', () => {
  it('reveal no unkeyed SHA-256 of the subject: not in the key, the upload form, a share link or a presigned URL', async () => {
    // Arrange
    const { token, issued } = await uploadAs(ALICE);
    const hidden = unkeyed(ALICE);

    // Act
    const download = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });
    const share = await api<{ shareUrl: string }>('POST', `/files/${issued.fileId}/shares`, { token });
    const shareToken = share.body.shareUrl.split('/s/')[1] ?? '';
    const payload = Buffer.from(shareToken.split('.')[0] ?? '', 'base64url').toString('latin1');
    const opened = await fetch(`${stack.apiUrl}/s/${shareToken}`, { redirect: 'manual' });
    const redirect = opened.headers.get('location') ?? '';

    // Assert: every place the segment is seen holds the keyed one…
    expect(download.status).toBe(200);
    expect(share.status).toBe(201);
    expect(opened.status).toBe(302);
    const segment = ownerOf(ALICE).segment;
    expect(segmentOf(issued.key)).toBe(segment);
    expect(issued.upload.fields['x-amz-meta-owner']).toBe(segment);
    expect(payload.split('.')[1]).toBe(segment);
    expect(new URL(download.body.url).pathname).toContain(`/uploads/${segment}/${issued.fileId}`);
    expect(new URL(redirect).pathname).toContain(`/uploads/${segment}/${issued.fileId}`);
    // …and none holds the one a guesser can compute.
    expect(segment).not.toBe(hidden);
    const seen = {
      key: issued.key,
      uploadForm: JSON.stringify(issued),
      shareUrl: share.body.shareUrl,
      shareTokenPayload: payload,
      downloadUrl: decodeURIComponent(download.body.url),
      shareRedirect: decodeURIComponent(redirect),
    };
    for (const [where, text] of Object.entries(seen)) {
      expect(text.length, `${where} should be non-empty`).toBeGreaterThan(20);
      expect(text.includes(hidden), `${where} holds sha256(sub)`).toBe(false);
    }
  });

  it('map one subject to one segment across uploads, and another subject to another', async () => {
    // Arrange
    const first = await uploadAs(ALICE);
    const second = await uploadAs(ALICE);
    const bob = await uploadAs(BOB);

    // Act
    const segments = [first, second, bob].map(({ issued }) => segmentOf(issued.key));
    const bobReadsAlices = await api('GET', `/files/${first.issued.fileId}`, { token: bob.token });
    const aliceReadsHers = await api('GET', `/files/${first.issued.fileId}`, { token: second.token });

    // Assert
    expect(segments[0]).toBe(segments[1]);
    expect(segments[0]).toBe(ownerOf(ALICE).segment);
    expect(segments[2]).toBe(ownerOf(BOB).segment);
    expect(segments[2]).not.toBe(segments[0]);
    expect(segments[2]).not.toBe(unkeyed(BOB));
    expect(bobReadsAlices.status).toBe(404);
    expect(aliceReadsHers.status).toBe(200);
    expect(aliceReadsHers.body.fileId).toBe(first.issued.fileId);
  });
});
