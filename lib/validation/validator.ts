import pLimit from 'p-limit';
import type { UploadRules } from '../config/upload-rules.js';
import type { Clock } from '../core/clock.js';
import { ApiError } from '../core/errors.js';
import {
  checksFinal,
  combineChecks,
  type GuardDutyScanResult,
  type MalwareScanMode,
} from '../core/file-checks.js';
import { logger } from '../core/logger.js';
import { countMetric } from '../core/metrics.js';
import { settleVerdict } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore, UploadSnapshot } from '../store/file-store.js';
import { fileChecks, withScanResult } from '../store/object-encoding.js';
import { parseObjectKey, UPLOADS_PREFIX } from '../store/object-key.js';
import { classifyS3Error } from '../store/s3-errors.js';
import { fileValidatedEvent, type WebhookMessage, webhookId } from '../webhooks/file-validated-event.js';
import type { WebhookHandoff } from '../webhooks/webhook-handoff.js';
import { parseS3Event, type S3ObjectRecord } from './s3-event.js';
import { parseScanResultEvent, type ScanResult } from './scan-result-event.js';
import { sniffObject } from './sniff-type.js';
import { decideVerdict, type Verdict } from './verdict.js';

/** What the validator works with: the file store and the upload rules in force. */
export interface ValidatorDependencies {
  store: Pick<
    FileStore,
    | 'bucket'
    | 'readUpload'
    | 'readLeadingBytes'
    | 'recordVerdict'
    | 'recordScanResult'
    | 'indexFile'
    | 'changeUsage'
    | 'uploadLanded'
  >;
  rules: UploadRules;
  /** The limits in force: a verdict settles the file's reservation in its owner's usage. */
  limits: LimitSettings;
  /** What webhooks and the owner's usage are dated by. */
  clock: Clock;
  /**
   * Hands each verdict on a file to the webhook deliverer without waiting for
   * the receiver; absent when no webhook URL is configured (nothing is sent).
   */
  handOffWebhook?: WebhookHandoff;
  /**
   * `guardduty`: GuardDuty's scan result is a second check. The validator
   * then also takes GuardDuty's scan-result events, restores GuardDuty's tag
   * where another writer's read-modify-write lost it, and sends a file's
   * webhook once both verdicts are in (default `none`).
   */
  malwareScan?: MalwareScanMode;
}

/** Records validated at once within one invocation. */
export const VALIDATION_CONCURRENCY = 4;

/** Why a record was left alone. */
export type SkipReason =
  /** Not an object-created event for an API upload in this bucket. */
  | 'ignored'
  /** The object already carries a passed or failed verdict (a redelivered event). */
  | 'already_decided'
  /** The event's ETag is not its version's (412): an event older than what S3 holds. */
  | 'stale'
  /** The object was deleted before it could be validated (404). */
  | 'vanished'
  /** Its key holds more versions than the validator lists: none of them is ever served. */
  | 'too_many_versions';

export type RecordOutcome =
  | ({ key: string; status: 'passed' | 'failed' } & Omit<Verdict, 'status'>)
  | { key: string; status: 'skipped'; skip: SkipReason };

const skipped = (key: string, skip: SkipReason): RecordOutcome => ({ key, status: 'skipped', skip });

/** A record's outcome, and the webhook its verdict sends, if any. */
interface Judgment {
  outcome: RecordOutcome;
  webhook?: WebhookMessage;
}

/** What a file's upload pinned, as the file index lists it and its webhook carries it. */
interface DescribedFile {
  segment: string;
  fileId: string;
  filename: string;
  /** The declared type (else the object's Content-Type). */
  contentType: string;
  size: number;
  clientMetadata: UploadSnapshot['clientMetadata'];
}

/** Describes the file at `key` (an upload key: {@link isUploadRecord} checked it) from its snapshot. */
function describeFile(key: string, upload: UploadSnapshot): DescribedFile {
  const { segment, fileId } = parseObjectKey(key) as { segment: string; fileId: string };
  return {
    segment,
    fileId,
    filename: upload.filename ?? fileId,
    contentType: upload.declaredType ?? upload.contentType ?? 'application/octet-stream',
    size: upload.size,
    clientMetadata: upload.clientMetadata,
  };
}

/**
 * The `file.validated` webhook of a verdict on a file (the first version of
 * `key`), once every enabled check on it is final: its status and reason are
 * the checks' combined ones, so each run that sees the final verdict sends
 * the same webhook id.
 */
