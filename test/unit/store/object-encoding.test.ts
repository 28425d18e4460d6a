import type { Tag } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  mergeValidationTags,
  TAG,
  TAG_LIMITS,
  toTagValue,
  verdictFromTags,
} from '../../../lib/store/object-encoding.js';
import { signTestVerdict } from '../../support/verdict-keys.js';

/** S3's tag rules: at most 10, key ≤128, value ≤256, letters, digits, spaces and `+ - = . _ : / @`. */
function expectValidS3TagSet(tagSet: Tag[]): void {
  const allowed = /^[\p{L}\p{N}\p{Zs}+\-=._:/@]*$/u;
  expect(tagSet.length).toBeLessThanOrEqual(10);
  expect(new Set(tagSet.map((tag) => tag.Key)).size).toBe(tagSet.length);
  for (const { Key, Value } of tagSet) {
    expect([...(Key ?? '')].length).toBeGreaterThan(0);
    expect([...(Key ?? '')].length).toBeLessThanOrEqual(128);
    expect([...(Value ?? '')].length).toBeLessThanOrEqual(256);
    expect(Key).toMatch(allowed);
    expect(Value).toMatch(allowed);
  }
}

const ETAG = '"827ccb0eea8a706c4c34a16891f84e7b"';
const etagTag = { Key: TAG.validatedEtag, Value: '827ccb0eea8a706c4c34a16891f84e7b' };
/** An Ed25519 signature's shape (86 base64url characters): the merge copies it as it is. */
const SIGNATURE = `${'A'.repeat(43)}_${'b'.repeat(41)}-`;
const signatureTag = { Key: TAG.signature, Value: SIGNATURE };

const pending = (): Tag[] => [
  { Key: TAG.status, Value: 'pending' },
  { Key: 'share-epoch', Value: '3' },
];

