import { hasControlCharacters } from './text.js';

/** How the validator confirms that bytes are of a declared type. */
export type Confirmation =
  /** Magic bytes that file-type detects. */
  | 'magic-bytes'
  /** No magic bytes: the sampled first bytes must be UTF-8 text with no NUL byte. */
  | 'text';

/** The type the validator records for bytes it confirmed as text (file-type names no text type). */
export const TEXT_DETECTED_TYPE = 'text/plain';

/** What the product knows of one content type. */
export interface MediaType {
  /** Extensions a saved download ends in; the first is added when a filename has none of them. */
  readonly extensions: readonly string[];
  readonly confirmedBy: Confirmation;
  /**
   * The detected types that confirm bytes declared as this type: what
   * file-type reports for it (`image/png` ← `image/png`, `image/apng`: an
   * animated PNG is a PNG), or {@link TEXT_DETECTED_TYPE} for text. A file
   * that passed with one of them is served as its declared type.
   */
  readonly confirmingTypes: readonly string[];
  /**
   * Whether a download may be shown in the browser (`inline`) when the caller
   * asks: raster images only, which a browser displays and never runs.
   * Everything else is always served as an attachment.
   */
  readonly inline: boolean;
  /** Maximum bytes when the deployment configures no upload rules; absent: not allowed by default. */
  readonly defaultMaxBytes?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A raster image confirmed by the magic bytes file-type reports as `detected`. */
const image = (extensions: readonly string[], detected: readonly string[], defaultMaxBytes?: number) => ({
  extensions,
  confirmedBy: 'magic-bytes' as const,
  confirmingTypes: detected,
  inline: true,
  ...(defaultMaxBytes === undefined ? {} : { defaultMaxBytes }),
});

/** Text with no magic bytes, confirmed by the text check, always an attachment. */
const text = (extensions: readonly string[]) => ({
  extensions,
  confirmedBy: 'text' as const,
  confirmingTypes: [TEXT_DETECTED_TYPE],
  inline: false,
});

/**
 * The one catalogue of content types: how each is confirmed, which detected
 * types confirm it, which extensions name it, whether it may be shown inline,
 * and which are allowed by default (the common web images up to 10 MiB, PDF
 * up to 25 MiB, MP4 video up to 5 GiB: all with magic bytes, so the validator can confirm the real
 * type of every default upload). A type the rules allow outside the catalogue
 * is confirmed only by file-type detecting exactly it, is served as an
 * attachment and has no extension of its own.
 */
export const MEDIA_TYPES: Readonly<Record<string, MediaType>> = Object.freeze({
  'image/png': image(['.png'], ['image/png', 'image/apng'], 10 * MiB),
  'image/jpeg': image(['.jpg', '.jpeg'], ['image/jpeg'], 10 * MiB),
  'image/gif': image(['.gif'], ['image/gif'], 10 * MiB),
  'image/webp': image(['.webp'], ['image/webp'], 10 * MiB),
  'image/avif': image(['.avif'], ['image/avif']),
  'image/bmp': image(['.bmp'], ['image/bmp']),
  'image/tiff': image(['.tif', '.tiff'], ['image/tiff']),
  // A PDF may carry JavaScript that a browser's viewer runs: never inline.
  'application/pdf': {
    extensions: ['.pdf'],
    confirmedBy: 'magic-bytes',
    confirmingTypes: ['application/pdf'],
    inline: false,
    defaultMaxBytes: 25 * MiB,
  },
  // Large files by nature: above 100 MiB clients upload them in parts (POST /uploads/multipart).
  'video/mp4': {
    extensions: ['.mp4', '.m4v'],
    confirmedBy: 'magic-bytes',
    confirmingTypes: ['video/mp4'],
    inline: false,
    defaultMaxBytes: 5 * GiB,
  },
  'text/plain': text(['.txt']),
  'text/csv': text(['.csv']),
});

/** The catalogue's entry for a normalised content type, if it has one. */
export const mediaType = (contentType: string): MediaType | undefined =>
  Object.hasOwn(MEDIA_TYPES, contentType) ? MEDIA_TYPES[contentType] : undefined;

/** Whether a declared type has no magic bytes and is confirmed as text. */
export const isTextType = (contentType: string): boolean => mediaType(contentType)?.confirmedBy === 'text';

/**
 * How bytes declared as `contentType` are confirmed, and which detected types
 * confirm them. A type outside the catalogue is confirmed by magic bytes of
 * exactly that type.
 */
export function confirmationOf(contentType: string): {
  confirmedBy: Confirmation;
  confirmingTypes: readonly string[];
} {
  const entry = mediaType(contentType);
  return entry
    ? { confirmedBy: entry.confirmedBy, confirmingTypes: entry.confirmingTypes }
    : { confirmedBy: 'magic-bytes', confirmingTypes: [contentType] };
}

/** Whether a detected type confirms the declared one (`image/apng` confirms `image/png`). */
export const confirms = (declaredType: string, detectedType: string): boolean =>
  confirmationOf(declaredType).confirmingTypes.includes(detectedType);

/** Whether a file of this type may be shown inline when asked: only catalogue types marked so. */
export const mayServeInline = (contentType: string): boolean => mediaType(contentType)?.inline === true;

/** JavaScript in every spelling a browser accepts as a script type. */
const JAVASCRIPT_TYPES: ReadonlySet<string> = new Set([
  'application/ecmascript',
  'application/javascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
]);

/** Other types a browser runs or renders as an active document, by what it does with them. */
const OTHER_ACTIVE_TYPES: Readonly<Record<string, string>> = Object.freeze({
  'text/html': 'an HTML document, whose scripts run',
  'text/xsl': 'an XSLT stylesheet, which transforms a document into HTML',
  'multipart/x-mixed-replace': 'a stream of documents, each rendered by its own type, HTML included',
  'application/x-shockwave-flash': 'a Flash movie, which runs ActionScript',
  'application/futuresplash': 'a Flash movie, which runs ActionScript',
  'application/vnd.adobe.flash.movie': 'a Flash movie, which runs ActionScript',
  'text/vbscript': 'VBScript, which Internet Explorer runs',
  'text/x-component': 'an HTML component, whose scripts Internet Explorer runs',
  'application/hta': 'an HTML application, which Windows runs with full rights',
});

/**
 * Why a browser would execute content of this type (a normalised type), or
 * `undefined` if it would not. Refused in the upload rules whatever their
 * size: served from the bucket's origin, such a file would run there.
 *
 * - HTML (`text/html`);
 * - every XML type (`text/xml`, `application/xml`, any `…+xml`: XHTML, SVG,
 *   XSLT, RSS, MathML…), which browsers render as documents that may embed
 *   XHTML and its scripts, or transform with XSLT (`text/xsl`);
 * - JavaScript in all its spellings;
 * - Flash, VBScript, HTML components and applications, and
 *   `multipart/x-mixed-replace`, which renders its parts as their own types.
 *
 * PDF, which a browser's viewer may also script, stays allowed: it is
 * confirmed by its magic bytes and always served as an attachment.
 */
export function browserExecutes(contentType: string): string | undefined {
  if (JAVASCRIPT_TYPES.has(contentType)) return 'JavaScript, which a browser runs';
  if (contentType === 'text/xml' || contentType === 'application/xml' || contentType.endsWith('+xml')) {
    return 'an XML document, which a browser renders and which may carry scripts (XHTML, SVG) or XSLT';
  }
  return Object.hasOwn(OTHER_ACTIVE_TYPES, contentType) ? OTHER_ACTIVE_TYPES[contentType] : undefined;
}

/** The default upload rules: every catalogue type with a default maximum. */
export const DEFAULT_UPLOAD_RULES: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    Object.entries(MEDIA_TYPES).flatMap(([type, { defaultMaxBytes }]) =>
      defaultMaxBytes === undefined ? [] : [[type, defaultMaxBytes]],
    ),
  ),
);

/** A lowercase `type/subtype` as RFC 6838 allows it, without parameters. */
export const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

/**
 * Normalises a content type the way browsers send it: case-insensitive, with
 * parameters (`; charset=…`) and surrounding spaces dropped. `undefined` when
 * it is not a well-formed `type/subtype` or holds any control character (a
 * disguise such as `image/png\r\n…`).
 */
export function normalizeContentType(raw: string): string | undefined {
  if (hasControlCharacters(raw)) return undefined;
  const essence = raw.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPE_PATTERN.test(essence) ? essence : undefined;
}
