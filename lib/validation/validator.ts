import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { uploadRules } from '../config/env.js';
import { logger } from '../core/logger.js';
import { countMetric } from '../core/metrics.js';
import { META, TAG } from '../store/file-metadata.js';
import { parseObjectKey, UPLOADS_PREFIX } from '../store/object-key.js';
import { bucket, s3 } from '../store/s3-client.js';
import { mergeValidationTags } from '../store/validation-tags.js';
import { parseS3Event, type S3ObjectRecord } from './s3-event.js';
import { quoteETag, sniffObject } from './sniff-type.js';
import { decideVerdict, type Verdict } from './verdict.js';

/** Records validated at once within one invocation. */
export const VALIDATION_CONCURRENCY = 4;

/** Why a record was left alone. */
export type SkipReason =
  /** Not an object-created event for an API upload in this bucket. */
  | 'ignored'
  /** The object already carries a passed or failed verdict (a redelivered event). */
  | 'already_decided'
  /** The object at the key was replaced since the event (ETag differs: 412). */
  | 'stale'
  /** The object was deleted before it could be validated (404). */
  | 'vanished';

export type RecordOutcome =
  | ({ key: string; status: 'passed' | 'failed' } & Omit<Verdict, 'status'>)
  | { key: string; status: 'skipped'; skip: SkipReason };

const skipped = (key: string, skip: SkipReason): RecordOutcome => ({ key, status: 'skipped', skip });

function httpStatusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** 404 and 412 are outcomes of a race with the uploader, not failures: anything else is. */
function skipFor(error: unknown): SkipReason | undefined {
  const status = httpStatusOf(error);
  return status === 404 ? 'vanished' : status === 412 ? 'stale' : undefined;
}

function isUploadRecord(record: S3ObjectRecord): boolean {
  return (
    record.eventName.startsWith('ObjectCreated:') &&
    record.bucket === bucket &&
    parseObjectKey(record.key) !== undefined
  );
}

async function judge(record: S3ObjectRecord): Promise<RecordOutcome> {
  const { key, versionId } = record;
  const version = versionId ? { VersionId: versionId } : {};
  // If-Match on the event's ETag: a 412 means the key holds a newer object, whose own event judges it.
  const [head, tagging] = await Promise.all([
    s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ...version,
        ...(record.eTag ? { IfMatch: quoteETag(record.eTag) } : {}),
      }),
    ),
    s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...version })),
  ]);
  const existing = tagging.TagSet ?? [];
  const tagValue = (name: string) => existing.find((tag) => tag.Key === name)?.Value;
  const eTag = head.ETag ?? record.eTag ?? '';
  // Decided only if the verdict is about these very bytes: a form posted again
  // lands new bytes at the same key, and they are judged anew.
  const decided = tagValue(TAG.status) === 'passed' || tagValue(TAG.status) === 'failed';
  if (decided && tagValue(TAG.validatedEtag) === eTag.replaceAll('"', ''))
    return skipped(key, 'already_decided');

  const actualSize = head.ContentLength ?? 0;
  const sniffed = await sniffObject({ key, ...version, ...(eTag ? { eTag } : {}) }, actualSize);
  const metadata = head.Metadata ?? {};
  const verdict = decideVerdict(
    {
      declaredType: metadata[META.declaredType],
      declaredSize: metadata[META.declaredSize],
      contentType: head.ContentType,
      actualSize,
      sniffed,
    },
    uploadRules,
  );
  const { tagSet, dropped } = mergeValidationTags(existing, verdict, eTag);
  if (dropped.length > 0) logger.warn('tag limit reached: dropping tags', { key, dropped });
  await s3.send(
    new PutObjectTaggingCommand({ Bucket: bucket, Key: key, ...version, Tagging: { TagSet: tagSet } }),
  );
  return { key, ...verdict };
}

/**
 * Validates the object of one S3 event record and tags the verdict on it:
 * HEAD (conditioned on the event's ETag), the current tags, a ranged read of
 * the first bytes, {@link decideVerdict}, PutObjectTagging keeping other tags.
 * Skips records that are not API uploads, objects already decided, replaced
 * (412) or deleted (404). Any other S3 error is thrown.
 */
export async function validateRecord(record: S3ObjectRecord): Promise<RecordOutcome> {
  const { key } = record;
  if (!isUploadRecord(record)) {
    logger.info('ignoring record', {
      key,
      eventName: record.eventName,
      underUploads: key.startsWith(UPLOADS_PREFIX),
    });
    return skipped(key, 'ignored');
  }
  let outcome: RecordOutcome;
  try {
    outcome = await judge(record);
  } catch (error) {
    const skip = skipFor(error);
    if (!skip) throw error;
    outcome = skipped(key, skip);
  }
  if (outcome.status === 'skipped') {
    logger.info('validation skipped', { key, skip: outcome.skip, eTag: record.eTag });
  } else {
    logger.info('upload validated', {
      key,
      status: outcome.status,
      reason: outcome.reason,
      detectedType: outcome.detectedType,
    });
    if (outcome.status === 'passed') countMetric('validationPassed');
    else countMetric('validationFailed', { reason: outcome.reason ?? 'unknown' });
  }
  return outcome;
}

/**
 * Validates every object record of an S3 event, {@link VALIDATION_CONCURRENCY}
 * at a time. One record's failure does not stop the others; once all were
 * attempted, any unexpected error is rethrown (an `AggregateError`) so the
 * invocation fails and Lambda retries it: decided objects are then skipped.
 */
export async function validateUploadEvent(event: unknown): Promise<RecordOutcome[]> {
  const records = parseS3Event(event);
  const limit = pLimit(VALIDATION_CONCURRENCY);
  const settled = await Promise.allSettled(records.map((record) => limit(() => validateRecord(record))));
  const outcomes: RecordOutcome[] = [];
  const errors: unknown[] = [];
  settled.forEach((result, index) => {
    if (result.status === 'fulfilled') {
      outcomes.push(result.value);
      return;
    }
    errors.push(result.reason);
    logger.error('validation error', { key: records[index]?.key, error: result.reason as Error });
  });
  if (errors.length > 0) {
    throw new AggregateError(errors, `${errors.length} of ${records.length} records could not be validated`);
  }
  return outcomes;
}
