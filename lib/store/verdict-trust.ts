import type { Tag } from '@aws-sdk/client-s3';
import type { ClientMetadata } from '../core/client-metadata.js';
import { combineChecks, type FileChecks, type MalwareScanMode, malwareCheckOf } from '../core/file-checks.js';
import type { VerdictClaims, VerdictVerifier } from '../core/verdict-signature.js';
import type { FileIndexEntry } from './file-index.js';
import { type RecordedVerdict, verdictFromTags } from './object-encoding.js';

/** The verdict on one upload: its first version's, and only if the validator signed it for that version. */
export interface FileTags extends RecordedVerdict {
  /**
   * Each check's own result; `status` and `reason` above combine them
   * ({@link combineChecks}): `passed` only when every enabled check passed.
   */
  checks: FileChecks;
  key: string;
  /** The first version under the key: the only bytes the file ever names (empty until the validator has seen the file). */
  versionId: string;
  /** That version's ETag, unquoted (empty until the validator has seen the file). */
  eTag: string;
  /** When that version landed, as the validator first saw it. */
  uploadedAt: string;
  /** That version's size in bytes. */
  storedBytes: number;
}

/** What the API knows of one upload, read from its record in the file index. */
export interface FileRecord extends FileTags {
  fileId: string;
  filename: string;
  /** The uploader's own JSON object, pinned with the upload; `null` when it gave none. */
  clientMetadata: ClientMetadata | null;
  contentType: string;
  size: number;
}

export interface VerdictTrustSettings {
  /** The uploads bucket: a signature covers it. */
  bucket: string;
  /** Checks the validator's signature on a verdict before it is reported. */
  verifyVerdict: VerdictVerifier;
  /** `guardduty`: GuardDuty's result is a second check a file's status requires. */
  malwareScan: MalwareScanMode;
}

/**
 * How a file's status is read from what S3 holds: a content verdict counts
 * only with the validator's signature for exactly the version and ETag it
 * names, and GuardDuty's result joins it when malware scanning is on.
 */
export function createVerdictTrust({ bucket, verifyVerdict, malwareScan }: VerdictTrustSettings) {
  /** The recorded verdict, if the validator signed it for exactly this version; else `pending`. */
  function trustedVerdict(
    key: string,
    versionId: string,
    eTag: string,
    recorded: RecordedVerdict,
  ): RecordedVerdict {
    // Nothing of an unsigned verdict is reported: no reason, no detected type.
    if (recorded.status === 'pending') return { status: 'pending' };
    const claims: VerdictClaims = {
      bucket,
      key,
      versionId,
      eTag,
      status: recorded.status,
      ...(recorded.reason ? { reason: recorded.reason } : {}),
      ...(recorded.detectedType ? { detectedType: recorded.detectedType } : {}),
    };
    return verifyVerdict(claims, recorded.signature) ? recorded : { status: 'pending' };
  }

  /** The verdict a version's tags carry, trusted only with the validator's signature for it. */
  const verdictOfTags = (key: string, versionId: string, eTag: string, tags: readonly Tag[] | undefined) =>
    trustedVerdict(key, versionId, eTag, verdictFromTags(tags));

  /** A file's checks and status from its record: the signed verdict, and GuardDuty's result as recorded. */
  function tagsOfEntry(key: string, entry: FileIndexEntry): FileTags {
    const content = entry.verdict
      ? trustedVerdict(key, entry.versionId, entry.eTag, { ...entry.verdict, validatedEtag: entry.eTag })
      : { status: 'pending' as const };
    const checks: FileChecks = {
      content: content.status,
      malware: malwareScan === 'guardduty' ? malwareCheckOf(entry.malware) : 'off',
    };
    const { status, reason } = combineChecks(checks, content.reason);
    return {
      key,
      versionId: entry.versionId,
      eTag: entry.eTag,
      uploadedAt: entry.uploadedAt,
      storedBytes: entry.size,
      ...(content.detectedType !== undefined ? { detectedType: content.detectedType } : {}),
      status,
      ...(reason !== undefined ? { reason } : {}),
      checks,
    };
  }

  const recordOfEntry = (fileId: string, key: string, entry: FileIndexEntry): FileRecord => ({
    ...tagsOfEntry(key, entry),
    fileId,
    filename: entry.filename,
    clientMetadata: entry.clientMetadata,
    contentType: entry.contentType,
    size: entry.size,
  });

  /** A file the validator has not recorded yet: pending, its version not known. */
  const unseenTags = (key: string, uploadedAt: string, storedBytes: number): FileTags => ({
    key,
    versionId: '',
    eTag: '',
    uploadedAt,
    storedBytes,
    status: 'pending',
    checks: { content: 'pending', malware: malwareScan === 'guardduty' ? 'pending' : 'off' },
  });

  return { trustedVerdict, verdictOfTags, tagsOfEntry, recordOfEntry, unseenTags };
}

export type VerdictTrust = ReturnType<typeof createVerdictTrust>;
