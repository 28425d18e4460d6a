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
});

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
});

export type ValidationStatus = 'pending' | 'passed' | 'failed';

/** The tagging document the POST policy pins: every upload lands pending. */
export const PENDING_TAGGING = `<Tagging><TagSet><Tag><Key>${TAG.status}</Key><Value>pending</Value></Tag></TagSet></Tagging>`;

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
