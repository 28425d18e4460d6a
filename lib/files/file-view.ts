import type { ClientMetadata } from '../core/client-metadata.js';
import type { FileRecord } from '../store/file-store.js';
import type { ValidationStatus } from '../store/object-encoding.js';

/** The body of `GET /files/{fileId}`. */
export interface FileView {
  fileId: string;
  filename: string;
  contentType: string;
  size: number;
  status: ValidationStatus;
  reason?: string;
  detectedType?: string;
  uploadedAt: string;
  /** The uploader's own JSON object, `null` when it gave none. */
  clientMetadata: ClientMetadata | null;
}

/**
 * What an owner may see of a file record: everything but the object key, the
 * share epoch and the raw tags, which are internal.
 */
export function fileView(record: FileRecord): FileView {
  return {
    fileId: record.fileId,
    filename: record.filename,
    contentType: record.contentType,
    size: record.size,
    status: record.status,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.detectedType !== undefined ? { detectedType: record.detectedType } : {}),
    uploadedAt: record.uploadedAt,
    clientMetadata: record.clientMetadata,
  };
}
