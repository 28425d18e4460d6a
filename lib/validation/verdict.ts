import type { UploadRules } from '../config/upload-rules.js';
import {
  browserExecutes,
  confirmationOf,
  isTextType,
  normalizeContentType,
  TEXT_DETECTED_TYPE,
} from '../core/media-types.js';
import type { Sniffed } from './sniff-type.js';

/** Stable codes for `validation-reason`; the API reports them as `reason`. */
export type ValidationReason =
  /** `declared-type` or `declared-size` metadata is absent or malformed. */
  | 'missing_metadata'
  /** The declared type is not (or no longer) in the upload rules, or is one a browser would execute. */
  | 'type_not_allowed'
  /** The object is larger than its rule's maximum. */
  | 'too_large'
  /** The object's size differs from the declared size. */
  | 'size_mismatch'
  /** The bytes (or the object's Content-Type) are of another type than declared. */
  | 'type_mismatch'
  /** A type that needs magic bytes was declared, and none were recognised. */
  | 'unknown_type'
  /** A text type was declared, and the bytes are not UTF-8 text (invalid, or NUL bytes). */
  | 'not_text';

export interface Verdict {
  status: 'passed' | 'failed';
  reason?: ValidationReason;
  /**
   * What the bytes turned out to be: file-type's MIME type as it reports it
   * (`image/apng` for an animated PNG declared `image/png`), or `text/plain`
   * for text.
   */
  detectedType?: string;
}

export interface VerdictInput {
  /** `declared-type` metadata, as stored. */
  declaredType: string | undefined;
  /** `declared-size` metadata, as stored (decimal text). */
  declaredSize: string | undefined;
  /** The object's Content-Type; the POST policy pins it to the declared type. */
  contentType: string | undefined;
  /** The object's real size (HEAD Content-Length). */
  actualSize: number;
  sniffed: Sniffed;
}

const DECIMAL = /^[1-9][0-9]{0,15}$/;

function parseSize(text: string | undefined): number | undefined {
  const size = text !== undefined && DECIMAL.test(text) ? Number(text) : undefined;
  return size !== undefined && Number.isSafeInteger(size) ? size : undefined;
}

function detectedOf(sniffed: Sniffed, declaredType: string | undefined): string | undefined {
  if (sniffed.detectedType) return sniffed.detectedType;
  return declaredType && isTextType(declaredType) && sniffed.text ? TEXT_DETECTED_TYPE : undefined;
}

/**
 * The validator's decision table, pure. The first failing row decides:
 * metadata present → declared type allowed (in the rules, and never a type
 * the catalogue says a browser would execute) → size within the rule's maximum →
 * size as declared → Content-Type as declared → bytes of the declared type, as
 * the media catalogue confirms it: magic bytes file-type detects as one of the
 * type's confirming types (`image/png` or `image/apng` for `image/png`;
 * exactly the declared type for a type outside the catalogue), or, for the
 * types it confirms as text, UTF-8 text with no NUL byte and nothing binary
 * detected. Every other declared type without magic bytes fails `unknown_type`.
 */
export function decideVerdict(input: VerdictInput, rules: UploadRules): Verdict {
  const declaredType = input.declaredType ? normalizeContentType(input.declaredType) : undefined;
  const detectedType = detectedOf(input.sniffed, declaredType);
  const failed = (reason: ValidationReason): Verdict => ({
    status: 'failed',
    reason,
    ...(detectedType ? { detectedType } : {}),
  });

  const declaredSize = parseSize(input.declaredSize);
  if (!declaredType || declaredSize === undefined) return failed('missing_metadata');
  const maxBytes = rules.get(declaredType);
  if (maxBytes === undefined || browserExecutes(declaredType)) return failed('type_not_allowed');
  if (input.actualSize > maxBytes) return failed('too_large');
  if (input.actualSize !== declaredSize) return failed('size_mismatch');
  const contentType = input.contentType ? normalizeContentType(input.contentType) : undefined;
  if (input.contentType !== undefined && contentType !== declaredType) return failed('type_mismatch');

  const { confirmedBy, confirmingTypes } = confirmationOf(declaredType);
  const sniffed = input.sniffed.detectedType;
  if (sniffed) {
    return confirmedBy === 'magic-bytes' && confirmingTypes.includes(sniffed)
      ? { status: 'passed', detectedType: sniffed }
      : failed('type_mismatch');
  }
  if (confirmedBy === 'text') {
    return input.sniffed.text ? { status: 'passed', detectedType: TEXT_DETECTED_TYPE } : failed('not_text');
  }
  return failed('unknown_type');
}
