import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, newOwner, requestUpload, stack } from './stack.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('the local stack (project spine)', () => {
  it('answers GET /health through serverless offline, without auth', async () => {
    const { status, body, headers } = await api('GET', '/health', { token: null });
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok' });
    expect(headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('describes itself in .local/stack.json for scripts', () => {
    expect(stack).toMatchObject({
      apiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      s3Endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      rgwEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      bucket: expect.any(String),
      region: expect.any(String),
    });
  });

  it('runs the functions on temporary role credentials: the URL they sign carries a session token', async () => {
    const { token } = await newOwner();
    const issued = await requestUpload(token, { filename: 'a.png', contentType: 'image/png', size: 100 });
    expect(issued.upload.fields['X-Amz-Security-Token']).toMatch(/.{20,}/);
    expect(issued.upload.fields['X-Amz-Credential']).toMatch(/\/us-east-1\/s3\/aws4_request$/);
  });

  it('refuses a second npm start while one runs, with a clear message and no stack trace', () => {
    const second = spawnSync('node_modules/.bin/tsx', ['scripts/start.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/already running/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
  });
});
