import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/** A real 1×1 PNG, as an encoder writes it. */
export const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** A PNG of exactly `size` bytes: a real image followed by trailing padding. */
export function pngOfSize(size: number): Buffer {
  if (size < PNG_1x1.length) throw new Error(`a PNG needs at least ${PNG_1x1.length} bytes`);
  return Buffer.concat([PNG_1x1, Buffer.alloc(size - PNG_1x1.length)]);
}

/** HTML that a browser would run, to be declared as an image. */
export const HTML_PAGE = Buffer.from(
  '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>',
);

/** One PNG chunk: length, type, data and the CRC-32 of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** The zlib stream of one 1×1 RGBA pixel: filter byte 0, then R, G, B, A. */
const pixel = (rgba: readonly [number, number, number, number]) => deflateSync(Buffer.from([0, ...rgba]));

/** A 4-byte big-endian APNG sequence number or count. */
const uint32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
};

/** An APNG frame control chunk's data for a full 1×1 frame shown for 1/2 s. */
function frameControl(sequence: number): Buffer {
  const data = Buffer.alloc(26);
  data.writeUInt32BE(sequence, 0);
  data.writeUInt32BE(1, 4); // width
  data.writeUInt32BE(1, 8); // height
  // x and y offsets (8 bytes) stay 0
  data.writeUInt16BE(1, 20); // delay numerator
  data.writeUInt16BE(2, 22); // delay denominator
  // dispose_op 0 (none), blend_op 0 (source)
  return data;
}

/**
 * A real animated PNG, 1×1, two frames (red, then blue), looping forever:
 * signature, IHDR, acTL, fcTL + IDAT (the default image is the first
 * frame), fcTL + fdAT, IEND, every CRC correct. file-type reports it as
 * `image/apng`; a viewer without APNG support shows the red PNG.
 */
export const APNG_1x1 = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  // width 1, height 1, bit depth 8, colour type 6 (RGBA), deflate, adaptive filtering, no interlace
  pngChunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0])),
  pngChunk('acTL', Buffer.concat([uint32(2), uint32(0)])), // 2 frames, 0 = loop forever
  pngChunk('fcTL', frameControl(0)),
  pngChunk('IDAT', pixel([255, 0, 0, 255])),
  pngChunk('fcTL', frameControl(1)),
  pngChunk('fdAT', Buffer.concat([uint32(2), pixel([0, 0, 255, 255])])),
  pngChunk('IEND', Buffer.alloc(0)),
]);

/** A small UTF-8 CSV, as a spreadsheet exports it. */
export const CSV_TABLE = Buffer.from('name,city,amount\nZoë,Zürich,12.50\n李,北京,7\n"Smith, J.",London,3\n');

/** A minimal real PDF (header, catalog, trailer, end marker). */
export const PDF_MINIMAL = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** An MP4 of `size` bytes (at least 32): an `ftyp` box (brand isom) that file-type reads as video/mp4, then random bytes. */
export function mp4OfSize(size: number): Buffer {
  const file = randomBytes(size);
  file.writeUInt32BE(32, 0);
  file.write('ftypisom', 4, 'latin1');
  file.writeUInt32BE(0x200, 12);
  file.write('isomiso2avc1mp41', 16, 'latin1');
  return file;
}
