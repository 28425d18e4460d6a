import { hasControlCharacters } from './text.js';

/** How the validator confirms that bytes are of a declared type. */
export type Confirmation =
  /** Magic bytes that file-type detects. */
  | 'magic-bytes'
  /** No magic bytes: the sampled first bytes must be UTF-8 text with no NUL byte. */
  | 'text';

/** What the product knows of one content type. */
export interface MediaType {
  /** Extensions a saved download ends in; the first is added when a filename has none of them. */
  readonly extensions: readonly string[];
  readonly confirmedBy: Confirmation;
  /** Maximum bytes when the deployment configures no upload rules; absent: not allowed by default. */
  readonly defaultMaxBytes?: number;
}

const MiB = 1024 * 1024;

/**
 * The one catalogue of content types: how each is confirmed, which extensions
 * name it, and which are allowed by default (the common web images up to
 * 10 MiB, PDF up to 25 MiB: all with magic bytes, so the validator can confirm
 * the real type of every default upload).
 */
export const MEDIA_TYPES: Readonly<Record<string, MediaType>> = Object.freeze({
  'image/png': { extensions: ['.png'], confirmedBy: 'magic-bytes', defaultMaxBytes: 10 * MiB },
  'image/jpeg': { extensions: ['.jpg', '.jpeg'], confirmedBy: 'magic-bytes', defaultMaxBytes: 10 * MiB },
  'image/gif': { extensions: ['.gif'], confirmedBy: 'magic-bytes', defaultMaxBytes: 10 * MiB },
  'image/webp': { extensions: ['.webp'], confirmedBy: 'magic-bytes', defaultMaxBytes: 10 * MiB },
  'application/pdf': { extensions: ['.pdf'], confirmedBy: 'magic-bytes', defaultMaxBytes: 25 * MiB },
  'text/plain': { extensions: ['.txt'], confirmedBy: 'text' },
  'text/csv': { extensions: ['.csv'], confirmedBy: 'text' },
});

/** The catalogue's entry for a normalised content type, if it has one. */
export const mediaType = (contentType: string): MediaType | undefined =>
  Object.hasOwn(MEDIA_TYPES, contentType) ? MEDIA_TYPES[contentType] : undefined;

/** Whether a declared type has no magic bytes and is confirmed as text. */
export const isTextType = (contentType: string): boolean => mediaType(contentType)?.confirmedBy === 'text';

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
