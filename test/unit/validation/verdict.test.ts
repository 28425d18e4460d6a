import { describe, expect, it } from 'vitest';
import { parseUploadRules } from '../../../lib/config/upload-rules.js';
import { DEFAULT_UPLOAD_RULES } from '../../../lib/core/media-types.js';
import { decideVerdict, type VerdictInput } from '../../../lib/validation/verdict.js';

const rules = parseUploadRules(DEFAULT_UPLOAD_RULES);
const textRules = parseUploadRules({ 'text/plain': 1024, 'text/csv': 2048, 'image/png': 4096 });
const MiB = 1024 * 1024;

/** A PNG upload that passes; each test changes what its row is about. */
function input(overrides: Partial<VerdictInput> = {}): VerdictInput {
  return {
    declaredType: 'image/png',
    declaredSize: '48213',
    contentType: 'image/png',
    actualSize: 48213,
    sniffed: { detectedType: 'image/png', text: false },
    ...overrides,
  };
}

describe('decideVerdict', () => {
  it('passes bytes of the declared type and size', () => {
    // Act
    const verdict = decideVerdict(input(), rules);

    // Assert
    expect(verdict).toEqual({ status: 'passed', detectedType: 'image/png' });
  });

  it('normalises the declared and served content types', () => {
    // Act
    const verdict = decideVerdict(
      input({ declaredType: 'Image/PNG', contentType: 'image/png; charset=binary' }),
      rules,
    );

    // Assert
    expect(verdict).toEqual({ status: 'passed', detectedType: 'image/png' });
  });

  it.each([
    ['no declared type', { declaredType: undefined }],
    ['a malformed declared type', { declaredType: 'png' }],
    ['no declared size', { declaredSize: undefined }],
    ['a non-numeric declared size', { declaredSize: '48213abc' }],
    ['a zero declared size', { declaredSize: '0' }],
    ['a negative declared size', { declaredSize: '-5' }],
    ['an unsafe declared size', { declaredSize: '99999999999999999' }],
  ])('fails missing_metadata for %s', (_, overrides) => {
    // Act
    const verdict = decideVerdict(input(overrides), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'missing_metadata', detectedType: 'image/png' });
  });

  it('fails type_not_allowed for a declared type outside the rules', () => {
    // Arrange
    const svg = input({
      declaredType: 'image/svg+xml',
      contentType: 'image/svg+xml',
      sniffed: { text: true },
    });

    // Act
    const verdict = decideVerdict(svg, rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'type_not_allowed' });
  });

  it("fails too_large above the rule's maximum, even when declared so", () => {
    // Arrange
    const size = 10 * MiB + 1;

    // Act
    const verdict = decideVerdict(input({ declaredSize: String(size), actualSize: size }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'too_large', detectedType: 'image/png' });
  });

  it("passes exactly at the rule's maximum", () => {
    // Arrange
    const size = 10 * MiB;

    // Act
    const verdict = decideVerdict(input({ declaredSize: String(size), actualSize: size }), rules);

    // Assert
    expect(verdict.status).toBe('passed');
  });

  it.each([48212, 48214])('fails size_mismatch when %i bytes arrived for 48213 declared', (actualSize) => {
    // Act
    const verdict = decideVerdict(input({ actualSize }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'size_mismatch', detectedType: 'image/png' });
  });

  it('passes an animated PNG declared image/png, recording what file-type detected', () => {
    // Act
    const verdict = decideVerdict(input({ sniffed: { detectedType: 'image/apng', text: false } }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'passed', detectedType: 'image/apng' });
  });

  it('fails type_mismatch for image/apng declared: the catalogue does not know it, and file-type reports it only for PNG bytes', () => {
    // Arrange
    const apngRules = parseUploadRules({ 'image/apng': 4096 });
    const apng = input({
      declaredType: 'image/apng',
      contentType: 'image/apng',
      declaredSize: '100',
      actualSize: 100,
      sniffed: { detectedType: 'image/png', text: false },
    });

    // Act
    const verdict = decideVerdict(apng, apngRules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'type_mismatch', detectedType: 'image/png' });
  });

  it('passes a type outside the catalogue only when file-type detects exactly it', () => {
    // Arrange
    const zipRules = parseUploadRules({ 'application/zip': 4096 });
    const zip = (detectedType: string) =>
      input({
        declaredType: 'application/zip',
        contentType: 'application/zip',
        declaredSize: '100',
        actualSize: 100,
        sniffed: { detectedType, text: false },
      });

    // Act / Assert
    expect(decideVerdict(zip('application/zip'), zipRules)).toEqual({
      status: 'passed',
      detectedType: 'application/zip',
    });
    expect(decideVerdict(zip('application/epub+zip'), zipRules).reason).toBe('type_mismatch');
  });

  it('fails type_not_allowed for a type a browser would execute, even in rules built around the parser', () => {
    // Arrange: rules the parser would refuse, built by hand
    const handMade = new Map([['application/xml', 4096]]);
    const xml = input({
      declaredType: 'application/xml',
      contentType: 'application/xml',
      declaredSize: '100',
      actualSize: 100,
      sniffed: { detectedType: 'application/xml', text: false },
    });

    // Act
    const verdict = decideVerdict(xml, handMade);

    // Assert
    expect(verdict).toEqual({
      status: 'failed',
      reason: 'type_not_allowed',
      detectedType: 'application/xml',
    });
  });

  it('fails type_mismatch when the bytes are another allowed type', () => {
    // Act
    const verdict = decideVerdict(input({ sniffed: { detectedType: 'image/jpeg', text: false } }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'type_mismatch', detectedType: 'image/jpeg' });
  });

  it('fails type_mismatch when the bytes are a type outside the rules', () => {
    // Act
    const verdict = decideVerdict(
      input({ sniffed: { detectedType: 'application/zip', text: false } }),
      rules,
    );

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'type_mismatch', detectedType: 'application/zip' });
  });

  it("fails type_mismatch when the object's Content-Type differs from the declared type", () => {
    // Act
    const verdict = decideVerdict(input({ contentType: 'text/html' }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'type_mismatch', detectedType: 'image/png' });
  });

  it('fails unknown_type for HTML declared as image/png (no magic bytes found)', () => {
    // Act
    const verdict = decideVerdict(input({ sniffed: { text: true } }), rules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'unknown_type' });
  });

  it('fails unknown_type for an allowed type without magic bytes that has no text check', () => {
    // Arrange
    const jsonRules = parseUploadRules({ 'application/json': 1024 });
    const json = input({
      declaredType: 'application/json',
      contentType: 'application/json',
      declaredSize: '2',
      actualSize: 2,
      sniffed: { text: true },
    });

    // Act
    const verdict = decideVerdict(json, jsonRules);

    // Assert
    expect(verdict).toEqual({ status: 'failed', reason: 'unknown_type' });
  });

  describe('text types, when the rules allow them', () => {
    it.each(['text/plain', 'text/csv'])('passes %s that is UTF-8 text', (type) => {
      // Arrange
      const text = input({
        declaredType: type,
        contentType: type,
        declaredSize: '10',
        actualSize: 10,
        sniffed: { text: true },
      });

      // Act
      const verdict = decideVerdict(text, textRules);

      // Assert
      expect(verdict).toEqual({ status: 'passed', detectedType: 'text/plain' });
    });

    it('passes a CSV declared text/csv, detected as text/plain, which confirms it', () => {
      // Arrange
      const csv = input({
        declaredType: 'text/csv',
        contentType: 'text/csv',
        declaredSize: '40',
        actualSize: 40,
        sniffed: { text: true },
      });

      // Act
      const verdict = decideVerdict(csv, textRules);

      // Assert
      expect(verdict).toEqual({ status: 'passed', detectedType: 'text/plain' });
    });

    it('fails not_text when the bytes are not UTF-8 text', () => {
      // Arrange
      const text = input({
        declaredType: 'text/plain',
        contentType: 'text/plain',
        declaredSize: '10',
        actualSize: 10,
        sniffed: { text: false },
      });

      // Act
      const verdict = decideVerdict(text, textRules);

      // Assert
      expect(verdict).toEqual({ status: 'failed', reason: 'not_text' });
    });

    it('fails type_mismatch when file-type finds a binary type in declared text', () => {
      // Arrange
      const text = input({
        declaredType: 'text/csv',
        contentType: 'text/csv',
        declaredSize: '10',
        actualSize: 10,
        sniffed: { detectedType: 'application/pdf', text: false },
      });

      // Act
      const verdict = decideVerdict(text, textRules);

      // Assert
      expect(verdict).toEqual({ status: 'failed', reason: 'type_mismatch', detectedType: 'application/pdf' });
    });

    it('does not accept text for a binary type even where text types are allowed', () => {
      // Act
      const verdict = decideVerdict(
        input({ declaredSize: '100', actualSize: 100, sniffed: { text: true } }),
        textRules,
      );

      // Assert
      expect(verdict).toEqual({ status: 'failed', reason: 'unknown_type' });
    });
  });
});
