import { describe, expect, it } from 'vitest';
import {
  browserExecutes,
  confirmationOf,
  confirms,
  DEFAULT_UPLOAD_RULES,
  isTextType,
  MEDIA_TYPES,
  mayServeInline,
  mediaType,
  normalizeContentType,
  TEXT_DETECTED_TYPE,
} from '../../../lib/core/media-types.js';
import { hasControlCharacters } from '../../../lib/core/text.js';

const MiB = 1024 * 1024;

describe('the media-type catalogue', () => {
  it('allows by default the common web images up to 10 MiB, PDF up to 25 MiB and MP4 up to 5 GiB, nothing else', () => {
    expect(DEFAULT_UPLOAD_RULES).toEqual({
      'image/png': 10 * MiB,
      'image/jpeg': 10 * MiB,
      'image/gif': 10 * MiB,
      'image/webp': 10 * MiB,
      'application/pdf': 25 * MiB,
      'video/mp4': 5 * 1024 * MiB,
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

describe('how the catalogue confirms a declared type', () => {
  it.each([
    ['image/png', 'image/png'],
    ['image/png', 'image/apng'],
    ['image/jpeg', 'image/jpeg'],
    ['application/pdf', 'application/pdf'],
    ['text/plain', 'text/plain'],
    ['text/csv', 'text/plain'],
  ])('%s is confirmed by detected %s', (declared, detected) => {
    expect(confirms(declared, detected)).toBe(true);
  });

  it.each([
    ['image/png', 'image/jpeg'],
    ['image/apng', 'image/png'],
    ['image/jpeg', 'image/apng'],
    ['text/csv', 'text/csv'],
    ['text/csv', 'application/pdf'],
    ['application/pdf', 'text/plain'],
  ])('%s is not confirmed by detected %s', (declared, detected) => {
    expect(confirms(declared, detected)).toBe(false);
  });

  it('confirms a type outside the catalogue by magic bytes of exactly that type', () => {
    expect(confirmationOf('application/zip')).toEqual({
      confirmedBy: 'magic-bytes',
      confirmingTypes: ['application/zip'],
    });
    expect(confirms('application/zip', 'application/zip')).toBe(true);
    expect(confirms('application/zip', 'application/x-7z-compressed')).toBe(false);
  });

  it('confirms every text type by the text check alone, recorded as text/plain', () => {
    for (const [type, entry] of Object.entries(MEDIA_TYPES).filter(
      ([, entry]) => entry.confirmedBy === 'text',
    ))
      expect(entry.confirmingTypes, type).toEqual([TEXT_DETECTED_TYPE]);
  });

  it('lists each magic-bytes type among its own confirming types', () => {
    for (const [type, entry] of Object.entries(MEDIA_TYPES).filter(
      ([, e]) => e.confirmedBy === 'magic-bytes',
    ))
      expect(entry.confirmingTypes, type).toContain(type);
  });
});

describe('which types may be shown inline', () => {
  it.each(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/tiff'])(
    '%s, a raster image, may',
    (type) => {
      expect(mayServeInline(type)).toBe(true);
    },
  );

  it.each([
    'application/pdf',
    'text/plain',
    'text/csv',
    'application/zip',
    'application/octet-stream',
    'image/svg+xml',
    'image/x-unknown',
    'text/html',
  ])('%s may not: always an attachment', (type) => {
    expect(mayServeInline(type)).toBe(false);
  });

  it('marks inline only images', () => {
    for (const [type, entry] of Object.entries(MEDIA_TYPES))
      if (entry.inline) expect(type, type).toMatch(/^image\//);
  });
});

describe('types a browser would execute', () => {
  it.each([
    'text/html',
    'application/xhtml+xml',
    'application/xml',
    'text/xml',
    'image/svg+xml',
    'application/rss+xml',
    'application/atom+xml',
    'application/mathml+xml',
    'application/xslt+xml',
    'application/vnd.example+xml',
    'text/xsl',
    'application/javascript',
    'application/ecmascript',
    'application/x-javascript',
    'application/x-ecmascript',
    'text/javascript',
    'text/ecmascript',
    'text/javascript1.0',
    'text/javascript1.5',
    'text/jscript',
    'text/livescript',
    'text/x-javascript',
    'text/x-ecmascript',
    'application/x-shockwave-flash',
    'application/futuresplash',
    'application/vnd.adobe.flash.movie',
    'multipart/x-mixed-replace',
    'text/vbscript',
    'text/x-component',
    'application/hta',
  ])('%s is one, with a reason', (type) => {
    expect(browserExecutes(type)).toMatch(/\w{4,}/);
  });

  it.each([
    'image/png',
    'application/pdf',
    'text/plain',
    'text/csv',
    'application/json',
    'application/zip',
    'text/css',
    'application/xml-dtd',
    'application/octet-stream',
  ])('%s is not', (type) => {
    expect(browserExecutes(type)).toBeUndefined();
  });

  it('never lists one in the catalogue or the default rules', () => {
    expect(Object.keys(MEDIA_TYPES).filter((type) => browserExecutes(type) !== undefined)).toEqual([]);
    expect(Object.keys(DEFAULT_UPLOAD_RULES).filter((type) => browserExecutes(type) !== undefined)).toEqual(
      [],
    );
  });

  it('does not answer for properties every object has', () => {
    expect(browserExecutes('constructor')).toBeUndefined();
    expect(browserExecutes('__proto__')).toBeUndefined();
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
