import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TEST_VERDICT_KEYS } from './verdict-keys.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SKIPPED = new Set(['node_modules', '.local', '.serverless', '.esbuild', '.git', '.build', 'coverage']);
const execFileAsync = promisify(execFile);

/**
 * A copy of the repository (never the working tree, where the local stack's
 * serverless offline owns .esbuild) to run `osls` in with no AWS credentials:
 * only a shell's PATH, its own HOME and the validator's public key.
 */
export function packageCopy(prefix: string) {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(ROOT, workDir, { recursive: true, filter: (source) => !SKIPPED.has(basename(source)) });
  symlinkSync(join(ROOT, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const osls = (args: string[]) =>
    execFileAsync(join(workDir, 'node_modules', '.bin', 'osls'), args, {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: workDir, VERDICT_PUBLIC_KEY: TEST_VERDICT_KEYS.publicKey },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  return {
    workDir,
    osls,
    /** The template the last `osls package` wrote. */
    template: <T>(): T =>
      JSON.parse(
        readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as T,
    remove: () => rmSync(workDir, { recursive: true, force: true }),
  };
}
