import { logger } from '../core/logger.js';

/** One object-created record of an S3 event notification, its key decoded. */
export interface S3ObjectRecord {
  /** e.g. `ObjectCreated:Post`, without the `s3:` prefix, as S3 sends it. */
  eventName: string;
  bucket: string;
  /** The object key, decoded from the notification's URL encoding. */
  key: string;
  size: number;
  /** The object's ETag as the event reports it (no quotes); absent on some sources. */
  eTag?: string;
  /** Present when the bucket is versioned: pins every read and the tagging to this version. */
  versionId?: string;
  /** Orders events for one key (hex, compare as equal-length strings). */
  sequencer?: string;
}

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * Decodes a key the way S3 encodes it in event notifications: form-style URL
 * encoding, `+` for a space and `%2B` for a literal plus. `undefined` when the
 * percent-encoding is malformed.
 */
export function decodeS3EventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function parseRecord(raw: unknown): S3ObjectRecord | undefined {
  const record = asObject(raw);
  const s3 = asObject(record?.s3);
  const object = asObject(s3?.object);
  const eventName = asString(record?.eventName);
  const bucket = asString(asObject(s3?.bucket)?.name);
  const encodedKey = asString(object?.key);
  if (!record || !object || !eventName || !bucket || encodedKey === undefined) return undefined;
  const key = decodeS3EventKey(encodedKey);
  if (key === undefined) return undefined;
  const size = typeof object.size === 'number' && Number.isSafeInteger(object.size) ? object.size : 0;
  const eTag = asString(object.eTag);
  const versionId = asString(object.versionId);
  const sequencer = asString(object.sequencer);
  return {
    eventName,
    bucket,
    key,
    size,
    ...(eTag ? { eTag } : {}),
    ...(versionId ? { versionId } : {}),
    ...(sequencer ? { sequencer } : {}),
  };
}

/**
 * Reads the object records of an S3 event notification (`{ Records: [...] }`).
 * Records that are not S3 object records (another event source, no key, a
 * malformed encoding) are logged and left out; it never throws.
 */
export function parseS3Event(event: unknown): S3ObjectRecord[] {
  const records = asObject(event)?.Records;
  if (!Array.isArray(records)) return [];
  const parsed: S3ObjectRecord[] = [];
  records.forEach((raw, index) => {
    const record = parseRecord(raw);
    if (record) parsed.push(record);
    else logger.warn('ignoring a record that is not an S3 object record', { index });
  });
  return parsed;
}
