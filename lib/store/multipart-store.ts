import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListPartsCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ClientMetadata } from '../core/client-metadata.js';
import { logger } from '../core/logger.js';
import { MAX_PARTS } from '../core/object-limits.js';
import type { Owner } from '../core/owner.js';
import * as z from '../core/zod.js';
import type { ConditionalWriter } from './conditional-write.js';
import { PENDING_TAG_QUERY, unquotedETag, uploadMetadata } from './object-encoding.js';
import { multipartClosingKey, multipartRecordKey, objectKey, parseObjectKey } from './object-key.js';
import { classifyS3Error } from './s3-errors.js';
import { readStateObject } from './state-object.js';
import { FileNotFound, UploadClosed, UploadIncomplete } from './store-errors.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** What the server pins when it starts a multipart upload: the same as a presigned POST. */
export interface MultipartForm {
  key: string;
  contentType: string;
  /** The declared total size in bytes. */
  size: number;
  /** Every part but the last is exactly this many bytes. */
  partSize: number;
  filename: string;
  owner: OwnerRef;
  /** The uploader's own JSON object, pinned as metadata. */
  clientMetadata?: ClientMetadata | undefined;
}

/** An open (or once open) multipart upload of an owner's file, as its record in the state bucket keeps it. */
export interface MultipartUpload {
  fileId: string;
  key: string;
  uploadId: string;
  size: number;
  partSize: number;
  /** How many parts the declared size makes: `ceil(size / partSize)`. */
  partCount: number;
  /** When the server started it. */
  startedAt: string;
}

/** One part as S3 holds it. */
export interface UploadedPart {
  partNumber: number;
  size: number;
  /** As S3 reports it, quoted. */
  eTag: string;
}

/** What a presigned UploadPart of one part pins. */
export interface PartRequest {
  key: string;
  uploadId: string;
  partNumber: number;
  /** The part's exact length: S3 refuses a body of any other. */
  contentLength: number;
  /** The base64 MD5 of the part: S3 refuses other bytes. */
  md5?: string;
  /** Lifetime in seconds. */
  expiresIn: number;
  now: Date;
}

/** The record kept in the state bucket while an upload is open: the server's own terms for it. */
const recordSchema = z.object({
  uploadId: z.string().check(z.minLength(1)),
  size: z.number().check(z.int(), z.positive()),
  partSize: z.number().check(z.int(), z.positive()),
  startedAt: z.string(),
});

/** How often, and how far apart, a failed completion checks whether a concurrent one closed the upload. */
const CLOSING_CHECKS = 10;
const CLOSING_CHECK_INTERVAL_MS = 300;

/** Whether S3 answered with a server-side failure (5xx), after the SDK's own retries. */
/** Tries of a closing claim: each loses only to a concurrent claim's write. */
const CLAIM_TRIES = 10;

const isServerFault = (error: unknown): boolean =>
  error instanceof S3ServiceException && error.$fault === 'server';

/** A record's terms, or `undefined` when its text is not a record. */
function parseRecord(text: string): z.infer<typeof recordSchema> | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** ListParts returns at most 1,000 parts a page: ten pages hold the 10,000 parts an upload can have. */
const LIST_PARTS_PAGE = 1000;

export interface MultipartStoreSettings {
  s3: S3Client;
  /** The uploads bucket. */
  bucket: string;
  /** The state bucket, where each multipart upload's record lives. */
  stateBucket: string;
  /** How records and closing claims are written: create-once. */
  writer: ConditionalWriter;
}

/**
 * How a multipart upload lives in S3: created by the server with the pinned
 * content type, metadata and pending tag; its terms (upload id, declared
 * size, part size) in a create-once record in the state bucket, keyed by
 * owner and file id, since S3 keeps no metadata it would return for an open
 * upload; part URLs that pin the upload, the part number, the length and the
 * MD5; and completion and abort, which only the server performs. A closed
 * upload (completed or aborted) is one S3 answers `NoSuchUpload` for.
 */
