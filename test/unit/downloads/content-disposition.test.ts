import contentDisposition from 'content-disposition';
import { describe, expect, it } from 'vitest';
import { dispositionHeader, servedDisposition } from '../../../lib/downloads/content-disposition.js';

/** What a compliant client reads back: the type and the (extended, if present) filename. */
const parsed = (header: string) => contentDisposition.parse(header);

/** The plain `filename="…"` fallback as a legacy client sees it (quoted string, unescaped). */
function fallbackOf(header: string): string | undefined {
  const match = /(?:^|; )filename="((?:[^"\\]|\\.)*)"/.exec(header);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/** A type with no extension of its own: the name is served as given. */
const ANY_TYPE = 'application/octet-stream';

describe('dispositionHeader', () => {
  it.each([
    ['invoice.exe', 'image/png', 'invoice.exe.png'],
    ['photo.JPEG', 'image/jpeg', 'photo.JPEG'],
    ['photo.jpg', 'image/jpeg', 'photo.jpg'],
    ['scan', 'application/pdf', 'scan.pdf'],
    ['archive.zip', 'image/gif', 'archive.zip.gif'],
  ])('saves %j validated as %s under a name with its extension (%j)', (name, type, saved) => {
    expect(parsed(dispositionHeader(name, 'attachment', type)).parameters.filename).toBe(saved);
  });

  it('serves a plain ASCII name as a bare quoted filename', () => {
    // Act
    const header = dispositionHeader('cat.png', 'attachment', ANY_TYPE);

    // Assert
    expect(header).toBe('attachment; filename="cat.png"');
  });

  it('chooses inline or attachment for an image', () => {
    // Act
    const inline = dispositionHeader('photo.png', 'inline', 'image/png');
    const attachment = dispositionHeader('photo.png', 'attachment', 'image/png');

    // Assert
    expect(parsed(inline).type).toBe('inline');
    expect(parsed(attachment).type).toBe('attachment');
  });

  it.each([
    'application/pdf',
    'text/plain',
    'text/csv',
    'application/zip',
    ANY_TYPE,
    'image/svg+xml',
    'text/html',
  ])('serves %s as an attachment even when inline is asked', (type) => {
    // Act
    const header = dispositionHeader('report', 'inline', type);

    // Assert
    expect(parsed(header).type).toBe('attachment');
    expect(header).toMatch(/^attachment; /);
  });

  it('carries a unicode name exactly in filename* with an ASCII fallback', () => {
    // Arrange
    const name = 'Résumé 履歴書 🐱.pdf';

    // Act
    const header = dispositionHeader(name, 'attachment', ANY_TYPE);

    // Assert
    expect(header).toContain("filename*=UTF-8''R%C3%A9sum%C3%A9%20");
    expect(parsed(header).parameters.filename).toBe(name);
    expect(fallbackOf(header)).toBe('Resume ___ _.pdf');
    expect(header).toMatch(/^[\x20-\x7e]+$/);
  });

  it('keeps double quotes and backslashes out of the fallback but exact in filename*', () => {
    // Arrange
    const name = 'say "hi"\\there.png';

    // Act
    const header = dispositionHeader(name, 'attachment', ANY_TYPE);

    // Assert
    expect(fallbackOf(header)).toBe('say _hi__there.png');
    expect(parsed(header).parameters.filename).toBe(name);
  });

  it('cannot be split by CR/LF: no raw control characters reach the header', () => {
    // Arrange
    const name = 'evil\r\nSet-Cookie: a=b.png';

    // Act
    const header = dispositionHeader(name, 'attachment', ANY_TYPE);

    // Assert
    expect(header).not.toMatch(/[\r\n\0]/);
    expect(fallbackOf(header)).toBe('evil__Set-Cookie: a=b.png');
    expect(parsed(header).parameters.filename).toBe(name);
  });

  it('cannot gain parameters from a ";" in the name', () => {
    // Arrange
    const name = 'a.png; filename=b.exe';

    // Act
    const header = dispositionHeader(name, 'attachment', ANY_TYPE);

    // Assert
    expect(Object.keys(parsed(header).parameters)).toEqual(['filename']);
    expect(parsed(header).parameters.filename).toBe(name);
    expect(header).toBe('attachment; filename="a.png; filename=b.exe"');
  });

  it('does not let a percent sequence be mistaken for an encoding', () => {
    // Act
    const header = dispositionHeader('100%41.txt', 'attachment', ANY_TYPE);

    // Assert
    expect(fallbackOf(header)).toBe('100_41.txt');
    expect(parsed(header).parameters.filename).toBe('100%41.txt');
  });

  it('drops any directory part and never yields an empty name', () => {
    // Act
    const nested = dispositionHeader('../../etc/passwd', 'attachment', ANY_TYPE);
    const bare = dispositionHeader('dir/', 'attachment', ANY_TYPE);

    // Assert
    expect(parsed(nested).parameters.filename).toBe('passwd');
    expect(parsed(bare).parameters.filename).toBe('download');
  });
});

describe('servedDisposition', () => {
  it.each(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])('keeps inline for %s', (type) => {
    expect(servedDisposition('inline', type)).toBe('inline');
    expect(servedDisposition('attachment', type)).toBe('attachment');
  });

  it.each([
    'application/pdf',
    'text/csv',
    'text/plain',
    'application/zip',
    'image/svg+xml',
    'image/x-unknown',
  ])('forces attachment for %s', (type) => {
    expect(servedDisposition('inline', type)).toBe('attachment');
    expect(servedDisposition('attachment', type)).toBe('attachment');
  });
});
