import { describe, expect, it } from 'vitest';
import { parseUploadRules } from '../../../lib/config/upload-rules.js';
import { DEFAULT_UPLOAD_RULES } from '../../../lib/core/media-types.js';

describe('parseUploadRules', () => {
  it('takes the catalogue defaults when nothing is configured', () => {
    // Act
    const rules = parseUploadRules(undefined);

    // Assert
    expect(Object.fromEntries(rules)).toEqual(DEFAULT_UPLOAD_RULES);
  });

  it('takes configured types, text types and types outside the catalogue included', () => {
    // Act
    const rules = parseUploadRules({ 'text/csv': 2048, 'image/png': 4096, 'application/zip': 8192 });

    // Assert
    expect(Object.fromEntries(rules)).toEqual({
      'text/csv': 2048,
      'image/png': 4096,
      'application/zip': 8192,
    });
  });

  it('takes a maximum up to 5 TiB: above 5 GiB such files arrive as multipart uploads', () => {
    // Act
    const rules = parseUploadRules({ 'video/mp4': 5 * 1024 ** 4 });

    // Assert
    expect(rules.get('video/mp4')).toBe(5 * 1024 ** 4);
  });

  it.each([
    'text/html',
    'application/xhtml+xml',
    'application/xml',
    'text/xml',
    'image/svg+xml',
    'application/rss+xml',
    'text/xsl',
    'application/javascript',
    'text/javascript',
    'application/x-javascript',
    'text/ecmascript',
    'text/javascript1.3',
    'text/jscript',
    'application/x-shockwave-flash',
    'multipart/x-mixed-replace',
  ])('refuses %s, naming it, even beside allowed types', (type) => {
    // Act
    const parse = () => parseUploadRules({ 'image/png': 4096, [type]: 1024 });

    // Assert
    expect(parse).toThrow(/^invalid UPLOAD_RULES: /);
    expect(parse).toThrow(`${type} is refused: a browser would execute it`);
  });

  it('names every refused type at once', () => {
    // Act
    const parse = () => parseUploadRules({ 'text/html': 1, 'image/png': 2, 'image/svg+xml': 3 });

    // Assert
    expect(parse).toThrow(/text\/html is refused: .*; image\/svg\+xml is refused: /);
  });

  it.each([
    ['an empty map', {}, 'no content type allowed'],
    ['an uppercase type', { 'Image/PNG': 1 }, 'Image/PNG'],
    ['a zero size', { 'image/png': 0 }, 'image/png'],
    ['a size over 5 TiB, the largest object S3 stores', { 'video/mp4': 5 * 1024 ** 4 + 1 }, 'video/mp4'],
  ])('refuses %s', (_, configured, message) => {
    expect(() => parseUploadRules(configured)).toThrow(message);
  });
});
