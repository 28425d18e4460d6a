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
 * The params every deploy needs (deploy/check-params.cjs refuses to package
 * without them): an identity provider, the web app's origins, the verdict key.
 */
export const DEPLOY_PARAMS: Readonly<Record<string, string>> = {
  authIssuer: 'https://issuer.example.com/',
  authJwksUrl: 'https://issuer.example.com/.well-known/jwks.json',
  authAudience: 'presign-api',
  allowedOrigins: 'https://app.example.com,https://admin.example.com',
  verdictPublicKey: TEST_VERDICT_KEYS.publicKey,
};

/** `params` as `osls` arguments: `--param name=value` each. */
export const paramArgs = (params: Readonly<Record<string, string>>): string[] =>
  Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);

/**
 * `osls package` of stage prod in eu-west-1 with {@link DEPLOY_PARAMS} and
 * `params` (which may replace them).
 */
export const packageArgs = (params: Readonly<Record<string, string>> = {}): string[] => [
  'package',
  '--stage',
  'prod',
  '--region',
  'eu-west-1',
  ...paramArgs({ ...DEPLOY_PARAMS, ...params }),
];

/**
 * A copy of the repository (never the working tree, where the local stack's
 * serverless offline owns .esbuild) to run `osls` in with no AWS credentials:
 * only a shell's PATH, its own HOME and TMPDIR, and whatever `env` adds.
 * `remove` deletes both: serverless-esbuild leaves a directory per function
 * in TMPDIR each time it zips (it removes them without `recursive`).
 */
export function packageCopy(prefix: string, env: Readonly<Record<string, string>> = {}) {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  const scratchDir = mkdtempSync(join(tmpdir(), `${prefix}tmp-`));
  cpSync(ROOT, workDir, { recursive: true, filter: (source) => !SKIPPED.has(basename(source)) });
  symlinkSync(join(ROOT, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const osls = (args: string[]) =>
    execFileAsync(join(workDir, 'node_modules', '.bin', 'osls'), args, {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: workDir, TMPDIR: scratchDir, ...env },
      // Under the whole unit suite on two cores, several packages build at once: give each its time.
      timeout: 230_000,
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
    remove: () => {
      rmSync(workDir, { recursive: true, force: true });
      rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}
