import { createHash } from 'node:crypto';
import * as z from '../core/zod.js';

/** The one event type this backend sends. */
export const FILE_VALIDATED = 'file.validated';

/** The body of a `file.validated` webhook, as the OpenAPI document describes it too. */
export const fileValidatedSchema = z
  .object({
    type: z.literal(FILE_VALIDATED),
    timestamp: z.iso.datetime(),
    data: z.object({
      fileId: z.string().check(z.minLength(1)),
      status: z.enum(['passed', 'failed']),
      reason: z.nullable(z.string()),
      detectedType: z.nullable(z.string()),
      size: z.number().check(z.int(), z.nonnegative()),
      contentType: z.string(),
      filename: z.string(),
      clientMetadata: z.nullable(z.record(z.string(), z.unknown())),
    }),
  })
  .register(z.globalRegistry, { id: 'FileValidatedEvent' });

/** The body of a `file.validated` webhook: one verdict on one file. */
export type FileValidatedEvent = z.infer<typeof fileValidatedSchema>;

/**
 * What the validator hands to the deliverer: the event and its `webhook-id`,
 * fixed once for the verdict, so every retry of the delivery carries both unchanged.
 */
export const webhookMessageSchema = z.object({
  id: z.string().check(z.regex(/^msg_[A-Za-z0-9_-]{22,}$/)),
  event: fileValidatedSchema,
});

export type WebhookMessage = z.infer<typeof webhookMessageSchema>;

/** The version a verdict is about, and the verdict: what a `webhook-id` is derived from. */
export interface JudgedVersion {
  bucket: string;
  key: string;
  versionId: string;
  status: 'passed' | 'failed';
  reason?: string | undefined;
}

/**
 * The `webhook-id` of a verdict: `msg_` and the base64url SHA-256 of the
 * bucket, key, version id, status and reason (JSON-encoded, so no two inputs
 * collide). The same verdict on the same version always has the same id: a
 * retried delivery, or the event sent again for a redelivered S3 event, lets
 * the receiver drop the duplicate.
 */
export function webhookId(judged: JudgedVersion): string {
  const input = JSON.stringify([
    FILE_VALIDATED,
    judged.bucket,
    judged.key,
    judged.versionId,
    judged.status,
    judged.reason ?? null,
  ]);
  return `msg_${createHash('sha256').update(input).digest('base64url')}`;
}

/** What the payload is built from: the judged upload as the store read it, and the verdict. */
export interface VerdictOnFile {
  fileId: string;
  status: 'passed' | 'failed';
  reason?: string | undefined;
  detectedType?: string | undefined;
  /** The bytes S3 holds. */
  size: number;
  /** The type declared when the upload was issued (else the object's Content-Type). */
  contentType: string;
  filename?: string | undefined;
  clientMetadata?: Record<string, unknown> | undefined;
}

/**
 * Builds the `file.validated` event of a verdict, every field present: `null`
 * for a passed file's reason, an undetected type and absent client metadata;
 * the file id stands in for a filename the upload does not carry. `timestamp`
 * is when the event was built (ISO 8601).
 */
export function fileValidatedEvent(verdict: VerdictOnFile, now: Date): FileValidatedEvent {
  return {
    type: FILE_VALIDATED,
    timestamp: now.toISOString(),
    data: {
      fileId: verdict.fileId,
      status: verdict.status,
      reason: verdict.status === 'failed' ? (verdict.reason ?? null) : null,
      detectedType: verdict.detectedType ?? null,
      size: verdict.size,
      contentType: verdict.contentType,
      filename: verdict.filename ?? verdict.fileId,
      clientMetadata: verdict.clientMetadata ?? null,
    },
  };
}

/**
 * Reads a deliverer's invocation payload. Throws a `ZodError` for anything
 * else: an invocation the deliverer cannot send is a failure, which ends in
 * the dead-letter queue.
 */
export const parseWebhookMessage = (payload: unknown): WebhookMessage => webhookMessageSchema.parse(payload);
