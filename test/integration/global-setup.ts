import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { STACK_FILE, type StackInfo } from '../../scripts/stack-settings.js';

/**
 * Integration tests drive the real local stack: reuse one that `npm start`
 * already runs, or start it (Ceph RGW + serverless offline) and stop it after.
 * When the real S3 cannot be started the run fails; it never skips.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 300_000;

async function healthy(info: StackInfo): Promise<boolean> {
  try {
    const [api, s3] = await Promise.all([
      fetch(`${info.apiUrl}/health`, { signal: AbortSignal.timeout(3000) }),
      fetch(info.s3Endpoint, { signal: AbortSignal.timeout(3000) }),
    ]);
    return api.ok && s3.status < 500;
  } catch {
    return false;
  }
}

const readStack = (): StackInfo | undefined =>
  existsSync(STACK_FILE) ? (JSON.parse(readFileSync(STACK_FILE, 'utf8')) as StackInfo) : undefined;

export default async function setup(): Promise<() => Promise<void>> {
  const running = readStack();
  if (running && (await healthy(running))) return async () => undefined;

  const stack: ChildProcess = spawn('bash', [resolve(ROOT, 'scripts/start.sh')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((done) => stack.once('exit', (code) => done(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const info = readStack();
    if (info && info.pid === stack.pid && (await healthy(info))) break;
    if (stack.exitCode !== null) throw new Error(`the local stack failed to start (exit ${stack.exitCode})`);
    if (Date.now() > deadline) {
      process.kill(-(stack.pid as number), 'SIGKILL');
      throw new Error('the local stack did not come up within 300 s');
    }
    await new Promise((done) => setTimeout(done, 1000));
  }
  return async () => {
    process.kill(stack.pid as number, 'SIGINT');
    await exited;
  };
}