function verdictWebhook(
  bucket: string,
  key: string,
  versionId: string,
  file: DescribedFile,
  verdict: { status: 'pending' | Verdict['status']; reason?: string; detectedType?: string },
  malware: Pick<ReturnType<typeof fileChecks>, 'malware'>,
  at: Date,
): WebhookMessage | undefined {
  const checks = { content: verdict.status, malware: malware.malware };
  if (!checksFinal(checks)) return undefined;
  const combined = combineChecks(checks, verdict.reason);
  if (combined.status === 'pending') return undefined;
  const { status, reason } = combined;
  const { detectedType } = verdict;
  return {
    id: webhookId({ bucket, key, versionId, status, reason }),
    event: fileValidatedEvent(
      {
        fileId: file.fileId,
        status,
        reason,
        detectedType,
        size: file.size,
        contentType: file.contentType,
        filename: file.filename,
        clientMetadata: file.clientMetadata ?? undefined,
      },
      at,
    ),
  };
}

/** A missing object and a replaced one are outcomes of a race with the uploader, not failures: anything else is. */
function skipFor(error: unknown): SkipReason | undefined {
  if (error instanceof ApiError && error.code === 'not_validated') return 'too_many_versions';
  const kind = classifyS3Error(error);
  return kind === 'missing' ? 'vanished' : kind === 'replaced' ? 'stale' : undefined;
}

/** Settles the reservation of the file at `key` (an upload key) on its verdict, while limits are set. */
async function settle(
  dependencies: Pick<ValidatorDependencies, 'store' | 'limits' | 'clock'>,
  key: string,
  status: Verdict['status'],
): Promise<void> {
  if (!limitsSet(dependencies.limits)) return;
  const { segment, fileId } = parseObjectKey(key) as { segment: string; fileId: string };
  await settleVerdict(dependencies, { segment }, fileId, status);
}

function isUploadRecord(record: S3ObjectRecord, bucket: string): boolean {
  return (
    record.eventName.startsWith('ObjectCreated:') &&
    record.bucket === bucket &&
    parseObjectKey(record.key) !== undefined
  );
}

async function judge(
  { store, rules, limits, clock, malwareScan = 'none' }: ValidatorDependencies,
  record: S3ObjectRecord,
  scanResult?: GuardDutyScanResult,
): Promise<Judgment> {
  const { key } = record;
  // The malware check as this run knows it: the version's tag, or the scan result it was invoked with.
  const malwareOf = (upload: UploadSnapshot, content: Verdict['status'] | 'pending') =>
    fileChecks(malwareScan, content, withScanResult(upload.tags, scanResult));
  const ref = {
    key,
    ...(record.versionId ? { versionId: record.versionId } : {}),
    ...(record.eTag ? { eTag: record.eTag } : {}),
  };
  // Pinned to one version (the event's, or the newest unjudged one with its ETag): the verdict is about those bytes.
  const upload = await store.readUpload(ref);
  // Decided only by a verdict the validator itself signed for this very version:
  // a tag anyone else wrote (the upload role's own credentials can tag) is no verdict.
  if (upload.verdict.status !== 'pending') {
    // A redelivered event: its verdict's webhook goes again, with the same id (the first handoff may
    // not have happened), so the receiver gets every verdict at least once.
    const { status, reason, detectedType } = upload.verdict;
    // GuardDuty's result on a version whose tag another writer's read-modify-write lost: put back.
    if (scanResult) await store.recordScanResult({ key, versionId: upload.versionId }, upload, scanResult);
    // Settled again, which changes nothing once done: the first try may have failed after tagging.
    if (upload.isFirstVersion) await settle({ store, limits, clock }, key, status);
    const again = upload.isFirstVersion
      ? verdictWebhook(
          store.bucket,
          key,
          upload.versionId,
          describeFile(key, upload),
          {
            status,
            reason,
            detectedType,
          },
          malwareOf(upload, status),
          clock(),
        )
      : undefined;
    return { outcome: skipped(key, 'already_decided'), ...(again ? { webhook: again } : {}) };
  }
  // A file is the first version under its key: bytes posted again with the same form are never served.
  const judged = { key, versionId: upload.versionId, eTag: upload.eTag };
  if (!upload.isFirstVersion) {
    // Not a verdict on the file (that is its first version's): no webhook.
    const replaced: Verdict = { status: 'failed', reason: 'replaced' };
    await store.recordVerdict(judged, upload, replaced);
    return { outcome: { key, ...replaced } };
  }

  // Listed from now on (GET /files), pending until the verdict below lands.
  const file = describeFile(key, upload);
  await store.indexFile({ segment: file.segment }, file.fileId, {
    filename: file.filename,
    contentType: file.contentType,
    size: file.size,
    uploadedAt: (upload.lastModified ?? clock()).toISOString(),
    clientMetadata: file.clientMetadata,
  });

  const sniffed = await sniffObject((limit) => store.readLeadingBytes(judged, limit), upload.size);
  const verdict = decideVerdict(
    {
      declaredType: upload.declaredType,
      declaredSize: upload.declaredSize,
      contentType: upload.contentType,
      actualSize: upload.size,
      sniffed,
    },
    rules,
  );
  const dropped = await store.recordVerdict(judged, upload, verdict, scanResult);
  // After the tags: a delete that reads the file meanwhile sees the verdict its bytes move by.
  await settle({ store, limits, clock }, key, verdict.status);
  if (dropped.length > 0) logger.warn('tag limit reached: dropping tags', { key, dropped });
  const webhook = verdictWebhook(
    store.bucket,
    key,
    upload.versionId,
    file,
    verdict,
    malwareOf(upload, verdict.status),
    clock(),
  );
  return { outcome: { key, ...verdict }, ...(webhook ? { webhook } : {}) };
}

