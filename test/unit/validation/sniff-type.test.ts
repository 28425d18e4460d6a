import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createS3Client } from '../../../lib/store/s3-client.js';
import { looksLikeText, SNIFF_BYTES, sniffObject, sniffSample } from '../../../lib/validation/sniff-type.js';
import { unitStore } from '../../support/runtime.js';
import { APNG_1x1, CSV_TABLE } from '../../support/sample-files.js';

/** Real, complete minimal files (each opens and renders in ordinary viewers). */
const FILES = {
  'image/png': Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
  'image/gif': Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
  'image/webp': Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64'),
  // JFIF APP0 segment, then end of image: the SOI/APP0 header is what identifies a JPEG.
  'image/jpeg': Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'),
  'application/pdf': Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'),
} as const;

const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');

const s3 = createS3Client({ region: 'us-east-1' });
const store = unitStore(s3);
/** Reads the leading bytes of `uploads/k` through the store, as the validator does. */
const leadingBytesOfK = (limit: number) => store.readLeadingBytes({ key: 'uploads/k' }, limit);

type Send = MockInstance<(command: object) => Promise<unknown>>;
const spySend = () => vi.spyOn(s3, 'send') as unknown as Send;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('sniffSample', () => {
  it.each(Object.entries(FILES))('detects %s from its magic bytes', async (mime, bytes) => {
    // Act
    const sniffed = await sniffSample(bytes, true);

    // Assert
    expect(sniffed).toEqual({ detectedType: mime, text: false });
  });

  it('detects an animated PNG as image/apng (which the catalogue lets confirm image/png)', async () => {
    // Act
    const sniffed = await sniffSample(APNG_1x1, true);

    // Assert
    expect(sniffed).toEqual({ detectedType: 'image/apng', text: false });
  });

  it('detects nothing in a CSV, which is text', async () => {
    // Act
    const sniffed = await sniffSample(CSV_TABLE, true);

    // Assert
    expect(sniffed).toEqual({ text: true });
  });

  it('detects nothing in HTML, which is text', async () => {
    // Act
    const sniffed = await sniffSample(HTML, true);

    // Assert
    expect(sniffed).toEqual({ text: true });
  });

  it('detects nothing and no text in random binary bytes', async () => {
    // Arrange
    const bytes = Buffer.from([0x00, 0x13, 0x37, 0xc0, 0xff, 0xee, 0x00, 0x42]);

    // Act
    const sniffed = await sniffSample(bytes, true);

    // Assert
    expect(sniffed).toEqual({ text: false });
  });

  it('treats an empty sample as not text', async () => {
    // Act / Assert
    expect(await sniffSample(new Uint8Array(0), true)).toEqual({ text: false });
  });
});

describe('looksLikeText', () => {
  it('accepts UTF-8 text with multi-byte characters', () => {
    // Act / Assert
    expect(looksLikeText(Buffer.from('name,city\nZoë,Zürich\n李,北京 ✓\n'), true)).toBe(true);
  });

  it('refuses a NUL byte', () => {
    // Act / Assert
    expect(looksLikeText(Buffer.from('abc\u0000def'), true)).toBe(false);
  });

  it('refuses bytes that are not UTF-8', () => {
    // Arrange: Latin-1 "café" (0xE9 alone is not UTF-8), then a lone continuation byte.
    const latin1 = Buffer.from('caf\xe9 au lait', 'latin1');
    const stray = Buffer.from([0x61, 0x80, 0x62]);

    // Act / Assert
    expect(looksLikeText(latin1, false)).toBe(false);
    expect(looksLikeText(stray, false)).toBe(false);
  });

  it('accepts a multi-byte sequence cut at the end of a partial sample only', () => {
    // Arrange: "✓" is E2 9C 93; the sample ends after its first two bytes.
    const cut = Buffer.concat([Buffer.from('ok '), Buffer.from([0xe2, 0x9c])]);

    // Act / Assert
    expect(looksLikeText(cut, false)).toBe(true);
    expect(looksLikeText(cut, true)).toBe(false);
  });

  it('refuses a cut sequence in the middle of the sample', () => {
    // Arrange
    const bytes = Buffer.concat([Buffer.from('a'), Buffer.from([0xe2, 0x9c]), Buffer.from('b')]);

    // Act / Assert
    expect(looksLikeText(bytes, false)).toBe(false);
  });
});

describe('sniffObject', () => {
  it('does not read an empty object', async () => {
    // Arrange
    const send = spySend();

    // Act
    const sniffed = await sniffObject(leadingBytesOfK, 0);

    // Assert
    expect(sniffed).toEqual({ text: false });
    expect(send).not.toHaveBeenCalled();
  });

  it('accepts text cut mid-character when the object is larger than the sample', async () => {
    // Arrange: 4099 ASCII bytes then the first byte of "é" (C3 A9) at offset 4099.
    const sample = Buffer.concat([Buffer.alloc(SNIFF_BYTES - 1, 0x61), Buffer.from([0xc3])]);
    spySend().mockResolvedValue({ Body: Readable.from([sample]) });

    // Act
    const partial = await sniffObject(leadingBytesOfK, SNIFF_BYTES + 1);

    // Assert
    expect(partial).toEqual({ text: true });
  });

  it('refuses text cut mid-character when the sample is the whole object', async () => {
    // Arrange
    const whole = Buffer.concat([Buffer.from('abc'), Buffer.from([0xc3])]);
    spySend().mockResolvedValue({ Body: Readable.from([whole]) });

    // Act
    const sniffed = await sniffObject(leadingBytesOfK, whole.length);

    // Assert
    expect(sniffed).toEqual({ text: false });
  });
});
