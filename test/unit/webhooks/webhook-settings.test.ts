import { describe, expect, it } from 'vitest';
import { parseWebhookSecret, parseWebhookUrl } from '../../../lib/webhooks/webhook-settings.js';
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
