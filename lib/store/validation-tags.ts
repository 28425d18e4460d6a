import type { Tag } from '@aws-sdk/client-s3';
import type { Verdict } from '../validation/verdict.js';
import { TAG } from './file-metadata.js';

/** S3's object tag limits. */
export const TAG_LIMITS = Object.freeze({ maxTags: 10, maxKeyLength: 128, maxValueLength: 256 });

/** Characters S3 allows in tag keys and values besides letters, digits and spaces. */
const DISALLOWED = /[^\p{L}\p{N}\p{Zs}+\-=._:/@]/gu;

/** Makes text a valid tag value: disallowed characters become `_`, cut at 256 characters. */
export function toTagValue(text: string): string {
  return [...text.replace(DISALLOWED, '_')].slice(0, TAG_LIMITS.maxValueLength).join('');
}

const VALIDATION_KEYS: ReadonlySet<string> = new Set([
  TAG.status,
  TAG.validatedEtag,
  TAG.reason,
  TAG.detectedType,
]);

export interface MergedTags {
  tagSet: Tag[];
  /** Keys of existing tags that did not fit (only possible on an object with 10 foreign tags). */
  dropped: string[];
}

/**
 * The object's new tag set: every existing tag kept as is, its previous
 * validation tags replaced by the verdict's on the bytes with `eTag`. Within
 * S3's limit of 10 tags the status and the validated ETag always win a place,
 * existing tags come next, then `validation-reason`, then `detected-type`;
 * whatever does not fit is dropped and reported.
 */
export function mergeValidationTags(existing: readonly Tag[], verdict: Verdict, eTag: string): MergedTags {
  const others = existing.filter((tag) => tag.Key !== undefined && !VALIDATION_KEYS.has(tag.Key));
  const status: Tag[] = [
    { Key: TAG.status, Value: verdict.status },
    { Key: TAG.validatedEtag, Value: toTagValue(eTag.replaceAll('"', '')) },
  ];
  const extras: Tag[] = [
    ...(verdict.status === 'failed' && verdict.reason ? [{ Key: TAG.reason, Value: verdict.reason }] : []),
    ...(verdict.detectedType ? [{ Key: TAG.detectedType, Value: toTagValue(verdict.detectedType) }] : []),
  ];
  const room = TAG_LIMITS.maxTags - status.length;
  const kept = others.slice(0, room);
  const dropped = others.slice(room).map((tag) => tag.Key ?? '');
  const tagSet = [...status, ...kept, ...extras.slice(0, room - kept.length)];
  return { tagSet, dropped };
}
