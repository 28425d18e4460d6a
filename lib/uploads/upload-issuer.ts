import { env, uploadRules } from '../config/env.js';
import { normalizeContentType, type UploadRules } from '../config/upload-rules.js';
import { fileTooLarge, unsupportedContentType } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import { encodeMetaValue, META, PENDING_TAGGING } from '../store/file-metadata.js';
import { newFileId, objectKey } from '../store/object-key.js';
import { bucket, s3 } from '../store/s3-client.js';
import { createPostPresigner } from './presign-post.js';
import type { CreateUploadRequest } from './upload-request.js';

/** The 201 body of POST /uploads (API.md). */
export interface IssuedUpload {
  fileId: string;
  key: string;
  upload: { method: 'POST'; url: string; fields: Record<string, string> };
  expiresAt: string;
  maxBytes: number;
}

/**
 * Signs the upload forms: `createPresignedPost`'s output, with the bucket URL
 * resolved once instead of per request (see presign-post.ts).
 */
const presignPost = createPostPresigner(s3, bucket);

/**
 * Checks a request against the upload rules. Returns the normalised content
 * type; throws 415 for a type no rule allows and 413 above the rule's maximum.
 */
export function admitUpload(rules: UploadRules, request: CreateUploadRequest): string {
  const contentType = normalizeContentType(request.contentType);
  const maxBytes = contentType === undefined ? undefined : rules.get(contentType);
  if (contentType === undefined || maxBytes === undefined) {
    throw unsupportedContentType(`content type ${JSON.stringify(request.contentType)} is not accepted`);
  }
  if (request.size > maxBytes) {
    throw fileTooLarge(`size ${request.size} exceeds ${maxBytes} for ${contentType}`);
  }
  return contentType;
}

/**
 * Issues a browser-ready presigned POST for one new file of the owner's. The
 * policy pins the bucket, the exact key, the Content-Type, the exact size, the
 * metadata and the `validation-status=pending` tagging, so S3 itself refuses
 * anything else; it lives `UPLOAD_URL_TTL_SECONDS`, never past the signing
 * credentials.
 */
export async function issueUpload(owner: Owner, request: CreateUploadRequest): Promise<IssuedUpload> {
  const contentType = admitUpload(uploadRules, request);
  const fileId = newFileId();
  const key = objectKey(owner, fileId);
  const now = new Date();
  const { expiresAt, expiresIn } = await effectiveExpiry(
    s3.config.credentials,
    env.UPLOAD_URL_TTL_SECONDS,
    now,
  );

  // Every field below becomes an exact-match policy condition.
  const { url, fields } = await presignPost({
    now,
    Key: key,
    Expires: expiresIn,
    Conditions: [['content-length-range', request.size, request.size]],
    Fields: {
      'Content-Type': contentType,
      tagging: PENDING_TAGGING,
      [`x-amz-meta-${META.filename}`]: encodeMetaValue(request.filename),
      [`x-amz-meta-${META.owner}`]: owner.segment,
      [`x-amz-meta-${META.declaredType}`]: contentType,
      [`x-amz-meta-${META.declaredSize}`]: String(request.size),
    },
  });

  return {
    fileId,
    key,
    upload: { method: 'POST', url, fields },
    expiresAt: expiresAt.toISOString(),
    maxBytes: request.size,
  };
}
