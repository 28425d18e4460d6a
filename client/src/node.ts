import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResumeStore } from './resume-store.js';

const fileName = (key: string) => `${encodeURIComponent(key)}.json`;

/**
 * A {@link ResumeStore} in a folder (created when first written), one small
 * JSON file per upload: a Node script killed mid-upload resumes in its next
 * run. Node only: import it from `@presign/client/node`.
 */
export function fileResumeStore(folder: string): ResumeStore {
  return {
    async get(key) {
      try {
        return await readFile(join(folder, fileName(key)), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async set(key, value) {
      await mkdir(folder, { recursive: true });
      const path = join(folder, fileName(key));
      // Written whole, then renamed: a reader never sees half a record.
      await writeFile(`${path}.tmp`, value);
      await rename(`${path}.tmp`, path);
    },
    async delete(key) {
      await rm(join(folder, fileName(key)), { force: true });
    },
    async keys() {
      try {
        return (await readdir(folder))
          .filter((name) => name.endsWith('.json'))
          .map((name) => decodeURIComponent(name.slice(0, -'.json'.length)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
  };
}
