import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ClientMetadata } from '../core/client-metadata.js';
import type { Owner } from '../core/owner.js';
import { PENDING_TAGGING, uploadMetadata } from './object-encoding.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** What a presigned POST for one new upload pins. */
export interface UploadForm {
  key: string;
  contentType: string;
  /** The exact size in bytes: S3 refuses a body of any other length. */
  size: number;
  filename: string;
  owner: OwnerRef;
  /** The uploader's own JSON object, pinned as metadata. */
  clientMetadata?: ClientMetadata | undefined;
  /** Lifetime in seconds. */
  expiresIn: number;
}

/** What a presigned GET of one version of an object serves. */
export interface DownloadRequest {
  key: string;
  versionId: string;
  /** Sent back by S3 as `Content-Disposition`. */
  contentDisposition: string;
  /** Sent back by S3 as `Content-Type`. */
  contentType: string;
  /** Lifetime in seconds. */
  expiresIn: number;
  /** The signing time; X-Amz-Date has whole seconds. */
  now: Date;
}

/** The presigned URLs that reach the uploads bucket: a form POST for a new file, a GET of one version. */
export function createPresigner({ s3, bucket }: { s3: S3Client; bucket: string }) {
  /**
   * A browser-ready presigned POST (the SDK's `createPresignedPost`) for one
   * new upload. Every field is an exact-match policy condition: the bucket,
   * the key, the Content-Type, the metadata ({@link uploadMetadata}: filename,
   * owner segment, declared type and size, clientMetadata) and the `validation-status=pending`
   * tagging; `content-length-range` pins the exact size. S3 refuses anything else.
   */
  function presignUpload(form: UploadForm): Promise<{ url: string; fields: Record<string, string> }> {
    return createPresignedPost(s3, {
      Bucket: bucket,
      Key: form.key,
      Expires: form.expiresIn,
      Conditions: [['content-length-range', form.size, form.size]],
      Fields: {
        'Content-Type': form.contentType,
        tagging: PENDING_TAGGING,
        ...Object.fromEntries(
          Object.entries(
            uploadMetadata({
              filename: form.filename,
              ownerSegment: form.owner.segment,
              contentType: form.contentType,
              size: form.size,
              clientMetadata: form.clientMetadata,
            }),
          ).map(([name, value]) => [`x-amz-meta-${name}`, value]),
        ),
      },
    });
  }

  /**
   * A presigned GET (the SDK's `getSignedUrl`) of exactly one version, that makes S3 answer with the
   * given `Content-Disposition` and `Content-Type`, signed at `now` for
   * `expiresIn` seconds.
   */
  function presignDownload(request: DownloadRequest): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: request.key,
      VersionId: request.versionId,
      ResponseContentDisposition: request.contentDisposition,
      ResponseContentType: request.contentType,
    });
    return getSignedUrl(s3, command, { expiresIn: request.expiresIn, signingDate: request.now });
  }

  return { presignUpload, presignDownload };
}