describe('mergeValidationTags', () => {
  it('replaces pending with passed and keeps the other tags', () => {
    // Act
    const { tagSet, dropped } = mergeValidationTags(
      pending(),
      {
        status: 'passed',
        detectedType: 'image/png',
        signature: SIGNATURE,
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toEqual([
      { Key: TAG.status, Value: 'passed' },
      etagTag,
      signatureTag,
      { Key: TAG.detectedType, Value: 'image/png' },
      { Key: 'share-epoch', Value: '3' },
    ]);
    expect(dropped).toEqual([]);
    expectValidS3TagSet(tagSet);
  });

  it('records the reason and detected type of a failure', () => {
    // Act
    const { tagSet } = mergeValidationTags(
      pending(),
      {
        status: 'failed',
        reason: 'type_mismatch',
        detectedType: 'application/zip',
        signature: SIGNATURE,
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toEqual([
      { Key: TAG.status, Value: 'failed' },
      etagTag,
      signatureTag,
      { Key: TAG.reason, Value: 'type_mismatch' },
      { Key: TAG.detectedType, Value: 'application/zip' },
      { Key: 'share-epoch', Value: '3' },
    ]);
    expectValidS3TagSet(tagSet);
  });

  it('drops validation tags of an earlier verdict that the new one does not carry', () => {
    // Arrange
    const existing: Tag[] = [
      { Key: TAG.status, Value: 'failed' },
      { Key: TAG.reason, Value: 'unknown_type' },
      { Key: TAG.detectedType, Value: 'application/zip' },
      { Key: TAG.validatedEtag, Value: 'ffffffffffffffffffffffffffffffff' },
      { Key: TAG.signature, Value: 'x'.repeat(86) },
      { Key: 'team', Value: 'blue' },
    ];

    // Act
    const { tagSet } = mergeValidationTags(existing, { status: 'passed', signature: SIGNATURE }, ETAG);

    // Assert
    expect(tagSet).toEqual([
      { Key: TAG.status, Value: 'passed' },
      etagTag,
      signatureTag,
      { Key: 'team', Value: 'blue' },
    ]);
  });

  it('stays within 10 tags: every signed tag first (a dropped one would void the verdict), then existing tags', () => {
    // Arrange: pending plus 6 foreign tags, with a verdict of five tags: one foreign tag must go.
    const foreign = Array.from({ length: 6 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    const existing = [{ Key: TAG.status, Value: 'pending' }, ...foreign];

    // Act
    const { tagSet, dropped } = mergeValidationTags(
      existing,
      {
        status: 'failed',
        reason: 'size_mismatch',
        detectedType: 'image/png',
        signature: SIGNATURE,
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toHaveLength(TAG_LIMITS.maxTags);
    expect(tagSet[0]).toEqual({ Key: TAG.status, Value: 'failed' });
    expect(tagSet[1]).toEqual(etagTag);
    expect(tagSet[2]).toEqual(signatureTag);
    expect(tagSet[3]).toEqual({ Key: TAG.reason, Value: 'size_mismatch' });
    expect(tagSet[4]).toEqual({ Key: TAG.detectedType, Value: 'image/png' });
    expect(tagSet.slice(5)).toEqual(foreign.slice(0, 5));
    expect(dropped).toEqual(['k5']);
    expectValidS3TagSet(tagSet);
  });

  it('keeps every signed tag when 10 foreign tags leave no room, reporting what it dropped', () => {
    // Arrange
    const existing = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));

    // Act
    const { tagSet, dropped } = mergeValidationTags(
      existing,
      {
        status: 'passed',
        detectedType: 'image/gif',
        signature: SIGNATURE,
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toHaveLength(10);
    expect(tagSet[0]).toEqual({ Key: TAG.status, Value: 'passed' });
    expect(tagSet[1]).toEqual(etagTag);
    expect(tagSet[2]).toEqual(signatureTag);
    expect(tagSet[3]).toEqual({ Key: TAG.detectedType, Value: 'image/gif' });
    expect(tagSet.slice(4)).toEqual(existing.slice(0, 6));
    expect(dropped).toEqual(['k6', 'k7', 'k8', 'k9']);
    expectValidS3TagSet(tagSet);
  });
});

describe('verdictFromTags', () => {
  it('reads the status, reason, detected type, validated ETag and signature as tagged', () => {
    // Arrange
    const tags = mergeValidationTags(
      pending(),
      { status: 'failed', reason: 'type_mismatch', detectedType: 'application/zip', signature: SIGNATURE },
      ETAG,
    ).tagSet;

    // Act / Assert
    expect(verdictFromTags(tags)).toEqual({
      status: 'failed',
      reason: 'type_mismatch',
      detectedType: 'application/zip',
      validatedEtag: '827ccb0eea8a706c4c34a16891f84e7b',
      signature: SIGNATURE,
    });
  });

  it('reads pending when there is no status tag or an unknown one', () => {
    expect(verdictFromTags(undefined)).toEqual({ status: 'pending' });
    expect(verdictFromTags([{ Key: TAG.status, Value: 'approved' }])).toEqual({ status: 'pending' });
  });
});

describe('a real verdict signature', () => {
  it('is a valid S3 tag value, kept as it is by the merge', () => {
    // Arrange
    const signature = signTestVerdict({
      bucket: 'unit-test-bucket',
      key: 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
      versionId: 'v1',
      eTag: '827ccb0eea8a706c4c34a16891f84e7b',
      status: 'passed',
      detectedType: 'image/png',
    });

    // Act
    const { tagSet } = mergeValidationTags(pending(), { status: 'passed', signature }, ETAG);

    // Assert
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(tagSet).toContainEqual({ Key: TAG.signature, Value: signature });
    expect(toTagValue(signature)).toBe(signature);
    expectValidS3TagSet(tagSet);
  });
});

describe('toTagValue', () => {
  it('keeps MIME types and unicode letters as they are', () => {
    // Act / Assert
    expect(toTagValue('image/svg+xml')).toBe('image/svg+xml');
    expect(toTagValue('application/vnd.ms-excel')).toBe('application/vnd.ms-excel');
    expect(toTagValue('zoë 日本 @x=1:2')).toBe('zoë 日本 @x=1:2');
  });

  it('replaces characters S3 refuses in tags', () => {
    // Act
    const value = toTagValue('text/html; charset="utf-8" <b>&amp;</b>');

    // Assert
    expect(value).toBe('text/html_ charset=_utf-8_ _b__amp__/b_');
    expectValidS3TagSet([{ Key: 'k', Value: value }]);
  });

  it('cuts values at 256 characters', () => {
    // Act
    const value = toTagValue('é'.repeat(300));

    // Assert
    expect([...value]).toHaveLength(256);
  });
});
