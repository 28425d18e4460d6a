import type { S3Client } from '@aws-sdk/client-s3';
import type { MalwareScanMode } from '../core/file-checks.js';
import type { VerdictSigner, VerdictVerifier } from '../core/verdict-signature.js';
import { createConditionalWriter } from './conditional-write.js';
import { createFileIndex } from './file-index.js';
import { createFileRecords } from './file-records.js';
import { createFileVersions } from './file-versions.js';
import { createMultipartStore } from './multipart-store.js';
import { createPendingMarkers } from './pending-markers.js';
import { createPresigner } from './presigning.js';
import { createShareEpochs } from './share-epochs.js';
import { createUsageStore } from './usage-store.js';
import { createVerdictTrust } from './verdict-trust.js';

export interface FileStoreSettings {
  s3: S3Client;
  /** The uploads bucket, versioned. */
  bucket: string;
  /** The state bucket (share epochs), unversioned so that conditional writes hold on every S3. */
  stateBucket: string;
  /** Checks the validator's signature on a verdict before the store reports it. */
  verifyVerdict: VerdictVerifier;
  /** Signs verdicts: only the validator's store has one. */
  signVerdict?: VerdictSigner;
  /**
   * How `If-Match` takes an ETag on a conditional write: AWS takes it quoted,
   * as ETags are written; Ceph RGW only unquoted.
   */
  conditionalETag: 'quoted' | 'unquoted';
  /** `guardduty`: GuardDuty's tag on a version is a second check its status requires (default `none`). */
  malwareScan?: MalwareScanMode;
}

export type FileStore = ReturnType<typeof createFileStore>;

/**
 * The one module that knows how a file lives in S3, the product's only
 * database, put together from its parts, each owning one kind of state:
 * a file's versions and verdicts ({@link createFileVersions}), the owner's
 * view of its files ({@link createFileRecords}) over the file index
 * ({@link createFileIndex}), share epochs ({@link createShareEpochs}),
 * multipart uploads ({@link createMultipartStore}), usage
 * ({@link createUsageStore}) and presigned URLs ({@link createPresigner}).
 * Every state write goes through one conditional write
 * ({@link createConditionalWriter}). Built once per container with the
 * function's S3 client.
 *
 * A file is the first version under its key. The validator records which
 * version that is, once, in the file's index entry (create-once, when it
 * first sees the key), with what the upload pinned and, once judged, its
 * signed verdict; every later version is deleted on sight. So every read is
 * one GET of that record (plus one request where the record alone cannot
 * answer), whatever the number of times the upload form was posted.
 */
export function createFileStore(settings: FileStoreSettings) {
  const { s3, bucket, stateBucket, conditionalETag } = settings;
  const writer = createConditionalWriter({ s3, stateBucket, conditionalETag });
  const fileIndex = createFileIndex({ s3, stateBucket, writer });
  const trust = createVerdictTrust({
    bucket,
    verifyVerdict: settings.verifyVerdict,
    malwareScan: settings.malwareScan ?? 'none',
  });
  const versions = createFileVersions({
    s3,
    bucket,
    fileIndex,
    trust,
    ...(settings.signVerdict ? { signVerdict: settings.signVerdict } : {}),
  });
  return {
    bucket,
    /** The signing credentials, whose expiration bounds every presigned URL's life. */
    credentials: s3.config.credentials,
    ...versions,
    ...createFileRecords({
      s3,
      bucket,
      stateBucket,
      fileIndex,
      trust,
      deleteVersion: versions.deleteVersion,
    }),
    ...createShareEpochs(writer),
    ...createMultipartStore({ s3, bucket, stateBucket, writer }),
    ...createUsageStore({ s3, bucket, stateBucket, writer }),
    ...createPendingMarkers({ s3, stateBucket }),
    ...createPresigner({ s3, bucket }),
  };
}
