import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_DIR, type StackInfo } from './stack-settings.js';

/**
 * The local stack for whatever needs it (the integration tests, the bench):
 * reuses one that `npm start` already runs, or starts one (scripts/start.sh
 * --quiet: Ceph RGW + serverless offline) and stops it when asked. When the
 * stack cannot be started this throws; callers never fall back to a fake.
 */
const ROOT = resolve(import.meta.dirname, '..');
const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 60_000;

export interface LocalStack {
  info: StackInfo;
  /** True when this call started the stack (so `stop` stops it); false when it reused a running one. */
  started: boolean;
  /** Stops the stack if this call started it; does nothing for a reused one. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Where the short start/stop lines go (default: stderr, prefixed "[local stack]"). */
  log?: (line: string) => void;
  /** Added to the environment of a stack this call starts (ignored when one is reused). */
  environment?: Record<string, string>;
  /**
   * The state directory of the stack (relative to the repository), for a second stack of its own
   * beside the one in `.local/` (its ports in `environment` too). Default: `.local/` or PRESIGN_LOCAL_DIR.
   */
  localDir?: string;
  /** The malware check the stack must run with (MALWARE_SCAN): a running stack with another is refused. */
  malwareScan?: StackInfo['malwareScan'];
}

/** The files through which a stack in `localDir` is found, stopped and read. */
function stackFiles(localDir: string) {
  return {
    stack: resolve(localDir, 'stack.json'),
    lock: resolve(localDir, 'stack.pid'),
    startLog: resolve(localDir, 'start.log'),
    offlineLog: resolve(localDir, 'offline.log'),
  };
}

/** Whether the stack described in .local/stack.json answers: the API's /health and the S3 endpoint. */
export async function healthy(info: StackInfo): Promise<boolean> {
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

/** .local/stack.json (or that of the stack in `localDir`), as the running (or last) stack wrote it. */
export const readStackInfo = (localDir = LOCAL_DIR): StackInfo | undefined => {
  const file = stackFiles(localDir).stack;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackInfo) : undefined;
};

const relative = (file: string) => file.slice(ROOT.length + 1);

/**
 * Stops a stack we started the way Ctrl-C does: SIGINT to the supervisor
 * (scripts/start.ts, whose pid is in .local/stack.pid), which stops serverless
 * offline and Ceph; then waits for the spawned command to end.
 */
async function stopStack(stack: ChildProcess, exited: Promise<unknown>, lockFile: string): Promise<void> {
  if (stack.exitCode !== null || stack.signalCode !== null) return;
  const supervisor = existsSync(lockFile) ? Number(readFileSync(lockFile, 'utf8')) : undefined;
  try {
    process.kill(supervisor || (stack.pid as number), 'SIGINT');
  } catch {}
  const timer = new Promise((done) => setTimeout(done, STOP_TIMEOUT_MS, 'timeout').unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    throw new Error(`the local stack did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
  }
}

export async function ensureLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[local stack] ${line}\n`));
  const localDir = options.localDir ? resolve(ROOT, options.localDir) : LOCAL_DIR;
  const files = stackFiles(localDir);
  const running = readStackInfo(localDir);
  if (running && (await healthy(running))) {
    const runningScan = running.malwareScan ?? 'none';
    if (options.malwareScan && runningScan !== options.malwareScan) {
      throw new Error(
        `the stack running at ${running.apiUrl} has MALWARE_SCAN=${runningScan}, not ${options.malwareScan}: stop it first`,
      );
    }
    log(`reusing the stack running at ${running.apiUrl} (pid ${running.pid})`);
    return { info: running, started: false, stop: async () => undefined };
  }
  rmSync(files.stack, { force: true }); // stale: written by a stack that is gone

  log(`starting (logs: ${relative(files.startLog)}, ${relative(files.offlineLog)})…`);
  const began = Date.now();
  const stack: ChildProcess = spawn('bash', [resolve(ROOT, 'scripts/start.sh'), '--quiet'], {
    cwd: ROOT,
    // Errors reach the caller's terminal; everything else stays in the log files.
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ...options.environment,
      ...(options.localDir ? { PRESIGN_LOCAL_DIR: options.localDir } : {}),
      ...(options.malwareScan ? { MALWARE_SCAN: options.malwareScan } : {}),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const exited = new Promise<number | null>((done) => stack.once('exit', (code) => done(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  let info: StackInfo | undefined;
  for (;;) {
    info = readStackInfo(localDir);
    if (info && (await healthy(info))) break;
    if (stack.exitCode !== null) throw new Error(`the local stack failed to start (exit ${stack.exitCode})`);
    if (Date.now() > deadline) {
      await stopStack(stack, exited, files.lock);
      throw new Error(`the local stack did not come up within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((done) => setTimeout(done, 1000));
  }
  log(`up in ${Math.round((Date.now() - began) / 1000)} s: API ${info.apiUrl}, S3 ${info.s3Endpoint}`);
  return {
    info,
    started: true,
    stop: async () => {
      const stopping = Date.now();
      await stopStack(stack, exited, files.lock);
      log(`stopped in ${Math.round((Date.now() - stopping) / 1000)} s`);
    },
  };
}

/**
 * Runs scripts/ceph-rgw.sh `command` on the gateway of the stack in `localDir` (its Ceph state and
 * RGW's port, as the stack's supervisor runs it), without blocking this process: a test's own
 * requests stay under way meanwhile. Throws with the script's output when it fails.
 */
async function gatewayCommand(command: 'kill-rgw' | 'start-rgw', localDir: string): Promise<void> {
  const dir = resolve(ROOT, localDir);
  const info = readStackInfo(dir);
  if (!info) throw new Error(`no local stack described in ${relative(resolve(dir, 'stack.json'))}`);
  try {
    await promisify(execFile)('bash', [resolve(ROOT, 'scripts/ceph-rgw.sh'), command], {
      env: { ...process.env, STATE_DIR: resolve(dir, 'ceph'), RGW_PORT: new URL(info.rgwEndpoint).port },
    });
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`scripts/ceph-rgw.sh ${command} failed: ${stderr.trim()}`, { cause: error });
  }
}

/**
 * Kills the running stack's Ceph RGW as a crash does (SIGKILL to radosgw alone: its monitor and
 * OSD, so every bucket, object, role and topic, stay); resolves once it is gone. For the fault tests.
 */
export const killRgw = (localDir = LOCAL_DIR): Promise<void> => gatewayCommand('kill-rgw', localDir);

/**
 * Starts the running stack's Ceph RGW again after {@link killRgw}, with the arguments and
 * ceph.conf the stack started it with; resolves once it answers HTTP.
 */
export const startRgw = (localDir = LOCAL_DIR): Promise<void> => gatewayCommand('start-rgw', localDir);
