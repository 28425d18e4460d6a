import type { Tag } from '@aws-sdk/client-s3';
import type { ClientMetadata } from '../core/client-metadata.js';
import { invalidRequest } from '../core/errors.js';
import {
  type FileChecks,
  GUARDDUTY_SCAN_TAG,
  type GuardDutyScanResult,
  type MalwareScanMode,
  malwareCheckOf,
} from '../core/file-checks.js';

/**
 * Names of what an upload carries besides its bytes. User metadata is pinned
 * by the presigned POST policy; tags record the validator's verdict.
 */
export const META = Object.freeze({
  /** Original filename, base64url of its UTF-8 (S3 metadata must be ASCII). */
  filename: 'filename',
  /** The uploader's owner segment (a hash of the JWT `sub`, never the `sub` itself). */
  owner: 'owner',
  /** The content type declared when the upload URL was issued. */
  declaredType: 'declared-type',
  /** The size in bytes declared when the upload URL was issued. */
  declaredSize: 'declared-size',
  /** The uploader's own JSON object (`clientMetadata`), base64url of its JSON. */
  clientMetadata: 'client-metadata',
});

/** S3's limit on user metadata: the UTF-8 bytes of every `x-amz-meta-` name and value, summed. */
export const USER_METADATA_MAX_BYTES = 2048;

/** What an upload pins as user metadata, whether posted as a form or started as a multipart upload. */
export interface UploadMetadata {
  filename: string;
  ownerSegment: string;
  contentType: string;
  size: number;
  clientMetadata?: ClientMetadata | undefined;
}

/**
 * The user metadata of a new upload, keyed by {@link META} names (without
 * `x-amz-meta-`). Throws 400 when it would exceed S3's 2 KB, which only a long
 * non-ASCII filename together with a large `clientMetadata` can reach.
 */
export function uploadMetadata(upload: UploadMetadata): Record<string, string> {
  const metadata: Record<string, string> = {
    [META.filename]: encodeMetaValue(upload.filename),
    [META.owner]: upload.ownerSegment,
    [META.declaredType]: upload.contentType,
    [META.declaredSize]: String(upload.size),
    ...(upload.clientMetadata
      ? { [META.clientMetadata]: encodeMetaValue(JSON.stringify(upload.clientMetadata)) }
      : {}),
  };
  const bytes = Object.entries(metadata).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(`x-amz-meta-${name}`) + Buffer.byteLength(value),
    0,
  );
  if (bytes > USER_METADATA_MAX_BYTES) {
    throw invalidRequest(
      `filename and clientMetadata together take ${bytes} bytes of S3 metadata, over its ${USER_METADATA_MAX_BYTES}`,
    );
  }
  return metadata;
}

/** The `clientMetadata` an upload pinned, or `null` when it pinned none (or none readable). */
export function clientMetadataOf(metadata: Record<string, string> | undefined): ClientMetadata | null {
  const encoded = metadata?.[META.clientMetadata];
  if (encoded === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(decodeMetaValue(encoded) ?? '');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as ClientMetadata)
      : null;
  } catch {
    return null;
  }
}

export const TAG = Object.freeze({
  status: 'validation-status',
  reason: 'validation-reason',
  detectedType: 'detected-type',
  /**
   * The ETag of the bytes the verdict is about (quotes dropped). A verdict
   * whose ETag is not the object's current one is no verdict: the key was
   * posted again since, and the new bytes are judged anew.
   */
  validatedEtag: 'validated-etag',
  /**
   * The validator's Ed25519 signature over the bucket, key, version, ETag and
   * verdict. A verdict without a valid one was not written by the validator
   * for this version, and is no verdict.
   */
  signature: 'verdict-signature',
});

export type ValidationStatus = 'pending' | 'passed' | 'failed';

/** The tagging document the POST policy pins: every upload lands pending. */
export const PENDING_TAGGING = `<Tagging><TagSet><Tag><Key>${TAG.status}</Key><Value>pending</Value></Tag></TagSet></Tagging>`;

/** The same tagging as `x-amz-tagging` takes it, on a server-started multipart upload. */
export const PENDING_TAG_QUERY = `${TAG.status}=pending`;

/**
 * Encodes text for an S3 metadata value: base64url of its UTF-8 bytes. ASCII,
 * and compact enough that a 255-character unicode filename (at most 1,020
 * bytes, 1,360 characters encoded) stays within S3's 2 KB of user metadata,
 * which percent-encoding (up to 3,060 characters) would not.
 */
export const encodeMetaValue = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** Reverses {@link encodeMetaValue}. */
export function decodeMetaValue(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'base64url').toString('utf8');
}

/** An ETag as the store compares and records it: without the quotes S3 puts around it in headers. */
export const unquotedETag = (eTag: string | undefined): string => (eTag ?? '').replaceAll('"', '');

/** An ETag as `If-Match` takes it: quoted (S3 event ETags come without quotes). */
export const quotedETag = (eTag: string): string => `"${unquotedETag(eTag)}"`;

