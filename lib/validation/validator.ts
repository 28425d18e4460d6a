import type { Tag } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { UploadRules } from '../config/upload-rules.js';
import type { Clock } from '../core/clock.js';
import {
  checksFinal,
  combineChecks,
  GUARDDUTY_SCAN_RESULTS,
  GUARDDUTY_SCAN_TAG,
  type GuardDutyScanResult,
  type MalwareScanMode,
} from '../core/file-checks.js';
import { logger } from '../core/logger.js';
import { countMetric } from '../core/metrics.js';
import { type LimitsStore, settleVerdict } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore } from '../store/file-store.js';
import type { FileState, UploadSnapshot } from '../store/file-versions.js';
import { fileChecks, type RecordedVerdict, unquotedETag, withScanResult } from '../store/object-encoding.js';
import { parseObjectKey, UPLOADS_PREFIX } from '../store/object-key.js';
import { classifyS3Error } from '../store/s3-errors.js';
import { fileValidatedEvent, type WebhookMessage, webhookId } from '../webhooks/file-validated-event.js';
import type { WebhookHandoff } from '../webhooks/webhook-handoff.js';
import { parsePendingUploadsEvent } from './pending-uploads-event.js';
import { parseS3Event, type QueuedS3Message, type S3ObjectRecord } from './s3-event.js';
import { parseScanResultEvent, type ScanResult } from './scan-result-event.js';
import { SNIFF_BYTES, sniffSample } from './sniff-type.js';
import { decideVerdict, type Verdict } from './verdict.js';