/**
 * Validates the version of one S3 event record and tags a signed verdict on
 * exactly that version: HEAD (conditioned on the event's ETag), its tags and
 * the key's versions, a ranged read of the first bytes, {@link decideVerdict},
 * PutObjectTagging keeping other tags. A version that is not the key's first
 * fails `replaced` unread. Skips records that are not API uploads, versions
 * already decided by a signed verdict, stale events (412) and deleted objects
 * (404). Any other S3 error is thrown.
 */
export async function validateRecord(
  dependencies: ValidatorDependencies,
  record: S3ObjectRecord,
  scanResult?: GuardDutyScanResult,
): Promise<RecordOutcome> {
  const { key } = record;
  if (!scanResult && !isUploadRecord(record, dependencies.store.bucket)) {
    logger.info('ignoring record', {
      key,
      eventName: record.eventName,
      underUploads: key.startsWith(UPLOADS_PREFIX),
    });
    return skipped(key, 'ignored');
  }
  let judgment: Judgment;
  try {
    judgment = await judge(dependencies, record, scanResult);
  } catch (error) {
    const skip = skipFor(error);
    if (!skip) throw error;
    judgment = { outcome: skipped(key, skip) };
  }
  const { outcome, webhook } = judgment;
  // After the verdict is recorded, and outside the S3 error reading above: a handoff that fails
  // fails the invocation, whose retry finds the verdict recorded and hands its webhook off again.
  if (webhook && dependencies.handOffWebhook) await dependencies.handOffWebhook(webhook);
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
 * Takes GuardDuty's result on one version (its scan-result event) as the
 * version's malware check: judges the version as an S3 event would if its
 * content verdict is not there (not yet, or lost to GuardDuty's own
 * read-modify-write of the tags), writes GuardDuty's tag if it is missing,
 * and sends the webhook once both verdicts are in. Ignored unless the
 * deployment scans and the event is about an upload in this bucket.
 */
export async function validateScanResult(
  dependencies: ValidatorDependencies,
  scan: ScanResult,
): Promise<RecordOutcome> {
  const { bucket } = dependencies.store;
  if (dependencies.malwareScan !== 'guardduty' || scan.bucket !== bucket || !parseObjectKey(scan.key)) {
    logger.info('ignoring scan result', { key: scan.key, malwareScan: dependencies.malwareScan });
    return skipped(scan.key, 'ignored');
  }
  logger.info('malware scan result', { key: scan.key, versionId: scan.versionId, result: scan.result });
  if (scan.result !== 'NO_THREATS_FOUND') countMetric('malwareScanNotClean', { result: scan.result });
  const record: S3ObjectRecord = {
    eventName: 'GuardDutyScanResult',
    bucket,
    key: scan.key,
    size: 0,
    ...(scan.versionId ? { versionId: scan.versionId } : {}),
    ...(scan.eTag ? { eTag: scan.eTag } : {}),
  };
  return validateRecord(dependencies, record, scan.result);
}

/**
 * Validates every object record of an S3 event, {@link VALIDATION_CONCURRENCY}
 * at a time. One record's failure does not stop the others; once all were
 * attempted, any unexpected error is rethrown (an `AggregateError`) so the
 * invocation fails and Lambda retries it: decided objects are then skipped.
 */
export async function validateUploadEvent(
  dependencies: ValidatorDependencies,
  event: unknown,
): Promise<RecordOutcome[]> {
  const scan = parseScanResultEvent(event);
  if (scan) return [await validateScanResult(dependencies, scan)];
  const records = parseS3Event(event);
  const limit = pLimit(VALIDATION_CONCURRENCY);
  const settled = await Promise.allSettled(
    records.map((record) => limit(() => validateRecord(dependencies, record))),
  );
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
