import * as z from 'zod';

/** Allowed content types, each with its maximum size in bytes. */
export type UploadRules = ReadonlyMap<string, number>;

const MiB = 1024 * 1024;

/**
 * What a typical web app accepts: the common web images (PNG, JPEG, GIF,
 * WebP) up to 10 MiB and PDF documents up to 25 MiB. All of them carry magic
 * bytes, so the validator can confirm the real type of every upload.
 */
export const DEFAULT_UPLOAD_RULES: Readonly<Record<string, number>> = Object.freeze({
  'image/png': 10 * MiB,
  'image/jpeg': 10 * MiB,
  'image/gif': 10 * MiB,
  'image/webp': 10 * MiB,
  'application/pdf': 25 * MiB,
});

/** A single presigned POST can carry at most 5 GiB. */
const POST_OBJECT_LIMIT = 5 * 1024 * MiB;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

const rulesSchema = z.record(
  z.string().regex(MEDIA_TYPE, 'must be a lowercase type/subtype'),
  z.number().int().positive().max(POST_OBJECT_LIMIT),
);

/**
 * Builds the rules from configuration (`UPLOAD_RULES`, a JSON map of type to
 * bytes) or the defaults. Throws at cold start when the configuration is invalid.
 */
export function parseUploadRules(configured: unknown): UploadRules {
  const parsed = rulesSchema.safeParse(configured ?? DEFAULT_UPLOAD_RULES);
  if (!parsed.success) {
    throw new Error(
      `invalid UPLOAD_RULES: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  if (Object.keys(parsed.data).length === 0) throw new Error('invalid UPLOAD_RULES: no content type allowed');
  return new Map(Object.entries(parsed.data));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Normalises a content type the way browsers send it: case-insensitive, with
 * parameters (`; charset=…`) and surrounding spaces dropped. `undefined` when
 * it is not a well-formed `type/subtype` or holds any control character (a
 * disguise such as `image/png\r\n…`).
 */
export function normalizeContentType(raw: string): string | undefined {
  if (CONTROL_CHARACTERS.test(raw)) return undefined;
  const essence = raw.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPE.test(essence) ? essence : undefined;
}
