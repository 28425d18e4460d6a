import type { UploadRules } from '../config/upload-rules.js';
import type { Clock } from '../core/clock.js';
import { ApiError, fileTooLarge, unsupportedContentType } from '../core/errors.js';
import { normalizeContentType } from '../core/media-types.js';
import { POST_OBJECT_MAX_BYTES } from '../core/object-limits.js';
import type { Owner } from '../core/owner.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import { type LimitsStore, reserveUploads } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore } from '../store/file-store.js';
import { uploadMetadata } from '../store/object-encoding.js';
import { newFileId, objectKey } from '../store/object-key.js';
import type { CreateUploadRequest } from './upload-request.js';

/** The 201 body of POST /uploads. */
export interface IssuedUpload {
  fileId: string;
  key: string;
  upload: { method: 'POST'; url: string; fields: Record<string, string> };
  expiresAt: string;
  maxBytes: number;
}

/** What issuing an upload needs: the store that signs, the rules, the limits, and the form's lifetime. */
export interface UploadDependencies {
  store: Pick<FileStore, 'credentials' | 'presignUpload' | 'markPending'> & LimitsStore;
  rules: UploadRules;
  limits: LimitSettings;
  /** When the request must have answered: a reservation that keeps conflicting gives up (429) before. */
  giveUpAt?: number;
  /** `UPLOAD_URL_TTL_SECONDS`. */
  uploadTtlSeconds: number;
  /** What the form's expiry and the reservation are reckoned from. */
  clock: Clock;
}

/**
 * Checks a request against the upload rules. Returns the normalised content
 * type; throws 415 for a type no rule allows and 413 above the rule's maximum,
 * or, for a form POST, above the 5 GiB one POST can carry.
 */
export function admitUpload(
  rules: UploadRules,
  request: CreateUploadRequest,
  { multipart = false }: { multipart?: boolean } = {},
): string {
  const contentType = normalizeContentType(request.contentType);
  const maxBytes = contentType === undefined ? undefined : rules.get(contentType);
  if (contentType === undefined || maxBytes === undefined) {
    throw unsupportedContentType(`content type ${JSON.stringify(request.contentType)} is not accepted`);
  }
  if (request.size > maxBytes) {
    throw fileTooLarge(`size ${request.size} exceeds ${maxBytes} for ${contentType}`);
  }
  if (!multipart && request.size > POST_OBJECT_MAX_BYTES) {
    throw fileTooLarge(
      `size ${request.size} exceeds the ${POST_OBJECT_MAX_BYTES} bytes of one form POST: use POST /uploads/multipart`,
    );
  }
  return contentType;
}

/** The 201 body of POST /uploads for a batch: a form for each file, in the request's order. */
export interface IssuedUploads {
  uploads: IssuedUpload[];
}

/** A file admitted by the rules, with what its form pins. */
interface AdmittedUpload {
  request: CreateUploadRequest;
  contentType: string;
}

/**
 * Checks every file of a request against the upload rules and S3's metadata
 * limit before anything is reserved or signed. A refusal of a batch's file
 * keeps its status and code and names the file: `files[3]: size … exceeds …`.
 */
function admitAll(
  rules: UploadRules,
  owner: Owner,
  requests: readonly CreateUploadRequest[],
  batch: boolean,
) {
  return requests.map((request, index): AdmittedUpload => {
    try {
      const contentType = admitUpload(rules, request);
      uploadMetadata({ ...request, contentType, ownerSegment: owner.segment });
      return { request, contentType };
    } catch (error) {
      if (!batch || !(error instanceof ApiError)) throw error;
      throw new ApiError(error.statusCode, error.code, `files[${index}]: ${error.message}`, error.headers);
    }
  });
}

/**
 * Issues browser-ready presigned POSTs for new files of the owner's, at keys
 * the server chooses, all or none: every file is checked against the rules
 * first, and one refused (415, 413, or 400 over S3's metadata limit) refuses
 * the request. Each policy pins the key, the Content-Type, the exact size,
 * the metadata and the pending tagging, so S3 itself refuses anything else;
 * the forms live `uploadTtlSeconds`, never past the signing credentials.
 * With limits set, the declared sizes are reserved in one step until the
 * forms expire: 403 `quota_exceeded` (on the total) or 429 `rate_limited`
 * refuse them all unsigned. The forms are signed concurrently and returned in
 * the request's order; each file's pending marker is written as its form is
 * signed, so the sweep judges the file even if its upload event is lost.
 */
export async function issueUploads(
  { store, rules, limits, giveUpAt, uploadTtlSeconds, clock }: UploadDependencies,
  owner: Owner,
  requests: readonly CreateUploadRequest[],
  { batch = true }: { batch?: boolean } = {},
): Promise<IssuedUpload[]> {
  const admitted = admitAll(rules, owner, requests, batch);
  const { expiresAt, expiresIn } = await effectiveExpiry(store.credentials, uploadTtlSeconds, clock());
  const fileIds = limitsSet(limits)
    ? await reserveUploads(
        { store, limits, clock, ...(giveUpAt ? { giveUpAt } : {}) },
        owner,
        requests.map((request) => ({ bytes: request.size, until: expiresAt })),
      )
    : requests.map(() => newFileId());
  return Promise.all(
    admitted.map(async ({ request, contentType }, index): Promise<IssuedUpload> => {
      const fileId = fileIds[index] as string;
      const key = objectKey(owner, fileId);
      // The pending marker beside the signing, not after it: one more write, no longer a wait.
      const [{ url, fields }] = await Promise.all([
        store.presignUpload({
          key,
          contentType,
          size: request.size,
          filename: request.filename,
          owner,
          clientMetadata: request.clientMetadata,
          expiresIn,
        }),
        store.markPending(owner, fileId, { until: expiresAt }),
      ]);
      return {
        fileId,
        key,
        upload: { method: 'POST', url, fields },
        expiresAt: expiresAt.toISOString(),
        maxBytes: request.size,
      };
    }),
  );
}

/**
 * Issues a presigned POST for one new file of the owner's: {@link issueUploads}
 * for one file, whose refusals name no index.
 */
export async function issueUpload(
  dependencies: UploadDependencies,
  owner: Owner,
  request: CreateUploadRequest,
): Promise<IssuedUpload> {
  const [issued] = await issueUploads(dependencies, owner, [request], { batch: false });
  return issued as IssuedUpload;
}
