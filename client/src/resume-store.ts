/**
 * Where interrupted multipart uploads are remembered, so that a later call of
 * `upload` with the same file (after a page reload, or in a new run of a
 * script) sends only the parts S3 does not hold yet. A key-value store of
 * strings: `localStorage` in browsers; in Node a folder (see `fileResumeStore`
 * in `@presign/client/node`) or memory.
 */
export interface ResumeStore {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /** Every key the store holds (the client reads only its own). */
  keys(): string[] | Promise<string[]>;
}

/** A store that lives as long as the client: resumes within one page or process only. */
export function memoryResumeStore(): ResumeStore {
  const entries = new Map<string, string>();
  return {
    get: (key) => entries.get(key),
    set: (key, value) => void entries.set(key, value),
    delete: (key) => void entries.delete(key),
    keys: () => [...entries.keys()],
  };
}

/** A Web Storage area (default `localStorage`) as a {@link ResumeStore}. */
export function webStorageResumeStore(storage: Storage = localStorage): ResumeStore {
  return {
    get: (key) => storage.getItem(key) ?? undefined,
    set: (key, value) => storage.setItem(key, value),
    delete: (key) => storage.removeItem(key),
    keys: () => Array.from({ length: storage.length }, (_, i) => storage.key(i) ?? ''),
  };
}

/** `localStorage` where a page can use it, memory otherwise (Node, or storage disabled). */
export function defaultResumeStore(): ResumeStore {
  try {
    if (typeof localStorage !== 'undefined') {
      const probe = 'presign-upload-probe';
      localStorage.setItem(probe, '1');
      localStorage.removeItem(probe);
      return webStorageResumeStore(localStorage);
    }
  } catch {}
  return memoryResumeStore();
}

/** What is remembered of an open multipart upload. */
export interface ResumeRecord {
  version: 1;
  apiUrl: string;
  fileId: string;
  name: string;
  type: string;
  size: number;
  lastModified: number;
  partSize: number;
  partCount: number;
  /** `clientMetadata` as sent, serialized: another value starts another upload. */
  clientMetadata: string;
  /** The ETag S3 answered for each part this client sent, by part number. */
  etags: Record<string, string>;
  /** When the bucket's lifecycle may abort the upload. */
  expiresAt: string;
}

const PREFIX = 'presign-upload:';

/** The store key of a file's upload: the API and the file's identity (name, size, type, last change). */
export function resumeKey(
  apiUrl: string,
  file: { name: string; type: string; size: number; lastModified: number },
): string {
  return `${PREFIX}${JSON.stringify([apiUrl, file.size, file.lastModified, file.type, file.name])}`;
}

/** Whether a store key is one of this client's. */
export const isResumeKey = (key: string): boolean => key.startsWith(PREFIX);

/** The record a store value holds, or undefined when it is not one (another version, damaged). */
export function parseResumeRecord(value: string | undefined): ResumeRecord | undefined {
  if (!value) return undefined;
  try {
    const record = JSON.parse(value) as Partial<ResumeRecord>;
    const valid =
      record.version === 1 &&
      typeof record.fileId === 'string' &&
      typeof record.apiUrl === 'string' &&
      typeof record.name === 'string' &&
      typeof record.type === 'string' &&
      Number.isSafeInteger(record.size) &&
      typeof record.lastModified === 'number' &&
      Number.isSafeInteger(record.partSize) &&
      Number.isSafeInteger(record.partCount) &&
      typeof record.clientMetadata === 'string' &&
      typeof record.etags === 'object' &&
      record.etags !== null &&
      typeof record.expiresAt === 'string';
    return valid ? (record as ResumeRecord) : undefined;
  } catch {
    return undefined;
  }
}
