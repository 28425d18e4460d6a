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
