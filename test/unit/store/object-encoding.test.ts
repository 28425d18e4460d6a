import type { Tag } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { mergeValidationTags, TAG, TAG_LIMITS, toTagValue } from '../../../lib/store/object-encoding.js';

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
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toEqual([
      { Key: TAG.status, Value: 'passed' },
      etagTag,
      { Key: 'share-epoch', Value: '3' },
      { Key: TAG.detectedType, Value: 'image/png' },
    ]);
    expect(dropped).toEqual([]);
  });

  it('records the reason and detected type of a failure', () => {
    // Act
    const { tagSet } = mergeValidationTags(
      pending(),
      {
        status: 'failed',
        reason: 'type_mismatch',
        detectedType: 'application/zip',
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toEqual([
      { Key: TAG.status, Value: 'failed' },
      etagTag,
      { Key: 'share-epoch', Value: '3' },
      { Key: TAG.reason, Value: 'type_mismatch' },
      { Key: TAG.detectedType, Value: 'application/zip' },
    ]);
    expectValidS3TagSet(tagSet);
  });

  it('drops validation tags of an earlier verdict that the new one does not carry', () => {
    // Arrange
    const existing: Tag[] = [
      { Key: TAG.status, Value: 'failed' },
      { Key: TAG.reason, Value: 'unknown_type' },
      { Key: TAG.detectedType, Value: 'application/zip' },
      { Key: 'team', Value: 'blue' },
    ];

    // Act
    const { tagSet } = mergeValidationTags(existing, { status: 'passed' }, ETAG);

    // Assert
    expect(tagSet).toEqual([{ Key: TAG.status, Value: 'passed' }, etagTag, { Key: 'team', Value: 'blue' }]);
  });

  it('stays within 10 tags: status and ETag first, existing tags next, then reason, then detected type', () => {
    // Arrange: pending plus 7 foreign tags leaves room for one of the two extras.
    const foreign = Array.from({ length: 7 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    const existing = [{ Key: TAG.status, Value: 'pending' }, ...foreign];

    // Act
    const { tagSet, dropped } = mergeValidationTags(
      existing,
      {
        status: 'failed',
        reason: 'size_mismatch',
        detectedType: 'image/png',
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toHaveLength(TAG_LIMITS.maxTags);
    expect(tagSet[0]).toEqual({ Key: TAG.status, Value: 'failed' });
    expect(tagSet[1]).toEqual(etagTag);
    expect(tagSet.slice(2, 9)).toEqual(foreign);
    expect(tagSet[9]).toEqual({ Key: TAG.reason, Value: 'size_mismatch' });
    expect(dropped).toEqual([]);
    expectValidS3TagSet(tagSet);
  });

  it('keeps the status and ETag when 10 foreign tags leave no room, reporting what it dropped', () => {
    // Arrange
    const existing = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));

    // Act
    const { tagSet, dropped } = mergeValidationTags(
      existing,
      {
        status: 'passed',
        detectedType: 'image/gif',
      },
      ETAG,
    );

    // Assert
    expect(tagSet).toHaveLength(10);
    expect(tagSet[0]).toEqual({ Key: TAG.status, Value: 'passed' });
    expect(tagSet[1]).toEqual(etagTag);
    expect(dropped).toEqual(['k8', 'k9']);
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
