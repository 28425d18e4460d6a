import { describe, expect, it } from 'vitest';
import {
  DEFAULT_UPLOAD_RULES,
  isTextType,
  MEDIA_TYPES,
  mediaType,
  normalizeContentType,
} from '../../../lib/core/media-types.js';
import { hasControlCharacters } from '../../../lib/core/text.js';

const MiB = 1024 * 1024;

describe('the media-type catalogue', () => {
  it('allows by default the common web images up to 10 MiB and PDF up to 25 MiB, nothing else', () => {
    expect(DEFAULT_UPLOAD_RULES).toEqual({
      'image/png': 10 * MiB,
      'image/jpeg': 10 * MiB,
      'image/gif': 10 * MiB,
      'image/webp': 10 * MiB,
      'application/pdf': 25 * MiB,
    });
  });

  it('confirms every default type by magic bytes, so every default upload has its real type checked', () => {
    for (const type of Object.keys(DEFAULT_UPLOAD_RULES))
      expect(mediaType(type)?.confirmedBy).toBe('magic-bytes');
  });

  it('confirms text/plain and text/csv as text, and nothing else', () => {
    const text = Object.keys(MEDIA_TYPES).filter(isTextType);
    expect(text.sort()).toEqual(['text/csv', 'text/plain']);
    expect(isTextType('text/html')).toBe(false);
  });

  it('names every type with at least one extension', () => {
    for (const [type, entry] of Object.entries(MEDIA_TYPES)) {
      expect(entry.extensions.length, type).toBeGreaterThan(0);
      for (const extension of entry.extensions) expect(extension).toMatch(/^\.[a-z0-9]+$/);
    }
  });

  it('does not answer for properties every object has', () => {
    expect(mediaType('constructor')).toBeUndefined();
    expect(mediaType('__proto__')).toBeUndefined();
  });
});

describe('normalizeContentType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['IMAGE/PNG', 'image/png'],
    [' image/png ; charset=binary', 'image/png'],
    [
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
  ])('reads %j as %j', (raw, expected) => {
    expect(normalizeContentType(raw)).toBe(expected);
  });

  it.each([
    'image',
    'image/',
    '/png',
    'image/png/x',
    'image/p ng',
    'image/png\r\nx-evil: 1',
    'image/png\u0085',
    '',
  ])('refuses %j', (raw) => {
    expect(normalizeContentType(raw)).toBeUndefined();
  });
});

describe('hasControlCharacters', () => {
  it.each(['\u0000', '\t', '\n', '\u001f', '\u007f', '\u0085', '\u009f'])('finds %j', (char) => {
    expect(hasControlCharacters(`a${char}b`)).toBe(true);
  });

  it.each(['cat.png', 'Résumé "final".pdf', '日本語 ✓', '\u00a0'])('finds none in %j', (text) => {
    expect(hasControlCharacters(text)).toBe(false);
  });
});
