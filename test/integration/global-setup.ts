import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCK_FILE, STACK_FILE, type StackInfo } from '../../scripts/stack-settings.js';

/**
 * Integration tests drive the real local stack: reuse one that `npm start`
 * already runs, or start it (Ceph RGW + serverless offline) and stop it after.
 * When the real S3 cannot be started the run fails; it never skips.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 60_000;

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

/**
 * Stops the stack the way Ctrl-C does: SIGINT to the supervisor (scripts/start.ts,
 * whose pid is in .local/stack.pid), which stops serverless offline and Ceph, then
 * waits for the spawned command to end.
 */
async function stopStack(stack: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const supervisor = existsSync(LOCK_FILE) ? Number(readFileSync(LOCK_FILE, 'utf8')) : undefined;
  try {
    process.kill(supervisor || (stack.pid as number), 'SIGINT');
  } catch {}
  const timer = new Promise((done) => setTimeout(done, STOP_TIMEOUT_MS, 'timeout'));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    throw new Error(`the local stack did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const running = readStack();
  if (running && (await healthy(running))) return async () => undefined;
  rmSync(STACK_FILE, { force: true }); // stale: written by a stack that is gone

  const stack: ChildProcess = spawn('bash', [resolve(ROOT, 'scripts/start.sh')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((done) => stack.once('exit', (code) => done(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const info = readStack();
    if (info && (await healthy(info))) break;
    if (stack.exitCode !== null) throw new Error(`the local stack failed to start (exit ${stack.exitCode})`);
    if (Date.now() > deadline) {
      await stopStack(stack, exited);
      throw new Error(`the local stack did not come up within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((done) => setTimeout(done, 1000));
  }
  return () => stopStack(stack, exited);
}
