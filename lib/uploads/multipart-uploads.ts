import type { UploadRules } from '../config/upload-rules.js';
import type { Clock } from '../core/clock.js';
import { ApiError, incompleteUpload, invalidRequest, uploadClosed } from '../core/errors.js';
import { MAX_PARTS, PART_MAX_BYTES, PART_MIN_BYTES } from '../core/object-limits.js';
import type { Owner } from '../core/owner.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import { type LimitsStore, releaseReservation, reserveUpload } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore } from '../store/file-store.js';
import type { MultipartUpload, UploadedPart } from '../store/multipart-store.js';
import { unquotedETag } from '../store/object-encoding.js';
import { newFileId, objectKey } from '../store/object-key.js';
import { UploadIncomplete } from '../store/store-errors.js';
import { admitUpload } from './upload-issuer.js';
import type { CreateMultipartUploadRequest } from './upload-request.js';

const MiB = 1024 * 1024;

/** The part size the server chooses unless the client fixed one: 16 MiB, larger when 10,000 parts would not hold the file. */
export const DEFAULT_PART_SIZE = 16 * MiB;

/** Part URLs live at most this long (seconds): ask again to retry or resume. */
export const PART_URL_TTL_SECONDS = 15 * 60;

/** Part URLs one request may ask for. */
export const MAX_PARTS_PER_SIGNING = 100;

/** An open upload is aborted by the bucket's lifecycle this long after it started (in AWS, at the next midnight UTC after). */
export const OPEN_UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * A multipart upload's reservation lapses this long after it started, if
 * nothing landed under its key: a day after the lifecycle may abort it (in
 * AWS, at the midnight UTC after its first day).
 */
export const MULTIPART_RESERVATION_MS = 2 * OPEN_UPLOAD_LIFETIME_MS;

/** The 201 body of POST /uploads/multipart. */
export interface StartedMultipartUpload {
  fileId: string;
  key: string;
  uploadId: string;
  partSize: number;
  partCount: number;
  expiresAt: string;
  maxBytes: number;
}

/** One presigned part of POST /uploads/{fileId}/parts. */
export interface PartUrl {
  partNumber: number;
  url: string;
  /** Headers to send with the PUT: `content-md5` when the part's MD5 is pinned. */
  headers: Record<string, string>;
  expiresAt: string;
}

type MultipartStore = Pick<
  FileStore,
  | 'credentials'
  | 'startMultipartUpload'
  | 'readMultipartUpload'
  | 'presignPart'
  | 'listUploadedParts'
  | 'completeMultipartUpload'
  | 'abortMultipartUpload'
  | 'claimClosing'
  | 'readClosing'
  | 'releaseClosing'
  | 'markPending'
> &
  LimitsStore;

/** What multipart uploads need: the store, the upload rules and the limits. */
export interface MultipartDependencies {
  store: MultipartStore;
  rules: UploadRules;
  limits: LimitSettings;
  /** When the request must have answered: a change of usage that keeps conflicting gives up (429) before. */
  giveUpAt?: number;
  /** What the upload's age, its reservation and its URLs' expiry are reckoned from. */
  clock: Clock;
}

/**
 * The part size of an upload of `size` bytes: the client's, if it holds the
 * file in at most 10,000 parts (400 naming the smallest that would
 * otherwise), or {@link DEFAULT_PART_SIZE} grown to whole MiB until it does.
 */
export function choosePartSize(size: number, requested?: number): number {
  const smallest = Math.max(PART_MIN_BYTES, Math.ceil(size / MAX_PARTS));
  if (requested !== undefined) {
    if (requested < smallest) {
      throw invalidRequest(
        `partSize: at least ${smallest} bytes for ${size} bytes (${MAX_PARTS} parts at most)`,
      );
    }
    return requested;
  }
  return Math.min(PART_MAX_BYTES, Math.max(DEFAULT_PART_SIZE, Math.ceil(smallest / MiB) * MiB));
}

/** The exact length of part `partNumber` of an upload: `partSize`, but the remainder for the last. */
export function partLength(upload: Pick<MultipartUpload, 'size' | 'partSize'>, partNumber: number): number {
  const before = (partNumber - 1) * upload.partSize;
  return Math.min(upload.partSize, upload.size - before);
}

