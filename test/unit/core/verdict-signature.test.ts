import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type VerdictClaims, verdictSigner, verdictVerifier } from '../../../lib/core/verdict-signature.js';
import { signTestVerdict, TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const CLAIMS: VerdictClaims = {
  bucket: 'unit-test-bucket',
  key: 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
  versionId: 'Ab3.x_Yz-09',
  eTag: '827ccb0eea8a706c4c34a16891f84e7b',
  status: 'failed',
  reason: 'type_mismatch',
  detectedType: 'application/zip',
};

const verify = verdictVerifier(TEST_VERDICT_KEYS.publicKey);

describe('verdict signatures', () => {
  it('verifies a verdict signed by the validator key for the very same claims', () => {
    expect(verify(CLAIMS, signTestVerdict(CLAIMS))).toBe(true);
  });

  it.each<[string, Partial<VerdictClaims>]>([
    ['bucket', { bucket: 'other-bucket' }],
    ['key', { key: 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8F' }],
    ['version', { versionId: 'Ab3.x_Yz-10' }],
    ['ETag', { eTag: 'ffffffffffffffffffffffffffffffff' }],
    ['status', { status: 'passed' }],
    ['reason', { reason: 'size_mismatch' }],
    ['detected type', { detectedType: 'image/png' }],
  ])('refuses the signature for another %s', (_, change) => {
    expect(verify({ ...CLAIMS, ...change }, signTestVerdict(CLAIMS))).toBe(false);
  });

  it('refuses a missing reason or detected type the signature covered, and one it did not cover', () => {
    const { reason: _reason, detectedType: _detected, ...bare } = CLAIMS;
    expect(verify(bare, signTestVerdict(CLAIMS))).toBe(false);
    expect(verify(CLAIMS, signTestVerdict(bare))).toBe(false);
  });

  it('refuses a signature made with another Ed25519 key', () => {
    // Arrange
    const other = generateKeyPairSync('ed25519').privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;

    // Act / Assert
    expect(verify(CLAIMS, verdictSigner(other)(CLAIMS))).toBe(false);
  });

  it.each([
    ['none', undefined],
    ['empty', ''],
    ['not base64url', `${signTestVerdict(CLAIMS).slice(0, 85)}+`],
    ['too short', signTestVerdict(CLAIMS).slice(0, 85)],
    ['too long', `${signTestVerdict(CLAIMS)}A`],
    ['a tag value anyone could write', 'passed'],
  ])('refuses a signature that is %s', (_, signature) => {
    expect(verify(CLAIMS, signature)).toBe(false);
  });

  it('signs as base64url of 64 bytes, 86 characters that S3 takes as a tag value', () => {
    expect(signTestVerdict(CLAIMS)).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });
});
