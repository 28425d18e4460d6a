/**
 * What `upload` takes: a `File` (browser, or Node's global `File`), a `Blob`
 * with a `filename` option, or bytes with a name and type (`Uint8Array`, or a
 * Blob such as Node's `fs.openAsBlob(path)`, read part by part as it is sent).
 */
export type UploadSource =
  | Blob
  | {
      data: Blob | Uint8Array | ArrayBuffer;
      name: string;
      type: string;
      /** When the file last changed (ms since the epoch): with it, an interrupted upload resumes in a later run. */
      lastModified?: number;
    };

/** Overrides for what the source says of itself. */
export interface SourceOverrides {
  /** The file name people see (required for a plain Blob, which has none). */
  filename?: string;
  /** The content type to declare (default: the source's own type). */
  contentType?: string;
}

/** A source made uniform: the bytes as a Blob, and what identifies the file. */
export interface UploadFile {
  blob: Blob;
  name: string;
  /** The declared content type, lower case. */
  type: string;
  size: number;
  /** Unknown for bare bytes: such an upload is not resumed after its client is gone. */
  lastModified: number | undefined;
}

const isFile = (source: Blob): source is File =>
  typeof (source as File).name === 'string' && typeof (source as File).lastModified === 'number';

/**
 * The file to upload, from any {@link UploadSource}.
 * @throws TypeError when the name or the content type is missing.
 */
export function uploadFileOf(source: UploadSource, overrides: SourceOverrides = {}): UploadFile {
  let blob: Blob;
  let name: string | undefined;
  let type: string;
  let lastModified: number | undefined;
  if (source instanceof Blob) {
    blob = source;
    type = source.type;
    if (isFile(source)) {
      name = source.name;
      lastModified = source.lastModified;
    }
  } else {
    blob = source.data instanceof Blob ? source.data : new Blob([source.data as Uint8Array<ArrayBuffer>]);
    name = source.name;
    type = source.type;
    lastModified = source.lastModified;
  }
  name = overrides.filename ?? name;
  type = (overrides.contentType ?? type).trim().toLowerCase();
  if (!name) throw new TypeError('upload: a Blob has no name; pass the filename option');
  if (!type) throw new TypeError(`upload: the content type of "${name}" is unknown; pass contentType`);
  return { blob, name, type, size: blob.size, lastModified };
}
