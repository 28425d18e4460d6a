import { createHmac, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { shareKeyFrom } from '../../../lib/shares/share-secret.js';
import {
  MAX_SHARE_TOKEN_LENGTH,
  type ShareClaims,
  signShareToken,
  verifyShareToken,
} from '../../../lib/shares/share-token.js';

const key = createSecretKey(Buffer.from('share-token-test-key-0123456789abcdef', 'utf8'));
const otherKey = createSecretKey(Buffer.from('another-share-token-key-0123456789ab', 'utf8'));
const NOW = 1_800_000_000;

const claims = (overrides: Partial<ShareClaims> = {}): ShareClaims => ({
  segment: '0123456789abcdef0123456789abcdef',
  fileId: '01JD0000000000000000000000',
  versionId: 'Ab3Xq9zPmL2vR7tW0yK4nH8sD1fG6jC',
  expiresAt: NOW + 3600,
  epoch: 2,
  ...overrides,
});

/** Flips one base64url character to another valid one, keeping the length. */
function flip(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

describe('share tokens', () => {
  it('round-trips every claim under the same key', () => {
    // Arrange
    const token = signShareToken(key, claims());

    // Act
    const result = verifyShareToken(key, token, NOW);

    // Assert
    expect(result).toEqual({ ok: true, claims: claims() });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThanOrEqual(MAX_SHARE_TOKEN_LENGTH);
  });

  it('carries the share epoch it was issued in, epoch 0 included', () => {
    // Arrange
    const zero = signShareToken(key, claims({ epoch: 0 }));
    const seven = signShareToken(key, claims({ epoch: 7 }));

    // Act
    const results = [verifyShareToken(key, zero, NOW), verifyShareToken(key, seven, NOW)];

    // Assert
    expect(results.map((result) => (result.ok ? result.claims.epoch : undefined))).toEqual([0, 7]);
  });

  it.each([
    ['Ceph RGW, with dots and underscores', 'qJEwBJZTzoc3YGRbRIbvzgGDx1Y0I.m_'],
    ['Ceph RGW, a dot and underscores inside', 'u1.dAPOpJXg_ZV9j2jQ7x_Zy8nTLQh3'],
    ['AWS, with + and /', '3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo'],
    ['an unversioned object', 'null'],
    ['the longest one a token carries (129 bytes)', `${'v'.repeat(64)}.${'_'.repeat(64)}`],
  ])('carries the version id it was issued for: %s', (_, versionId) => {
    // Arrange
    const token = signShareToken(key, claims({ versionId }));

    // Act
    const result = verifyShareToken(key, token, NOW);

    // Assert
    expect(result).toEqual({ ok: true, claims: claims({ versionId }) });
    expect(token.length).toBeLessThanOrEqual(MAX_SHARE_TOKEN_LENGTH);
  });

  it('refuses a payload carrying another version id with the MAC of the first', () => {
    // Arrange: splice the MAC of a token for version A onto the payload of one for version B.
    const [payload] = signShareToken(key, claims({ versionId: 'later.version_B' })).split('.');
    const [, mac] = signShareToken(key, claims({ versionId: 'first.version_A' })).split('.');

    // Act
    const result = verifyShareToken(key, `${payload}.${mac}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a correctly MACed token of the first format, which named no version', () => {
    // Arrange: `1.<segment>.<fileId>.<expiry>.<epoch>`, as links were issued before versions.
    const payload = Buffer.from(
      `1.0123456789abcdef0123456789abcdef.01JD0000000000000000000000.${NOW + 3600}.0`,
    ).toString('base64url');
    const mac = createHmac('sha256', key).update(payload).digest('base64url');

    // Act
    const result = verifyShareToken(key, `${payload}.${mac}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a payload re-signed with another epoch but the old MAC', () => {
    // Arrange: splice the MAC of an epoch-1 token onto an epoch-5 payload.
    const [payload] = signShareToken(key, claims({ epoch: 5 })).split('.');
    const [, mac] = signShareToken(key, claims({ epoch: 1 })).split('.');

    // Act
    const result = verifyShareToken(key, `${payload}.${mac}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a tampered payload', () => {
    // Arrange
    const [payload = '', mac] = signShareToken(key, claims()).split('.');

    // Act
    const result = verifyShareToken(key, `${flip(payload, 10)}.${mac}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a tampered MAC', () => {
    // Arrange
    const [payload, mac = ''] = signShareToken(key, claims()).split('.');

    // Act
    const result = verifyShareToken(key, `${payload}.${flip(mac, 5)}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a MAC spelled non-canonically (same bytes, different last character)', () => {
    // Arrange: the 43rd character carries 2 unused bits; setting one decodes to the same 32 bytes.
    const [payload, mac = ''] = signShareToken(key, claims()).split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.slice(-1));
    const variant = `${mac.slice(0, -1)}${alphabet[last ^ 1]}`;

    // Act
    const result = verifyShareToken(key, `${payload}.${variant}`, NOW);

    // Assert
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(result.ok).toBe(false);
  });

  it('refuses a truncated token', () => {
    // Arrange
    const token = signShareToken(key, claims());

    // Act
    const results = [token.slice(0, -1), token.slice(0, token.indexOf('.')), token.slice(1)].map((bad) =>
      verifyShareToken(key, bad, NOW),
    );

    // Assert
    expect(results.every((result) => !result.ok)).toBe(true);
  });

  it('refuses a token signed with another key', () => {
    // Arrange
    const token = signShareToken(otherKey, claims());

    // Act
    const result = verifyShareToken(key, token, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    '',
    '.',
    'garbage',
    'a.b',
    '../../etc/passwd',
    `${'A'.repeat(20)}.${'A'.repeat(43)}`,
    `${'A'.repeat(20)}.${'A'.repeat(43)}.x`,
    `${'A'.repeat(20)}=.${'A'.repeat(43)}`,
  ])('refuses garbage %j', (garbage) => {
    // Act
    const result = verifyShareToken(key, garbage, NOW);

    // Assert
    expect(result.ok).toBe(false);
  });

  it('refuses an overlong token before looking at it, even one carrying a valid MAC', () => {
    // Arrange: a correctly MACed payload longer than the bound.
    const payload = Buffer.from(`1.${'0'.repeat(600)}`).toString('base64url');
    const mac = createHmac('sha256', key).update(payload).digest('base64url');

    // Act
    const result = verifyShareToken(key, `${payload}.${mac}`, NOW);

    // Assert
    expect(`${payload}.${mac}`.length).toBeGreaterThan(MAX_SHARE_TOKEN_LENGTH);
    expect(result).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a correctly MACed payload that is not a share claim', () => {
    // Arrange
    const payload = Buffer.from('1.not-a-segment.01JD0000000000000000000000.1800003600.0').toString(
      'base64url',
    );
    const mac = createHmac('sha256', key).update(payload).digest('base64url');

    // Act
    const result = verifyShareToken(key, `${payload}.${mac}`, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reports expiry from the expiry second on, and not before', () => {
    // Arrange
    const token = signShareToken(key, claims({ expiresAt: NOW + 10 }));

    // Act
    const before = verifyShareToken(key, token, NOW + 9);
    const at = verifyShareToken(key, token, NOW + 10);

    // Assert
    expect(before.ok).toBe(true);
    expect(at).toEqual({ ok: false, reason: 'expired' });
  });

  it('checks the MAC before the expiry: a forged expired token is forged, not expired', () => {
    // Arrange
    const token = signShareToken(otherKey, claims({ expiresAt: NOW - 10 }));

    // Act
    const result = verifyShareToken(key, token, NOW);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'forged' });
  });

  it('will not sign claims it could not verify', () => {
    // Act / Assert
    expect(() => signShareToken(key, claims({ segment: 'x' }))).toThrow();
    expect(() => signShareToken(key, claims({ epoch: -1 }))).toThrow();
    expect(() => signShareToken(key, claims({ expiresAt: 1.5 }))).toThrow();
    expect(() => signShareToken(key, claims({ versionId: '' }))).toThrow();
    expect(() => signShareToken(key, claims({ versionId: 'v'.repeat(130) }))).toThrow();
  });
});

describe('shareKeyFrom', () => {
  it('keys tokens with SHARE_SECRET', () => {
    // Arrange
    const secret = 'configured-share-secret-0123456789abcdef';
    const token = signShareToken(shareKeyFrom({ SHARE_SECRET: secret }), claims());

    // Act
    const result = verifyShareToken(createSecretKey(Buffer.from(secret)), token, NOW);

    // Assert
    expect(result.ok).toBe(true);
  });

  it('fails the cold start naming SHARE_SECRET when it is missing, with or without SHARE_SECRET_PARAMETER', () => {
    // Act / Assert
    expect(() => shareKeyFrom({})).toThrow(/SHARE_SECRET is required/);
    expect(() => shareKeyFrom({ SHARE_SECRET_PARAMETER: '/presign/share-secret' })).toThrow(
      /SHARE_SECRET is required.*SHARE_SECRET_PARAMETER/,
    );
  });
});
