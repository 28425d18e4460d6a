import type { UploadRules } from '../config/upload-rules.js';
import type { Clock } from '../core/clock.js';
import { fileTooLarge, unsupportedContentType } from '../core/errors.js';
import { normalizeContentType } from '../core/media-types.js';
import { POST_OBJECT_MAX_BYTES } from '../core/object-limits.js';
import type { Owner } from '../core/owner.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import { reserveUpload } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore } from '../store/file-store.js';
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
  store: Pick<FileStore, 'credentials' | 'presignUpload' | 'changeUsage' | 'uploadLanded' | 'markPending'>;
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

/**
 * Issues a browser-ready presigned POST for one new file of the owner's, at a
 * key the server chooses. The policy pins the key, the Content-Type, the exact
 * size, the metadata and the pending tagging, so S3 itself refuses anything
 * else; it lives `uploadTtlSeconds`, never past the signing credentials.
 * With limits set, the declared size is reserved first, until the form
 * expires: 403 `quota_exceeded` or 429 `rate_limited` refuse it unsigned.
 * A pending marker is written meanwhile, so the sweep judges the file even
 * if its upload event is lost.
 */
export async function issueUpload(
  { store, rules, limits, giveUpAt, uploadTtlSeconds, clock }: UploadDependencies,
  owner: Owner,
  request: CreateUploadRequest,
): Promise<IssuedUpload> {
  const contentType = admitUpload(rules, request);
  const fileId = newFileId();
  const key = objectKey(owner, fileId);
  const { expiresAt, expiresIn } = await effectiveExpiry(store.credentials, uploadTtlSeconds, clock());
  // The pending marker beside the reservation, not after it: one more write, no longer a wait.
  await Promise.all([
    store.markPending(owner, fileId, { until: expiresAt }),
    limitsSet(limits)
      ? reserveUpload({ store, limits, clock, ...(giveUpAt ? { giveUpAt } : {}) }, owner, {
          fileId,
          bytes: request.size,
          until: expiresAt,
        })
      : undefined,
  ]);
  const { url, fields } = await store.presignUpload({
    key,
    contentType,
    size: request.size,
    filename: request.filename,
    owner,
    clientMetadata: request.clientMetadata,
    expiresIn,
  });
  return {
    fileId,
    key,
    upload: { method: 'POST', url, fields },
    expiresAt: expiresAt.toISOString(),
    maxBytes: request.size,
  };
}
