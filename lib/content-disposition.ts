import contentDisposition from 'content-disposition';

export type Disposition = 'attachment' | 'inline';

/** What replaces a filename that has no usable base name (`""`, `"/"`). */
const DEFAULT_FILENAME = 'download';

/**
 * A plain-ASCII stand-in for `filename=`: accents dropped, and anything outside
 * printable ASCII, plus `"`, `\` and `%` (which old clients mishandle inside
 * quoted strings), replaced with `_`.
 */
function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]|["\\%]/gu, '_');
}

/**
 * An RFC 6266 `Content-Disposition` value for serving `filename` as an
 * attachment or inline: an ASCII `filename="…"` fallback and, whenever that
 * differs from the real name, `filename*=UTF-8''…` carrying it exactly. Any
 * directory part is dropped; CR, LF and `;` can never break out of the value.
 */
export function dispositionHeader(filename: string, disposition: Disposition): string {
  const name = filename.split('/').pop() || DEFAULT_FILENAME;
  return contentDisposition(name, { type: disposition, fallback: asciiFallback(name) });
}
