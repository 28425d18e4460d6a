import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { logger } from '../core/logger.js';

/** Powertools' schema of one record of an S3 event notification, as AWS delivers it. */
const S3RecordSchema = S3Schema.shape.Records.element;

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

/**
 * Decodes a key the way S3 encodes it in event notifications: form-style URL
 * encoding, `+` for a space and `%2B` for a literal plus. `undefined` when
 * the percent-encoding is malformed.
 */
export function decodeS3EventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function toObjectRecord(raw: unknown): S3ObjectRecord | undefined {
  const parsed = S3RecordSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { eventName, s3 } = parsed.data;
  const key = decodeS3EventKey(s3.object.key);
  if (key === undefined || eventName.length === 0) return undefined;
  const { size, eTag, versionId, sequencer } = s3.object;
  return {
    eventName,
    bucket: s3.bucket.name,
    key,
    size: size !== undefined && Number.isSafeInteger(size) ? size : 0,
    ...(eTag ? { eTag } : {}),
    ...(versionId ? { versionId } : {}),
    ...(sequencer ? { sequencer } : {}),
  };
}

/**
 * Reads the object records of an S3 event notification (`{ Records: [...] }`)
 * with Powertools' S3 schema, one record at a time: a record that is not an
 * S3 record (another event source, no key, a malformed key encoding) is logged
 * and left out, and the others are kept. Never throws.
 */
export function parseS3Event(event: unknown): S3ObjectRecord[] {
  const records = (event as { Records?: unknown } | null | undefined)?.Records;
  if (!Array.isArray(records)) return [];
  const parsed: S3ObjectRecord[] = [];
  records.forEach((raw, index) => {
    const record = toObjectRecord(raw);
    if (record) parsed.push(record);
    else logger.warn('ignoring a record that is not an S3 object record', { index });
  });
  return parsed;
}

/** One message of a queue batch: its id (what a partial batch failure names) and the S3 records its body carries. */
export interface QueuedS3Message {
  messageId: string;
  records: S3ObjectRecord[];
}

/**
 * Reads an SQS batch whose messages carry S3 event notifications (the
 * bucket notifies the queue, the queue invokes the validator), with
 * Powertools' SQS schema: `undefined` unless every record is an SQS message.
 * A body that is no S3 event (S3's own `s3:TestEvent`, anything malformed)
 * yields no records, and its message succeeds. Never throws.
 */
export function parseQueueEvent(event: unknown): QueuedS3Message[] | undefined {
  const parsed = SqsSchema.safeParse(event);
  if (!parsed.success || parsed.data.Records.length === 0) return undefined;
  return parsed.data.Records.map((message) => {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      body = undefined;
    }
    return { messageId: message.messageId, records: parseS3Event(body) };
  });
}
