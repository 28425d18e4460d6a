import { browserExecutes, DEFAULT_UPLOAD_RULES, MEDIA_TYPE_PATTERN } from '../core/media-types.js';
import { OBJECT_MAX_BYTES } from '../core/object-limits.js';
import * as z from '../core/zod.js';

/** Allowed content types, each with its maximum size in bytes. */
export type UploadRules = ReadonlyMap<string, number>;

const rulesSchema = z.record(
  z.string().check(z.regex(MEDIA_TYPE_PATTERN, 'must be a lowercase type/subtype')),
  // Above 5 GiB a file can only arrive as a multipart upload: S3 stores at most 5 TiB.
  z.number().check(z.int(), z.positive(), z.maximum(OBJECT_MAX_BYTES)),
);

/**
 * Builds the rules from configuration (`UPLOAD_RULES`, a JSON map of type to
 * bytes) or the catalogue's defaults. Throws at cold start when the
 * configuration is invalid, or allows a type a browser would execute (the
 * catalogue's {@link browserExecutes}), naming each such type and why.
 */
export function parseUploadRules(configured: unknown): UploadRules {
  const parsed = rulesSchema.safeParse(configured ?? DEFAULT_UPLOAD_RULES);
  if (!parsed.success) {
    throw new Error(
      `invalid UPLOAD_RULES: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  const types = Object.keys(parsed.data);
  if (types.length === 0) throw new Error('invalid UPLOAD_RULES: no content type allowed');
  const refused = types.flatMap((type) => {
    const why = browserExecutes(type);
    return why === undefined ? [] : [`${type} is refused: a browser would execute it (${why})`];
  });
  if (refused.length > 0) throw new Error(`invalid UPLOAD_RULES: ${refused.join('; ')}`);
  return new Map(Object.entries(parsed.data));
}
