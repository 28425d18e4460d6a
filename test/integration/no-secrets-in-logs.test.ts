import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devOwnerSecret } from '../../scripts/dev-keys.js';
import { LOCAL_DIR, OFFLINE_LOG } from '../../scripts/stack-settings.js';
import { pngOfSize } from '../support/sample-files.js';
import { TEST_WEBHOOK_SECRET } from '../support/webhooks.js';
import { api, newOwner, postForm, requestUpload, waitForVerdict } from './stack.js';

const SHARE_SECRET_FILE = resolve(LOCAL_DIR, 'share-secret');

/**
 * serverless offline's own request line (`GET /s/<token> (λ: openShare)`), its
 * stand-in for API Gateway's access log. That one is the emulator's, not the
 * functions'; in AWS, HTTP API access logs are off unless configured, and a
 * format for them must use `$context.routeKey`, never `$context.path`.
 */
const EMULATOR_REQUEST_LINE = /^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \S+ \(λ: \w+\)$/;

/** What the functions logged since `offset` bytes into the stack's log. */
async function logsSince(offset: number): Promise<string> {
  // Give serverless offline a moment to flush the last invocation's lines.
  await new Promise((done) => setTimeout(done, 1000));
  const lines = readFileSync(OFFLINE_LOG).subarray(offset).toString('utf8').split('\n');
  return lines.filter((line) => !EMULATOR_REQUEST_LINE.test(line.trim())).join('\n');
}

describe('logs of a full upload → download → share flow', () => {
  it('hold no token, no secret and no presigned URL, but do hold the flow', async () => {
    // Arrange
    expect(existsSync(OFFLINE_LOG)).toBe(true);
    const offset = statSync(OFFLINE_LOG).size;
    const { token } = await newOwner('logs');
    const png = pngOfSize(1500);

    // Act: the whole life of a file, through the real stack
    const issued = await requestUpload(token, {
      filename: 'logged.png',
      contentType: 'image/png',
      size: png.length,
    });
    expect((await postForm(issued.upload, png)).status).toBe(204);
    expect((await waitForVerdict(token, issued.fileId)).status).toBe('passed');
    const download = await api<{ url: string }>('POST', `/files/${issued.fileId}/download-url`, { token });
    const share = await api<{ shareUrl: string }>('POST', `/files/${issued.fileId}/shares`, { token });
    const shareToken = share.body.shareUrl.split('/s/')[1] ?? '';
    const opened = await api('GET', `/s/${shareToken}`, { token: null });
    expect(opened.status).toBe(302);
    const redirect = opened.headers.get('location') ?? '';
    await api('DELETE', `/files/${issued.fileId}/shares`, { token });
    const logs = await logsSince(offset);

    // Assert: the flow is in the logs…
    expect(logs).toContain(issued.key);
    expect(logs).toMatch(/"status":"passed"/);
    // …and none of its credentials are.
    const signatureOf = (url: string) => new URL(url).searchParams.get('X-Amz-Signature') ?? '';
    const secrets = {
      bearerToken: token,
      bearerSignature: token.split('.')[2] ?? '',
      shareToken,
      shareSecret: readFileSync(SHARE_SECRET_FILE, 'utf8').trim(),
      ownerSecret: devOwnerSecret(),
      // The key the stack signs webhooks with (the tests' stack is started with it), with and without its prefix.
      webhookSecret: TEST_WEBHOOK_SECRET,
      webhookKey: TEST_WEBHOOK_SECRET.slice('whsec_'.length),
      uploadPolicySignature: issued.upload.fields['X-Amz-Signature'] ?? '',
      sessionToken: issued.upload.fields['X-Amz-Security-Token'] ?? '',
      downloadSignature: signatureOf(download.body.url),
      redirectSignature: signatureOf(redirect),
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, `${name} should be non-empty`).toBeGreaterThan(15);
      expect(logs.includes(secret), `${name} appears in the logs`).toBe(false);
    }
  });
});