export function createMultipartStore({ s3, bucket, stateBucket, writer }: MultipartStoreSettings) {
  /** A 404 from S3 about an upload id the record names: that upload is closed. */
  async function onOpenUpload<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (classifyS3Error(error) === 'missing') throw new UploadClosed();
      throw error;
    }
  }

  /**
   * Starts a multipart upload at `form.key` with the content type, metadata
   * and pending tagging a presigned POST pins (Ceph RGW ignores the tagging:
   * an untagged object is pending too), then records its terms create-once
   * (`If-None-Match: *`). Should the record fail, the upload is aborted.
   * Returns the upload id.
   */
  async function startMultipartUpload(form: MultipartForm, fileId: string, now: Date): Promise<string> {
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: form.key,
        ContentType: form.contentType,
        Tagging: PENDING_TAG_QUERY,
        Metadata: uploadMetadata({
          filename: form.filename,
          ownerSegment: form.owner.segment,
          contentType: form.contentType,
          size: form.size,
          clientMetadata: form.clientMetadata,
        }),
      }),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error('CreateMultipartUpload answered without an upload id');
    const record: z.infer<typeof recordSchema> = {
      uploadId,
      size: form.size,
      partSize: form.partSize,
      startedAt: now.toISOString(),
    };
    const written = await writer
      .writeIfUnchanged({
        key: multipartRecordKey(form.owner, fileId),
        body: JSON.stringify(record),
        contentType: 'application/json',
        over: 'absent',
      })
      .catch((error: unknown) => error);
    if (written !== 'written') {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: form.key, UploadId: uploadId }))
        .catch(() => undefined);
      throw written instanceof Error
        ? written
        : new Error(`a multipart record of ${fileId} was already there`);
    }
    return uploadId;
  }

  /**
   * Reads the terms of an owner's multipart upload from its record. Throws
   * FileNotFound when the owner started none under this file id (another owner's id
   * looks the same). Says nothing of whether it is still open.
   */
  async function readMultipartUpload(owner: OwnerRef, fileId: string): Promise<MultipartUpload> {
    const object = await readStateObject(s3, stateBucket, multipartRecordKey(owner, fileId));
    if (!object) throw new FileNotFound('no such upload');
    const record = parseRecord(object.text);
    // Only the state bucket's writers could have made it unreadable: no upload the API can serve.
    if (!record) {
      logger.warn('unreadable multipart upload record', { fileId });
      throw new FileNotFound('no such upload');
    }
    return {
      fileId,
      key: objectKey(owner, fileId),
      ...record,
      partCount: Math.ceil(record.size / record.partSize),
    };
  }

  /**
   * A presigned UploadPart (the SDK's `getSignedUrl`) of one part: its
   * `content-length` and, when given, `content-md5` are signed headers, so
   * S3 refuses another length, other bytes, another part number or upload.
   */
  function presignPart(request: PartRequest): Promise<string> {
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: request.key,
      UploadId: request.uploadId,
      PartNumber: request.partNumber,
      ContentLength: request.contentLength,
      ...(request.md5 ? { ContentMD5: request.md5 } : {}),
    });
    return getSignedUrl(s3, command, { expiresIn: request.expiresIn, signingDate: request.now });
  }

  /** Every part S3 holds of an upload, by part number. Throws UploadClosed once it is closed. */
  async function listUploadedParts(
    upload: Pick<MultipartUpload, 'key' | 'uploadId'>,
  ): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (let page = 0; page < MAX_PARTS / LIST_PARTS_PAGE; page++) {
      const listed = await onOpenUpload(
        s3.send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            MaxParts: LIST_PARTS_PAGE,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        ),
      );
      for (const part of listed.Parts ?? []) {
        if (part.PartNumber === undefined) continue;
        parts.push({
          partNumber: part.PartNumber,
          size: part.Size ?? 0,
          eTag: `"${unquotedETag(part.ETag)}"`,
        });
      }
      if (!listed.IsTruncated || !listed.NextPartNumberMarker) break;
      marker = listed.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Completes an upload from exactly these parts. Throws UploadClosed
   * when it is already closed, and UploadIncomplete when S3 refuses a
   * part (one uploaded again since it was listed).
   */
  async function completeMultipartUpload(
    upload: Pick<MultipartUpload, 'key' | 'uploadId'>,
    parts: readonly Pick<UploadedPart, 'partNumber' | 'eTag'>[],
  ): Promise<void> {
    try {
      await onOpenUpload(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            MultipartUpload: {
              Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.eTag })),
            },
          }),
        ),
      );
    } catch (error) {
      if (error instanceof Error && (error.name === 'InvalidPart' || error.name === 'InvalidPartOrder')) {
        throw new UploadIncomplete(
          'a part changed while the upload was completed: list the parts and complete again',
        );
      }
      // A completion or an abort of the same upload under way (Ceph RGW answers 500 then, AWS
      // may too): once that one has closed the upload, this request lost a race, not failed.
      if (isServerFault(error) && (await closesSoon(upload))) throw new UploadClosed();
      throw error;
    }
  }

  /** Whether the upload is closed within a few seconds (S3 answers NoSuchUpload to ListParts). */
  async function closesSoon(upload: Pick<MultipartUpload, 'key' | 'uploadId'>): Promise<boolean> {
    for (let check = 0; check < CLOSING_CHECKS; check++) {
      try {
        await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId, MaxParts: 1 }),
        );
      } catch (error) {
        if (classifyS3Error(error) === 'missing') return true;
        throw error;
      }
      await new Promise((done) => setTimeout(done, CLOSING_CHECK_INTERVAL_MS));
    }
    return false;
  }

  /**
   * Claims the closing of an upload for `action`, create-once
   * (`If-None-Match: *` in the unversioned state bucket): the first of a
   * completion and an abort wins, and the other answers UploadClosed,
   * where S3 alone could let both succeed (Ceph RGW then completes the object
   * and drops its parts). A claim for the same action (a retry, or two
   * completions at once) goes ahead. A completion S3 refuses (a part changed
   * under it) gives its claim back ({@link releaseClosing}): the upload stays
   * open. Any other failure after claiming keeps the claim: that completion
   * can be tried again, an abort then answers 409, and the lifecycle aborts
   * the upload after a day.
   */
  async function claimClosing(upload: Pick<MultipartUpload, 'key' | 'fileId'>, action: 'complete' | 'abort') {
    const Key = closingKeyOf(upload);
    for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
      const outcome = await writer.writeIfUnchanged({
        key: Key,
        body: action,
        contentType: 'text/plain',
        over: 'absent',
      });
      if (outcome === 'written') return;
      // Two claims at once: neither may have landed, try again.
      if (outcome === 'collided') continue;
      const claim = await readStateObject(s3, stateBucket, Key);
      // Gone since (expired): claim it again.
      if (!claim) continue;
      if (claim.text === action) return;
      throw new UploadClosed();
    }
    throw new Error(`closing claim of ${upload.fileId} kept conflicting over ${CLAIM_TRIES} tries`);
  }

  /** The closing claim's key of an upload. */
  function closingKeyOf(upload: Pick<MultipartUpload, 'key' | 'fileId'>): string {
    const parsed = parseObjectKey(upload.key);
    if (!parsed) throw new Error(`not an upload key: ${upload.key}`);
    return multipartClosingKey({ segment: parsed.segment }, upload.fileId);
  }

  /**
   * What closes an owner's upload, as its closing claim says: `complete` or
   * `abort`, or `undefined` while nothing has claimed it (it may still have
   * lapsed: see its `startedAt`). One GET.
   */
  async function readClosing(owner: OwnerRef, fileId: string): Promise<'complete' | 'abort' | undefined> {
    const claim = await readStateObject(s3, stateBucket, multipartClosingKey(owner, fileId));
    if (!claim) return undefined;
    return claim.text === 'abort' ? 'abort' : 'complete';
  }

  /**
   * Gives back a completion's closing claim once S3 refused the completion
   * itself: the upload is still open, so it can be completed again or aborted.
   */
  async function releaseClosing(upload: Pick<MultipartUpload, 'key' | 'fileId'>): Promise<void> {
    await s3.send(new DeleteObjectCommand({ Bucket: stateBucket, Key: closingKeyOf(upload) }));
  }

  /** Aborts an open upload: S3 drops its parts. Throws UploadClosed when it is already closed. */
  async function abortMultipartUpload(upload: Pick<MultipartUpload, 'key' | 'uploadId'>): Promise<void> {
    await onOpenUpload(
      s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }),
      ),
    );
  }

  return {
    startMultipartUpload,
    readMultipartUpload,
    presignPart,
    listUploadedParts,
    completeMultipartUpload,
    abortMultipartUpload,
    claimClosing,
    readClosing,
    releaseClosing,
  };
}