/** What the validator works with: the file store and the upload rules in force. */
export interface ValidatorDependencies {
  store: Pick<
    FileStore,
    | 'bucket'
    | 'readFileState'
    | 'listKeyOnce'
    | 'currentVersion'
    | 'readVersionVerdict'
    | 'readUpload'
    | 'recordVerdict'
    | 'changeFileRecord'
    | 'recordScanResult'
    | 'recordDeleted'
    | 'deleteVersion'
    | 'clearPending'
  > &
    LimitsStore;
  rules: UploadRules;
  /** The limits in force: a verdict settles the file's reservation in its owner's usage. */
  limits: LimitSettings;
  /** What webhooks, the owner's usage and a file's landing time when S3 gives none are dated by. */
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

/** Keys whose records are validated at once within one invocation (a queue's batch holds up to 10). */
export const VALIDATION_CONCURRENCY = 10;

/** Why a record was left alone. */
export type SkipReason =
  /** Not an object-created event for an API upload in this bucket. */
  | 'ignored'
  /** The object already carries a passed or failed verdict (a redelivered event). */
  | 'already_decided'
  /** The event's ETag is not its version's (412): an event older than what S3 holds. */
  | 'stale'
  /** The object was deleted before it could be validated (404), or its file meanwhile. */
  | 'vanished'
  /**
   * A version posted over the file with its form (or under a deleted file's
   * key): never the file, so deleted on sight, unread.
   */
  | 'replaced';

export type RecordOutcome =
  | ({ key: string; status: 'passed' | 'failed' } & Omit<Verdict, 'status'>)
  | { key: string; status: 'skipped'; skip: SkipReason };

const skipped = (key: string, skip: SkipReason): RecordOutcome => ({ key, status: 'skipped', skip });

/** A record's outcome, and the webhook its verdict sends, if any. */
interface Judgment {
  outcome: RecordOutcome;
  webhook?: WebhookMessage;
  /** The file's record as read, when this record's judgment left it as it was (the next event of the key may reuse it). */
  state?: FileState;
  /** Another run judged the file and clears its pending marker: this one (a duplicate, a re-post's event) leaves it. */
  leavesMarker?: true;
}

/** What a file's upload pinned, as the file index lists it and its webhook carries it. */
interface DescribedFile {
  segment: string;
  fileId: string;
  filename: string;
  /** The declared type (else the object's Content-Type). */
  contentType: string;
  size: number;
  /** When the file landed, as the validator first saw it. */
  uploadedAt: string;
  clientMetadata: UploadSnapshot['clientMetadata'];
}

/** Describes the file at `key` (an upload key: {@link isUploadRecord} checked it) from its snapshot. */
function describeFile(key: string, upload: UploadSnapshot, now: Date): DescribedFile {
  const { segment, fileId } = parseObjectKey(key) as { segment: string; fileId: string };
  return {
    segment,
    fileId,
    filename: upload.filename ?? fileId,
    contentType: upload.declaredType ?? upload.contentType ?? 'application/octet-stream',
    size: upload.size,
    uploadedAt: (upload.lastModified ?? now).toISOString(),
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

/** The file's first version, as its record or the key's one listing names it. */
interface FirstVersion {
  versionId: string;
  eTag: string;
}

/** GuardDuty's result on the first version: the event's (when it names that version), else the version's tag. */
function scanResultOf(tags: readonly Tag[], scanResult: GuardDutyScanResult | undefined) {
  const tagged = tags.find((tag) => tag.Key === GUARDDUTY_SCAN_TAG)?.Value;
  const known = scanResult ?? tagged;
  return GUARDDUTY_SCAN_RESULTS.find((result) => result === known);
}

/**
 * Judges the file's first version, whose tags carry no verdict the validator
 * signed: sniffs its leading bytes, tags the signed verdict on it, records
 * the verdict in the file's record (created here when the validator sees the
 * file for the first time), settles its owner's usage and makes its webhook.
 * A file deleted meanwhile loses the version too, with no webhook.
 */
async function judgeFirst(
  { store, rules, limits, clock, malwareScan = 'none' }: ValidatorDependencies,
  record: S3ObjectRecord,
  upload: UploadSnapshot,
  state: FileState,
  scanResult: GuardDutyScanResult | undefined,
): Promise<Judgment> {
  const { key } = record;
  const judged = { key, versionId: upload.versionId, eTag: upload.eTag };
  const file = describeFile(key, upload, clock());
  const sniffed = await sniffSample(upload.sample, upload.sample.length >= upload.size);
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
  const { signed, dropped } = await store.recordVerdict(judged, upload, verdict, scanResult);
  if (dropped.length > 0) logger.warn('tag limit reached: dropping tags', { key, dropped });
  const malware = scanResultOf(upload.tags, scanResult);
  // After the tags: a reader that finds the verdict in the record finds the read gate open too.
  const recorded = await store.changeFileRecord(
    key,
    upload.versionId,
    (entry) => ({
      ...(entry ?? {
        filename: file.filename,
        contentType: file.contentType,
        size: file.size,
        uploadedAt: file.uploadedAt,
        clientMetadata: file.clientMetadata,
        versionId: upload.versionId,
        eTag: upload.eTag,
      }),
      verdict: signed,
      ...(malware ? { malware } : {}),
      ...(record.sequencer ? { judgedBy: record.sequencer } : {}),
    }),
    state,
  );
  if (recorded === 'deleted') {
    // DELETE /files came first: the bytes are no file any more.
    await store.deleteVersion(key, upload.versionId);
    return { outcome: skipped(key, 'vanished') };
  }
  if (recorded === 'other') return { outcome: skipped(key, 'stale') };
  // After the record: a delete that reads the file meanwhile sees the verdict its bytes move by.
  await settle({ store, limits, clock }, key, verdict.status);
  const webhook = verdictWebhook(
    store.bucket,
    key,
    upload.versionId,
    file,
    verdict,
    fileChecks(malwareScan, verdict.status, withScanResult(upload.tags, scanResult)),
    clock(),
  );
  return { outcome: { key, ...verdict }, ...(webhook ? { webhook } : {}) };
}

/**
 * The file's first version already carries the validator's signed verdict:
 * an event redelivered, or one that found the file judged. Keeps the record
 * equal to the tags (a run that failed between them left it behind), puts
 * back GuardDuty's tag where another writer's read-modify-write lost it, and,
 * when `again` (the event that judged the file, redelivered), settles and
 * hands the verdict's webhook off again, with the same id: the receiver gets
 * every verdict at least once.
 */
async function alreadyDecided(
  { store, limits, clock, malwareScan = 'none' }: ValidatorDependencies,
  record: S3ObjectRecord,
  first: FirstVersion,
  seen: { tags: Tag[]; verdict: RecordedVerdict },
  state: FileState,
  scanResult: GuardDutyScanResult | undefined,
  again: boolean,
  describe: () => Promise<DescribedFile>,
): Promise<Judgment> {
  const { key } = record;
  const { status, reason, detectedType, signature } = seen.verdict as RecordedVerdict & {
    status: Verdict['status'];
  };
  if (scanResult) await store.recordScanResult({ key, versionId: first.versionId }, seen, scanResult);
  const malware = scanResultOf(seen.tags, scanResult);
  const signed = {
    status,
    ...(reason ? { reason } : {}),
    ...(detectedType ? { detectedType } : {}),
    signature: signature ?? '',
  };
  let described: DescribedFile | undefined;
  if (state.kind === 'unseen') described = await describe();
  const recorded = await store.changeFileRecord(
    key,
    first.versionId,
    (entry) => ({
      ...(entry ?? {
        filename: described?.filename ?? '',
        contentType: described?.contentType ?? 'application/octet-stream',
        size: described?.size ?? 0,
        uploadedAt: described?.uploadedAt ?? clock().toISOString(),
        clientMetadata: described?.clientMetadata ?? null,
        versionId: first.versionId,
        eTag: first.eTag,
        ...(record.sequencer ? { judgedBy: record.sequencer } : {}),
      }),
      verdict: signed,
      ...(malware ? { malware } : {}),
    }),
    state,
  );
  if (recorded !== 'recorded' || !again)
    return { outcome: skipped(key, 'already_decided'), leavesMarker: true };
  // Settled again, which changes nothing once done: the first try may have failed after tagging.
  await settle({ store, limits, clock }, key, status);
  const webhook = verdictWebhook(
    store.bucket,
    key,
    first.versionId,
    described ?? (await describe()),
    { status, reason, detectedType },
    fileChecks(malwareScan, status, withScanResult(seen.tags, scanResult)),
    clock(),
  );
  return { outcome: skipped(key, 'already_decided'), ...(webhook ? { webhook } : {}) };
}

/** A file's description from its record (no S3 read), or from its first version when it has none yet. */
const describedFrom =
  (store: ValidatorDependencies['store'], key: string, first: FirstVersion, state: FileState, now: Date) =>
  async (): Promise<DescribedFile> => {
    if (state.kind === 'recorded') {
      const { entry } = state;
      return {
        ...(parseObjectKey(key) as { segment: string; fileId: string }),
        filename: entry.filename,
        contentType: entry.contentType,
        size: entry.size,
        uploadedAt: entry.uploadedAt,
        clientMetadata: entry.clientMetadata,
      };
    }
    return describeFile(key, await store.readUpload({ key, ...first }, 1, []), now);
  };

/**
 * Judges the file's first version for an event about it: its verdict, if its
 * tags carry one the validator signed, else a judgment of its bytes.
 * `again` says whether this event is the one that judged the file (the
 * webhook of a verdict already made goes again only for that one).
 */
async function judgeFileVersion(
  dependencies: ValidatorDependencies,
  record: S3ObjectRecord,
  first: FirstVersion,
  state: FileState,
  scanResult: GuardDutyScanResult | undefined,
  again: boolean,
): Promise<Judgment> {
  const { store } = dependencies;
  const { key } = record;
  if (state.kind === 'unseen') {
    // Read at once with the tags only if it has more than the pending one: one GET when it is new.
    const upload = await store.readUpload({ key, ...first }, SNIFF_BYTES);
    if (upload.verdict.status === 'pending')
      return judgeFirst(dependencies, record, upload, state, scanResult);
    return alreadyDecided(dependencies, record, first, upload, state, scanResult, again, async () =>
      describeFile(key, upload, dependencies.clock()),
    );
  }
  // Recorded: the tags first, since a decided version needs no more.
  const seen = await store.readVersionVerdict(key, first.versionId, first.eTag);
  if (seen.verdict.status !== 'pending') {
    const describe = describedFrom(store, key, first, state, dependencies.clock());
    return alreadyDecided(dependencies, record, first, seen, state, scanResult, again, describe);
  }
  const upload = await store.readUpload({ key, ...first }, SNIFF_BYTES, seen.tags);
  return judgeFirst(dependencies, record, upload, state, scanResult);
}

/**
 * An event for a key the validator has no record of: the key's versions are
 * listed, the once per file they are. The oldest is the file, judged now
 * whichever version the event is about; every other one listed was posted
 * over it with the same form and is deleted. A key with a delete marker is a
 * deleted file: it gets a tombstone record (later events then list nothing)
 * and every version listed is deleted.
 */
async function firstSight(
  dependencies: ValidatorDependencies,
  record: S3ObjectRecord,
  scanResult: GuardDutyScanResult | undefined,
): Promise<Judgment> {
  const { store } = dependencies;
  const { key } = record;
  const listing = await store.listKeyOnce(key);
  if (!listing.first) {
    if (!listing.deleted) return { outcome: skipped(key, 'vanished') };
    await store.recordDeleted(key);
    await Promise.all(listing.others.map((versionId) => store.deleteVersion(key, versionId)));
    return { outcome: skipped(key, 'replaced') };
  }
  const { first } = listing;
  // An event about bytes the key no longer holds (a version deleted, or other bytes under an event
  // that names none) judges nothing: the event of a version still there will.
  const holds = listing.versions.some((version) =>
    record.versionId
      ? version.versionId === record.versionId
      : !record.eTag || version.eTag === unquotedETag(record.eTag),
  );
  if (!holds) return { outcome: skipped(key, 'vanished') };
  const about = !record.versionId || record.versionId === first.versionId;
  const judgment = await judgeFileVersion(
    dependencies,
    record,
    first,
    { kind: 'unseen' },
    about ? scanResult : undefined,
    true,
  );
  // After the verdict, which nothing here waits for.
  await Promise.all(listing.others.map((versionId) => store.deleteVersion(key, versionId)));
  return judgment;
}

/**
 * An event for a deleted file's key (its record is a tombstone): the version
 * is deleted. An event that names none (Ceph RGW's) is found by a listing,
 * since the delete marker hides every version from HEAD: every version listed
 * goes.
 */
async function deleteUnderTombstone(store: ValidatorDependencies['store'], record: S3ObjectRecord) {
  const { key } = record;
  const versions = record.versionId
    ? [record.versionId]
    : await store
        .listKeyOnce(key)
        .then(({ first, others }) => [...(first ? [first.versionId] : []), ...others]);
  await Promise.all(versions.map((versionId) => store.deleteVersion(key, versionId)));
  return { outcome: skipped(key, 'replaced') };
}

/**
 * Decides one event with a constant number of S3 requests once the file is
 * recorded: its record first (one GET, or none when the previous event of
 * the key in the same batch read it); a version that is not the recorded
 * first is deleted on sight, unread (one DELETE; an event naming no version
 * finds it by HEAD of the key's current version: one event, one version); the
 * first version's own event reads its tags and judges it only if they carry
 * no signed verdict.
 */
async function judge(
  dependencies: ValidatorDependencies,
  record: S3ObjectRecord,
  scanResult?: GuardDutyScanResult,
  known?: FileState,
): Promise<Judgment> {
  const { store } = dependencies;
  const { key } = record;
  const state = known ?? (await store.readFileState(key));
  if (state.kind === 'deleted') return deleteUnderTombstone(store, record);
  if (state.kind === 'unseen') return firstSight(dependencies, record, scanResult);
  const first = { versionId: state.entry.versionId, eTag: state.entry.eTag };
  if (record.versionId) {
    if (record.versionId !== first.versionId) {
      await store.deleteVersion(key, record.versionId);
      return { outcome: skipped(key, 'replaced'), state };
    }
    return judgeFileVersion(dependencies, record, first, state, scanResult, true);
  }
  // An event that names no version (Ceph RGW's for a form POST): the current version is what it can
  // be about. One posted over the file is deleted; each such event deletes one, so the events of a
  // flood delete its versions one by one until the file is current again.
  const current = await store.currentVersion(key);
  // A delete marker is current: DELETE /files is removing the file.
  if (!current) return { outcome: skipped(key, 'vanished') };
  if (current.versionId !== first.versionId) {
    await store.deleteVersion(key, current.versionId);
    return { outcome: skipped(key, 'replaced'), state };
  }
  // The first version's own event, or one whose version another event deleted: only the event
  // that judged the file (or one that cannot say) sends its webhook again.
  const again = !record.sequencer || !state.entry.judgedBy || record.sequencer === state.entry.judgedBy;
  return judgeFileVersion(dependencies, record, first, state, scanResult, again);
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
  return (await validateOne(dependencies, record, scanResult)).outcome;
}

/** {@link validateRecord}, given the file's record when the previous event of the key read it, and returning it when still valid. */
async function validateOne(
  dependencies: ValidatorDependencies,
  record: S3ObjectRecord,
  scanResult?: GuardDutyScanResult,
  known?: FileState,
): Promise<{ outcome: RecordOutcome; state?: FileState }> {
  const { key } = record;
  if (!scanResult && !isUploadRecord(record, dependencies.store.bucket)) {
    logger.info('ignoring record', {
      key,
      eventName: record.eventName,
      underUploads: key.startsWith(UPLOADS_PREFIX),
    });
    return { outcome: skipped(key, 'ignored') };
  }
  let judgment: Judgment;
  try {
    judgment = await judge(dependencies, record, scanResult, known);
  } catch (error) {
    const skip = skipFor(error);
    if (!skip) throw error;
    judgment = { outcome: skipped(key, skip) };
  }
  const { outcome, webhook, leavesMarker } = judgment;
  // After the verdict is recorded, and outside the S3 error reading above: a handoff that fails
  // fails the invocation, whose retry finds the verdict recorded and hands its webhook off again.
  if (webhook && dependencies.handOffWebhook) await dependencies.handOffWebhook(webhook);
  // Last: a run that fails before this leaves the marker, and the sweep hands the file back.
  if (!leavesMarker && (outcome.status !== 'skipped' || outcome.skip === 'already_decided')) {
    await dependencies.store.clearPending(key);
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
  return { outcome, ...(judgment.state ? { state: judgment.state } : {}) };
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

/** Events of one key whose versions are known to be posted over the file, deleted at once. */
const PARALLEL_DELETES = 10;

/**
 * Validates records, the records of one key one after another (a batch of a
 * flooded form's events reads its record once, and never races itself) but
 * for those naming a version the record shows is not the file's, deleted
 * {@link PARALLEL_DELETES} at a time; {@link VALIDATION_CONCURRENCY} keys at
 * a time. Settles each record: one record's failure does not stop the others.
 */
async function validateRecords(
  dependencies: ValidatorDependencies,
  records: S3ObjectRecord[],
): Promise<PromiseSettledResult<RecordOutcome>[]> {
  const byKey = new Map<string, number[]>();
  for (const [index, record] of records.entries()) {
    byKey.set(record.key, [...(byKey.get(record.key) ?? []), index]);
  }
  const limit = pLimit(VALIDATION_CONCURRENCY);
  const settled: PromiseSettledResult<RecordOutcome>[] = new Array(records.length);
  const settle = async (index: number, known: FileState | undefined) => {
    try {
      const { outcome, state } = await validateOne(
        dependencies,
        records[index] as S3ObjectRecord,
        undefined,
        known,
      );
      settled[index] = { status: 'fulfilled', value: outcome };
      return state;
    } catch (reason) {
      settled[index] = { status: 'rejected', reason };
      return undefined;
    }
  };
  await Promise.all(
    [...byKey.values()].map((indexes) =>
      limit(async () => {
        let known: FileState | undefined;
        const overFile: number[] = [];
        for (const index of indexes) {
          const { versionId } = records[index] as S3ObjectRecord;
          if (known?.kind === 'recorded' && versionId && versionId !== known.entry.versionId)
            overFile.push(index);
          else known = await settle(index, known);
        }
        const deletes = pLimit(PARALLEL_DELETES);
        const recorded = known;
        await Promise.all(overFile.map((index) => deletes(() => settle(index, recorded))));
      }),
    ),
  );
  return settled;
}

/** The outcomes of settled records; logs each failure. */
function outcomesOf(records: S3ObjectRecord[], settled: PromiseSettledResult<RecordOutcome>[]) {
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
  return { outcomes, errors };
}

/**
 * The record the sweep's event stands for: an upload whose own event may be
 * lost. It names no version, ETag or sequencer, so the file's first version is
 * judged as the key's one listing (or its record) names it, and a verdict
 * already made settles and sends its webhook again, the same id.
 */
const pendingRecord = (dependencies: ValidatorDependencies, key: string): S3ObjectRecord => ({
  eventName: 'ObjectCreated:PendingSweep',
  bucket: dependencies.store.bucket,
  key,
  size: 0,
});

/**
 * Validates every object record of an S3 event (as the bucket or the local
 * bridge delivers it), or every upload of the sweep's pending-uploads event,
 * with {@link validateRecords}. Once all were attempted,
 * any unexpected error is rethrown (an `AggregateError`) so the invocation
 * fails and is retried: decided objects are then skipped.
 */
export async function validateUploadEvent(
  dependencies: ValidatorDependencies,
  event: unknown,
): Promise<RecordOutcome[]> {
  const scan = parseScanResultEvent(event);
  if (scan) return [await validateScanResult(dependencies, scan)];
  const pending = parsePendingUploadsEvent(event);
  const records = pending ? pending.map((key) => pendingRecord(dependencies, key)) : parseS3Event(event);
  const { outcomes, errors } = outcomesOf(records, await validateRecords(dependencies, records));
  if (errors.length > 0) {
    throw new AggregateError(errors, `${errors.length} of ${records.length} records could not be validated`);
  }
  return outcomes;
}

/** What a function fed by a queue answers: the messages to deliver again (a partial batch failure). */
export interface QueueBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Validates a queue's batch of S3 event messages with {@link validateRecords}
 * (every record of every message together: one key's events of a batch read
 * its record once) and names the messages a record of which failed
 * unexpectedly: the queue delivers those again, and after its receive count
 * moves them to the dead-letter queue. The others are done.
 */
export async function validateQueueBatch(
  dependencies: ValidatorDependencies,
  messages: QueuedS3Message[],
): Promise<QueueBatchResponse> {
  const records = messages.flatMap((message) => message.records);
  const settled = await validateRecords(dependencies, records);
  outcomesOf(records, settled);
  const failed = new Set<string>();
  let index = 0;
  for (const message of messages) {
    for (const _ of message.records) {
      if (settled[index]?.status === 'rejected') failed.add(message.messageId);
      index += 1;
    }
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}