/**
 * Starts a multipart upload of one new file of the owner's, at a key the
 * server chooses, with the content type, metadata and declared size pinned as
 * a presigned POST pins them. Throws 415/413 as POST /uploads does, and 400
 * for a part size that would need more than 10,000 parts. With limits set,
 * the declared size is reserved first (403 `quota_exceeded`, 429
 * `rate_limited`), and given back if S3 refuses to start the upload.
 */
export async function startMultipartUpload(
  { store, rules, limits, giveUpAt, clock }: MultipartDependencies,
  owner: Owner,
  request: CreateMultipartUploadRequest,
): Promise<StartedMultipartUpload> {
  const now = clock();
  const contentType = admitUpload(rules, request, { multipart: true });
  const partSize = choosePartSize(request.size, request.partSize);
  const limited = limitsSet(limits);
  const usage = { store, limits, clock, ...(giveUpAt ? { giveUpAt } : {}) };
  // With limits set, the ledger chooses the file id: it names the usage shard holding the reservation.
  const until = new Date(now.getTime() + MULTIPART_RESERVATION_MS);
  const fileId = limited ? await reserveUpload(usage, owner, { bytes: request.size, until }) : newFileId();
  const key = objectKey(owner, fileId);
  let uploadId: string;
  try {
    // The pending marker beside the start, not after it: one more write, no longer a wait.
    [uploadId] = await Promise.all([
      store.startMultipartUpload(
        {
          key,
          contentType,
          size: request.size,
          partSize,
          filename: request.filename,
          owner,
          clientMetadata: request.clientMetadata,
        },
        fileId,
        now,
      ),
      store.markPending(owner, fileId, { until }),
    ]);
  } catch (error) {
    // Nothing can land under this key: give the bytes back now (else they lapse with the reservation).
    if (limited) await releaseReservation(usage, owner, fileId).catch(() => undefined);
    throw error;
  }
  return {
    fileId,
    key,
    uploadId,
    partSize,
    partCount: Math.ceil(request.size / partSize),
    expiresAt: new Date(now.getTime() + OPEN_UPLOAD_LIFETIME_MS).toISOString(),
    maxBytes: request.size,
  };
}

/**
 * Whether an upload is as old as its reservation: past this the reservation
 * may have lapsed, and bytes completed then would be stored uncounted.
 */
const isExpired = (upload: Pick<MultipartUpload, 'startedAt'>, now: Date): boolean =>
  now.getTime() - Date.parse(upload.startedAt) >= MULTIPART_RESERVATION_MS;

const uploadExpired = () => new ApiError(409, 'upload_closed', 'this upload expired: start a new one');

/**
 * Presigned UploadPart URLs for parts of an owner's open upload, each pinned
 * to the part's exact length and, when asked, its MD5; they live
 * {@link PART_URL_TTL_SECONDS} at most, never past the signing credentials.
 * Throws 404 for an unknown or another owner's upload, 409 `upload_closed`
 * once it is completed, aborted or expired (S3 would refuse every part), 400
 * for a part number beyond the upload's last part.
 */
export async function signUploadParts(
  { store, clock }: Pick<MultipartDependencies, 'store' | 'clock'>,
  owner: Owner,
  fileId: string,
  parts: readonly { partNumber: number; md5?: string | undefined }[],
): Promise<{ parts: PartUrl[] }> {
  const now = clock();
  const [upload, closing] = await Promise.all([
    store.readMultipartUpload(owner, fileId),
    store.readClosing(owner, fileId),
  ]);
  if (closing) throw uploadClosed();
  if (isExpired(upload, now)) throw uploadExpired();
  const beyond = parts.find((part) => part.partNumber > upload.partCount);
  if (beyond) {
    throw invalidRequest(`parts: part ${beyond.partNumber} is beyond the last part, ${upload.partCount}`);
  }
  const { expiresAt, expiresIn } = await effectiveExpiry(store.credentials, PART_URL_TTL_SECONDS, now);
  const signed = await Promise.all(
    parts.map(
      async ({ partNumber, md5 }): Promise<PartUrl> => ({
        partNumber,
        url: await store.presignPart({
          key: upload.key,
          uploadId: upload.uploadId,
          partNumber,
          contentLength: partLength(upload, partNumber),
          ...(md5 ? { md5 } : {}),
          expiresIn,
          now,
        }),
        headers: md5 ? { 'content-md5': md5 } : ({} as Record<string, string>),
        expiresAt: expiresAt.toISOString(),
      }),
    ),
  );
  return { parts: signed };
}

