import type { ClientMetadata } from '../core/client-metadata.js';
import type { FileChecks } from '../core/file-checks.js';
import type { Owner } from '../core/owner.js';
import type { FileStore } from '../store/file-store.js';
import type { ValidationStatus } from '../store/object-encoding.js';
import type { FileRecord } from '../store/verdict-trust.js';

/** The body of `GET /files/{fileId}`. */
export interface FileView {
  fileId: string;
  filename: string;
  contentType: string;
  size: number;
  status: ValidationStatus;
  reason?: string;
  detectedType?: string;
  /** Each check on its own; `status` is `passed` only when every enabled one passed. */
  checks: FileChecks;
  uploadedAt: string;
  /** The uploader's own JSON object, `null` when it gave none. */
  clientMetadata: ClientMetadata | null;
}

/**
 * What an owner may see of a file record: everything but the object key, the
 * share epoch and the raw tags, which are internal.
 */
export function fileView(
  record: Pick<
    FileRecord,
    | 'fileId'
    | 'filename'
    | 'contentType'
    | 'size'
    | 'status'
    | 'reason'
    | 'detectedType'
    | 'checks'
    | 'uploadedAt'
    | 'clientMetadata'
  >,
): FileView {
  return {
    fileId: record.fileId,
    filename: record.filename,
    contentType: record.contentType,
    size: record.size,
    status: record.status,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.detectedType !== undefined ? { detectedType: record.detectedType } : {}),
    checks: record.checks,
    uploadedAt: record.uploadedAt,
    clientMetadata: record.clientMetadata,
  };
}

/**
 * An owner's file as GET /files/{fileId} shows it: its record, the same the
 * list shows (one GET of it, whatever happened to its key). Throws 404 for an
 * unknown or another owner's file.
 */
export async function describeFile(
  store: Pick<FileStore, 'readFileRecord'>,
  owner: Pick<Owner, 'segment'>,
  fileId: string,
): Promise<FileView> {
  return fileView(await store.readFileRecord(owner, fileId));
}
