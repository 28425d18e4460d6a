import contentDisposition from 'content-disposition';
import { mayServeInline, mediaType } from '../core/media-types.js';

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
 * The name a download is saved under ends in an extension of the type it was
 * validated as (`invoice.exe` served as image/png saves as
 * `invoice.exe.png`), so the saved file opens as what was checked.
 */
function withTypeExtension(name: string, contentType: string): string {
  const extensions = mediaType(contentType)?.extensions;
  if (!extensions || extensions.some((extension) => name.toLowerCase().endsWith(extension))) return name;
  return `${name}${extensions[0]}`;
}

/**
 * How a file of `contentType` is served when `requested`: `inline` only for
 * the types the media catalogue lets a browser show (raster images); every
 * other type is an attachment whatever the caller asks, so the browser saves
 * it rather than rendering it on the bucket's origin.
 */
export const servedDisposition = (requested: Disposition, contentType: string): Disposition =>
  requested === 'inline' && mayServeInline(contentType) ? 'inline' : 'attachment';

/**
 * An RFC 6266 `Content-Disposition` value for serving `filename` of type
 * `contentType` as an attachment or, for an image, inline
 * ({@link servedDisposition}): an ASCII `filename="…"` fallback and, whenever
 * that differs from the real name, `filename*=UTF-8''…` carrying it exactly.
 * Any directory part is dropped, the extension matches the type; CR, LF and
 * `;` can never break out of the value.
 */
export function dispositionHeader(filename: string, requested: Disposition, contentType: string): string {
  const name = withTypeExtension(filename.split('/').pop() || DEFAULT_FILENAME, contentType);
  return contentDisposition(name, {
    type: servedDisposition(requested, contentType),
    fallback: asciiFallback(name),
  });
}
