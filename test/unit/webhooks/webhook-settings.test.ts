import { describe, expect, it, vi } from 'vitest';
import {
  loadWebhookSettings,
  parseWebhookSecret,
  parseWebhookUrl,
} from '../../../lib/webhooks/webhook-settings.js';
import { TEST_WEBHOOK_SECRET } from '../../support/webhooks.js';

const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

describe('parseWebhookUrl', () => {
  it.each([
    'https://hooks.example.com/presign',
    'https://hooks.example.com:8443/a?b=c',
    'http://127.0.0.1:3011/webhooks',
    'http://localhost/webhooks',
    'http://[::1]:9000/',
  ])('accepts %s', (url) => {
    // Act + Assert
    expect(parseWebhookUrl('WEBHOOK_URL', url).href).toBe(new URL(url).href);
  });

  it.each([
    ['a relative URL', '/webhooks', /WEBHOOK_URL is not an absolute URL/],
    ['plain http to another host', 'http://hooks.example.com/', /WEBHOOK_URL must be an https: URL/],
    ['another scheme', 'ftp://hooks.example.com/', /WEBHOOK_URL must be an https: URL/],
    [
      'credentials in the URL',
      'https://user:pw@hooks.example.com/',
      /WEBHOOK_URL must not carry credentials/,
    ],
  ])('refuses %s, naming the variable', (_, url, message) => {
    // Act + Assert
    expect(() => parseWebhookUrl('WEBHOOK_URL', url)).toThrow(message);
  });
});

describe('parseWebhookSecret', () => {
  it.each([
    ['the test secret', TEST_WEBHOOK_SECRET],
    ['24 bytes', secretOf(24)],
    ['64 bytes', secretOf(64)],
  ])('accepts %s', (_, secret) => {
    // Act + Assert
    expect(parseWebhookSecret('WEBHOOK_SECRET', secret)).toBe(secret);
  });

  it.each([
    ['no whsec_ prefix', Buffer.alloc(32, 1).toString('base64'), /whsec_ followed by base64/],
    ['characters base64 does not have', 'whsec_not*base64*at*all*0123456789ab', /whsec_ followed by base64/],
    ['a truncated base64', `${secretOf(32).slice(0, -1)}`, /whsec_ followed by base64/],
    ['too few bytes', secretOf(16), /24 to 64 bytes/],
    ['too many bytes', secretOf(65), /24 to 64 bytes/],
  ])('refuses %s, naming the variable and not quoting the secret', (_, secret, message) => {
    // Act
    let thrown: unknown;
    try {
      parseWebhookSecret('WEBHOOK_SECRET', secret);
    } catch (error) {
      thrown = error;
    }

    // Assert
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toMatch(/^invalid configuration: WEBHOOK_SECRET /);
    expect((thrown as Error).message).not.toContain(secret.slice(6, 20));
  });
});

describe('loadWebhookSettings', () => {
  const WEBHOOK_URL = 'https://hooks.example.com/presign';
  const PARAMETER = '/presign/unit/webhook-secret';
  /** The unit environment (every function's variables) without any webhook setting. */
  const base = (): NodeJS.ProcessEnv => ({
    ...process.env,
    WEBHOOK_URL: undefined,
    WEBHOOK_SECRET: undefined,
    WEBHOOK_SECRET_PARAMETER: undefined,
  });

  it('gives the deliverer its URL and the secret from WEBHOOK_SECRET, reading no SSM', async () => {
    // Arrange
    const readParameter = vi.fn(async () => 'never read');

    // Act
    const settings = await loadWebhookSettings(
      { ...base(), WEBHOOK_URL, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      readParameter,
    );

    // Assert
    expect(settings).toEqual({ url: new URL(WEBHOOK_URL), secret: TEST_WEBHOOK_SECRET });
    expect(readParameter).not.toHaveBeenCalled();
  });

  it('reads WEBHOOK_SECRET_PARAMETER from SSM once', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => TEST_WEBHOOK_SECRET);

    // Act
    const settings = await loadWebhookSettings(
      { ...base(), WEBHOOK_URL, WEBHOOK_SECRET_PARAMETER: PARAMETER },
      readParameter,
    );

    // Assert
    expect(settings.secret).toBe(TEST_WEBHOOK_SECRET);
    expect(readParameter).toHaveBeenCalledTimes(1);
    expect(readParameter).toHaveBeenCalledWith(PARAMETER);
  });

  it.each([
    ['no URL', { WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }, /WEBHOOK_URL is required to deliver webhooks/],
    [
      'a URL without a secret',
      { WEBHOOK_URL },
      /WEBHOOK_SECRET or WEBHOOK_SECRET_PARAMETER is required with WEBHOOK_URL/,
    ],
    [
      'a relative URL',
      { WEBHOOK_URL: 'hooks', WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      /WEBHOOK_URL is not an absolute URL/,
    ],
    [
      'plain http to another host',
      { WEBHOOK_URL: 'http://hooks.example.com/', WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      /WEBHOOK_URL must be an https: URL/,
    ],
    [
      'a secret that is not whsec_',
      { WEBHOOK_URL, WEBHOOK_SECRET: 'not-a-webhook-secret' },
      /WEBHOOK_SECRET must be whsec_ followed by base64/,
    ],
    [
      'an environment missing a variable every function needs',
      { WEBHOOK_URL, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET, UPLOADS_BUCKET: undefined },
      /invalid configuration: UPLOADS_BUCKET/,
    ],
  ])('fails the cold start on %s, naming the variable', async (_, variables, message) => {
    // Act + Assert
    await expect(loadWebhookSettings({ ...base(), ...variables })).rejects.toThrow(message);
  });

  it('names the parameter when its value is unusable, never quoting it', async () => {
    // Arrange
    const readParameter = vi.fn(async () => 'whsec_short');

    // Act
    const loading = loadWebhookSettings(
      { ...base(), WEBHOOK_URL, WEBHOOK_SECRET_PARAMETER: PARAMETER },
      readParameter,
    );

    // Assert
    await expect(loading).rejects.toThrow(/WEBHOOK_SECRET_PARAMETER must be whsec_ followed by base64/);
    await expect(loading).rejects.not.toThrow(/whsec_short/);
  });
});
