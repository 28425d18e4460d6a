import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../lib/runtime.js';

const base = (): NodeJS.ProcessEnv => ({ ...process.env });

describe('createRuntime', () => {
  it('builds the rules, the store and the settings from the environment', () => {
    // Act
    const runtime = createRuntime({
      ...base(),
      UPLOAD_RULES: '{"image/png":1024}',
      PUBLIC_API_URL: 'https://api.example.com',
    });

    // Assert
    expect([...runtime.rules]).toEqual([['image/png', 1024]]);
    expect(runtime.store.bucket).toBe('unit-test-bucket');
    expect(runtime.publicUrl).toEqual({ configured: 'https://api.example.com', offline: false });
  });

  it('knows it runs under serverless offline from IS_OFFLINE', () => {
    expect(createRuntime({ ...base(), IS_OFFLINE: 'true' }).publicUrl.offline).toBe(true);
  });

  it.each([
    ['UPLOADS_BUCKET', { UPLOADS_BUCKET: undefined }, /UPLOADS_BUCKET/],
    ['AUTH_ISSUER', { AUTH_ISSUER: undefined }, /AUTH_ISSUER/],
    ['the JWKS', { AUTH_JWKS: undefined, AUTH_JWKS_URL: undefined }, /AUTH_JWKS_URL or AUTH_JWKS/],
    ['UPLOAD_RULES', { UPLOAD_RULES: '{"image/png":0}' }, /UPLOAD_RULES/],
    ['UPLOAD_URL_TTL_SECONDS', { UPLOAD_URL_TTL_SECONDS: '901' }, /UPLOAD_URL_TTL_SECONDS/],
  ])('fails the cold start naming %s when it is missing or malformed', (_, change, message) => {
    expect(() => createRuntime({ ...base(), ...change })).toThrow(message);
  });
});