/** The validator's verdict as the object's tags record it. */
export interface RecordedVerdict {
  status: ValidationStatus;
  reason?: string;
  detectedType?: string;
  /** The ETag (unquoted) of the bytes the verdict is about. */
  validatedEtag?: string;
  /** The validator's signature of the verdict, to be checked before it is trusted. */
  signature?: string;
}

const STATUSES: readonly ValidationStatus[] = ['pending', 'passed', 'failed'];

/** Reads the verdict from an object's tag set: `pending` when it carries none. */
export function verdictFromTags(tagSet: readonly Tag[] | undefined): RecordedVerdict {
  const tags = new Map((tagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  const value = (name: string) => tags.get(name) || undefined;
  const status = STATUSES.find((candidate) => candidate === tags.get(TAG.status)) ?? 'pending';
  const reason = value(TAG.reason);
  const detectedType = value(TAG.detectedType);
  const validatedEtag = value(TAG.validatedEtag);
  const signature = value(TAG.signature);
  return {
    status,
    ...(reason ? { reason } : {}),
    ...(detectedType ? { detectedType } : {}),
    ...(validatedEtag ? { validatedEtag } : {}),
    ...(signature ? { signature } : {}),
  };
}

/** S3's object tag limits. */
export const TAG_LIMITS = Object.freeze({ maxTags: 10, maxKeyLength: 128, maxValueLength: 256 });

/** Characters S3 allows in tag keys and values besides letters, digits and spaces. */
const DISALLOWED = /[^\p{L}\p{N}\p{Zs}+\-=._:/@]/gu;

/** Makes text a valid tag value: disallowed characters become `_`, cut at 256 characters. */
export function toTagValue(text: string): string {
  return [...text.replace(DISALLOWED, '_')].slice(0, TAG_LIMITS.maxValueLength).join('');
}

const VALIDATION_KEYS: ReadonlySet<string> = new Set(Object.values(TAG));

/** A verdict to record: passed, or failed with a reason; with the type the bytes turned out to be. */
export interface VerdictToRecord {
  status: 'passed' | 'failed';
  reason?: string;
  detectedType?: string;
  /** The validator's signature of it. */
  signature: string;
}

export interface MergedTags {
  tagSet: Tag[];
  /** Keys of existing tags that did not fit (only possible on an object with 10 foreign tags). */
  dropped: string[];
}

/**
 * The object's new tag set: every existing tag kept as is, its previous
 * validation tags replaced by the verdict's on the bytes with `eTag`. The
 * verdict's own tags always win their places within S3's limit of 10 (status,
 * validated ETag, signature, then `validation-reason` and `detected-type`,
 * which the signature covers: dropping one would void the verdict); existing
 * tags fill the rest, and whatever does not fit is dropped and reported.
 */
export function mergeValidationTags(
  existing: readonly Tag[],
  verdict: VerdictToRecord,
  eTag: string,
): MergedTags {
  // GuardDuty's verdict comes first among the others: a second check, never what is dropped.
  const others = existing
    .filter((tag) => tag.Key !== undefined && !VALIDATION_KEYS.has(tag.Key))
    .sort((a, b) => Number(b.Key === GUARDDUTY_SCAN_TAG) - Number(a.Key === GUARDDUTY_SCAN_TAG));
  const signed: Tag[] = [
    { Key: TAG.status, Value: verdict.status },
    { Key: TAG.validatedEtag, Value: toTagValue(unquotedETag(eTag)) },
    { Key: TAG.signature, Value: verdict.signature },
    ...(verdict.status === 'failed' && verdict.reason ? [{ Key: TAG.reason, Value: verdict.reason }] : []),
    ...(verdict.detectedType ? [{ Key: TAG.detectedType, Value: toTagValue(verdict.detectedType) }] : []),
  ];
  const room = TAG_LIMITS.maxTags - signed.length;
  const kept = others.slice(0, room);
  const dropped = others.slice(room).map((tag) => tag.Key ?? '');
  return { tagSet: [...signed, ...kept], dropped };
}

/**
 * Each check of a version from its trusted content verdict and its tags:
 * the malware check is GuardDuty's tag when the deployment scans, `off` when
 * it does not (the tag is then ignored).
 */
export function fileChecks(
  mode: MalwareScanMode,
  content: ValidationStatus,
  tagSet: readonly Tag[] | undefined,
): FileChecks {
  const scan = (tagSet ?? []).find((tag) => tag.Key === GUARDDUTY_SCAN_TAG)?.Value;
  return { content, malware: mode === 'guardduty' ? malwareCheckOf(scan) : 'off' };
}

/** A tag set with GuardDuty's result set as GuardDuty sets it (others kept); unchanged without one. */
export function withScanResult(tagSet: readonly Tag[], scanResult: GuardDutyScanResult | undefined): Tag[] {
  if (scanResult === undefined) return [...tagSet];
  return [
    ...tagSet.filter((tag) => tag.Key !== GUARDDUTY_SCAN_TAG),
    { Key: GUARDDUTY_SCAN_TAG, Value: scanResult },
  ];
}
