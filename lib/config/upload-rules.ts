import * as z from 'zod';
import { DEFAULT_UPLOAD_RULES, MEDIA_TYPE_PATTERN } from '../core/media-types.js';

/** Allowed content types, each with its maximum size in bytes. */
export type UploadRules = ReadonlyMap<string, number>;

/** A single presigned POST can carry at most 5 GiB. */
const POST_OBJECT_LIMIT = 5 * 1024 * 1024 * 1024;

const rulesSchema = z.record(
  z.string().regex(MEDIA_TYPE_PATTERN, 'must be a lowercase type/subtype'),
  z.number().int().positive().max(POST_OBJECT_LIMIT),
);

/**
 * Builds the rules from configuration (`UPLOAD_RULES`, a JSON map of type to
 * bytes) or the catalogue's defaults. Throws at cold start when the
 * configuration is invalid.
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
