/**
 * Names of what an upload carries besides its bytes. User metadata is pinned
 * by the presigned POST policy; tags record the validator's verdict.
 */
export const META = Object.freeze({
  /** Original filename, percent-encoded (S3 metadata must be ASCII). */
  filename: 'filename',
  /** The JWT `sub` of the uploader, percent-encoded. */
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
  /** Share links carry the epoch they were issued in; bumping it revokes them. */
  shareEpoch: 'share-epoch',
});

export type ValidationStatus = 'pending' | 'passed' | 'failed';

/** The tagging document the POST policy pins: every upload lands pending. */
export const PENDING_TAGGING = `<Tagging><TagSet><Tag><Key>${TAG.status}</Key><Value>pending</Value></Tag></TagSet></Tagging>`;

/** Percent-encodes text for an S3 metadata value (ASCII only). */
export const encodeMetaValue = (text: string): string => encodeURIComponent(text);

/** Reverses {@link encodeMetaValue}; tolerates a value that is not encoded. */
export function decodeMetaValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