/** The parts S3 holds of an owner's open upload, for resuming. Throws 404, or 409 once it is closed. */
export async function listUploadParts(
  { store }: Pick<MultipartDependencies, 'store'>,
  owner: Owner,
  fileId: string,
): Promise<{ parts: { partNumber: number; size: number; etag: string }[] }> {
  const upload = await store.readMultipartUpload(owner, fileId);
  const parts = await store.listUploadedParts(upload);
  return { parts: parts.map(({ partNumber, size, eTag }) => ({ partNumber, size, etag: eTag })) };
}

/**
 * Why the parts S3 holds do not make the declared file, or `undefined` when
 * they do: every part from 1 to the last held, each of its exact length (so
 * the total is the declared size), and each the bytes the client names.
 */
export function incompletePartsReason(
  upload: Pick<MultipartUpload, 'size' | 'partSize' | 'partCount'>,
  held: readonly UploadedPart[],
  named: readonly { partNumber: number; etag: string }[],
): string | undefined {
  const heldByNumber = new Map(held.map((part) => [part.partNumber, part]));
  const namedByNumber = new Map(named.map((part) => [part.partNumber, unquotedETag(part.etag)]));
  const beyond = named.find((part) => part.partNumber > upload.partCount);
  if (beyond) return `part ${beyond.partNumber} is beyond the last part, ${upload.partCount}`;
  for (let partNumber = 1; partNumber <= upload.partCount; partNumber++) {
    const part = heldByNumber.get(partNumber);
    if (!part) return `part ${partNumber} is missing`;
    const expected = partLength(upload, partNumber);
    if (part.size !== expected) return `part ${partNumber} is ${part.size} bytes, not ${expected}`;
    const etag = namedByNumber.get(partNumber);
    if (etag === undefined) return `part ${partNumber} is not in the list`;
    if (etag !== unquotedETag(part.eTag)) return `part ${partNumber} is not the bytes its ETag names`;
  }
  return undefined;
}

/**
 * Completes an owner's upload once the parts S3 holds make exactly the
 * declared file ({@link incompletePartsReason}: 422 `incomplete_upload`
 * naming the part otherwise, the upload staying open). Throws 404 for an
 * unknown or another owner's upload and 409 `upload_closed` once it is
 * completed or aborted, or once it is {@link MULTIPART_RESERVATION_MS} old
 * (S3's lifecycle aborts it before that). The validator then judges the
 * object as any other.
 */
export async function completeUpload(
  { store, clock }: Pick<MultipartDependencies, 'store' | 'clock'>,
  owner: Owner,
  fileId: string,
  named: readonly { partNumber: number; etag: string }[],
): Promise<{ fileId: string; status: 'pending' }> {
  const upload = await store.readMultipartUpload(owner, fileId);
  if (isExpired(upload, clock())) throw uploadExpired();
  const held = await store.listUploadedParts(upload);
  const reason = incompletePartsReason(upload, held, named);
  if (reason) throw incompleteUpload(reason);
  await store.claimClosing(upload, 'complete');
  try {
    // Only parts 1..partCount make the file; S3 drops any other part it holds when it completes.
    await store.completeMultipartUpload(
      upload,
      held.filter((part) => part.partNumber <= upload.partCount),
    );
  } catch (error) {
    // S3 refused the parts (one changed since they were listed): the upload stays open, as the
    // 422 says, so the claim goes back and the owner may complete it again or abort it.
    if (error instanceof UploadIncomplete) await store.releaseClosing(upload);
    throw error;
  }
  return { fileId, status: 'pending' };
}

/**
 * Aborts an owner's open upload and gives its reservation back. Throws 404
 * for an unknown or another owner's, 409 once it is closed. The closing
 * claim comes first, so the upload can no longer be completed once its bytes
 * are given back; an abort tried again after a failure gives nothing back twice.
 */
export async function abortUpload(
  { store, limits, giveUpAt, clock }: Pick<MultipartDependencies, 'store' | 'limits' | 'giveUpAt' | 'clock'>,
  owner: Owner,
  fileId: string,
): Promise<void> {
  const upload = await store.readMultipartUpload(owner, fileId);
  await store.claimClosing(upload, 'abort');
  if (limitsSet(limits)) {
    await releaseReservation({ store, limits, clock, ...(giveUpAt ? { giveUpAt } : {}) }, owner, fileId);
  }
  await store.abortMultipartUpload(upload);
}
