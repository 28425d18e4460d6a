// The local stack: Ceph RGW (real S3 + STS), provisioned from the same IAM
// statements as serverless.yml, and serverless offline running every function
// with its own role's temporary credentials. Ctrl-C stops all of it.
//
// What reaches the terminal (everything serverless offline prints always goes
// to .local/offline.log, the supervisor's lines to .local/start.log, and with
// --quiet Ceph's too):
//   npm start               progress, the banner, and what the functions print
//                           apart from routine lines (request and RequestId
//                           lines, INFO/DEBUG logs, metrics): warnings, errors,
//                           crashes.
//   npm start -- --logs     everything serverless offline prints, as it prints it.
//   npm start -- --quiet    errors only (the tests and the bench start it so).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { GetObjectTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseWebhookSecret, parseWebhookUrl } from '../lib/webhooks/webhook-settings.js';
import { asyncInvocations } from './async-invocations.js';
import { invokeWithRetries, startEventBridge } from './ceph-event-bridge.js';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  devJwks,
  devOwnerSecret,
  devVerdictKeys,
  type VerdictKeys,
} from './dev-keys.js';
import { eventFaults } from './event-faults.js';
import { emulatorEnvironment, guardDutyEmulator } from './guardduty-emulator.js';
import { writeOfflineConfig } from './offline-config.js';
import { localPartnerReaders } from './partner-readers.js';
import { type AdminAccess, adminS3Client, provision, SCANNER_SESSION } from './provision.js';
import { roleAssumer } from './role-sessions.js';
import { type FrontDoor, startS3FrontDoor } from './s3-front-door.js';
import {
  ADMIN_FILE,
  CEPH_DIR,
  EVENTS_LOG,
  LOCAL_DIR,
  LOCK_FILE,
  OFFLINE_LOG,
  STACK_FILE,
  START_LOG,
  type StackInfo,
  stackSettings,
  VALIDATOR_DLQ_FILE,
  WEBHOOK_DLQ_FILE,
} from './stack-settings.js';

const ROOT = resolve(import.meta.dirname, '..');
const settings = stackSettings();
const delivererFunction = `presign-${settings.stage}-deliverWebhook`;
const validatorFunction = `presign-${settings.stage}-validateUpload`;
const sweepFunction = `presign-${settings.stage}-sweepPendingUploads`;
/**
 * How often the supervisor runs the pending-uploads sweep, as the schedule does in AWS (serverless
 * offline runs no schedule): every PRESIGN_LOCAL_SWEEP_SECONDS (tests shorten it), default 60.
 */
const SWEEP_PERIOD_MS = Number(process.env.PRESIGN_LOCAL_SWEEP_SECONDS || 60) * 1000;
/** The region the functions sign for; RGW accepts any region in a SigV4 scope, osls only AWS's names. */
const FUNCTION_REGION = 'us-east-1';
/**
 * How long the stack waits for RGW to push its first event: RGW 16 takes up a
 * new persistent topic's queue on a periodic tick, 27 s after the probe here
 * (docs/rgw-notes.md).
 */
const FIRST_PUSH_TIMEOUT_MS = 120_000;

/**
 * How the bridge hands RGW's events to the validator: as the queue in front of it does in AWS
 * (batches of 10), a few invocations at a time on a machine of a few cores.
 */
const VALIDATOR_BATCHES = { batchSize: 10, concurrency: 4 };

type Output = 'quiet' | 'default' | 'logs';
const output: Output = process.argv.includes('--quiet')
  ? 'quiet'
  : process.argv.includes('--logs')
    ? 'logs'
    : 'default';

// The SDK warns every process on Node < 22 that future releases will need 22;
// Lambda runs nodejs22.x. Silenced here and (below) in every function locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Set once the lock is ours: from then on every supervisor line also goes to .local/start.log. */
let startLog = false;
const record = (line: string) => {
  if (startLog) appendFileSync(START_LOG, `${line}\n`);
};
/** Progress: on the terminal unless --quiet. */
const log = (line: string) => {
  record(`[start] ${line}`);
  if (output !== 'quiet') console.error(`[start] ${line}`);
};
/** Problems: always on the terminal. */
const warn = (line: string) => {
  record(`[start] ${line}`);
  console.error(`[start] ${line}`);
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function takeLock(): void {
  mkdirSync(LOCAL_DIR, { recursive: true });
  if (existsSync(LOCK_FILE)) {
    const pid = Number(readFileSync(LOCK_FILE, 'utf8'));
    if (pid && alive(pid)) {
      warn(`a local stack is already running (pid ${pid}); stop it with Ctrl-C (or kill ${pid}) first.`);
      process.exit(1);
    }
  }
  writeFileSync(LOCK_FILE, String(process.pid));
  writeFileSync(START_LOG, '');
  startLog = true;
}

async function ensurePortFree(port: number, name: string): Promise<void> {
  const free = await new Promise<boolean>((done) => {
    const probe: Server = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
  if (!free) {
    warn(`port ${port} is already in use; free it or set ${name}=<another port>.`);
    process.exit(1);
  }
}

/** Where verdicts' webhooks go, from WEBHOOK_URL and WEBHOOK_SECRET: both or neither, checked as the deliverer checks them. */
interface LocalWebhooks {
  url: string;
  secret: string;
}

function webhookSettings(): LocalWebhooks | undefined {
  const url = process.env.WEBHOOK_URL || undefined;
  const secret = process.env.WEBHOOK_SECRET || undefined;
  if (!url && !secret) return undefined;
  if (!url) throw new Error('WEBHOOK_SECRET is set without WEBHOOK_URL');
  if (!secret) throw new Error('WEBHOOK_URL is set without WEBHOOK_SECRET (a whsec_… key)');
  return {
    url: parseWebhookUrl('WEBHOOK_URL', url).href,
    secret: parseWebhookSecret('WEBHOOK_SECRET', secret),
  };
}

/** The per-owner limits the functions get from the environment of `npm start`; each unset is no limit. */
interface LocalLimits {
  quotaBytesPerOwner: number | null;
  uploadsPerHourPerOwner: number | null;
}

function limitSettings(): LocalLimits {
  const read = (name: string, max: number): number | null => {
    const text = process.env[name];
    if (text === undefined || text === '') return null;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new Error(`${name} must be a whole number from 1 to ${max}, or unset for no limit`);
    }
    return value;
  };
  return {
    quotaBytesPerOwner: read('QUOTA_BYTES_PER_OWNER', Number.MAX_SAFE_INTEGER),
    uploadsPerHourPerOwner: read('UPLOADS_PER_HOUR_PER_OWNER', 1_000_000),
  };
}

const describeLimits = ({ quotaBytesPerOwner, uploadsPerHourPerOwner }: LocalLimits): string =>
  quotaBytesPerOwner === null && uploadsPerHourPerOwner === null
    ? 'none (start with QUOTA_BYTES_PER_OWNER and/or UPLOADS_PER_HOUR_PER_OWNER to set them)'
    : `${quotaBytesPerOwner ?? 'unlimited'} bytes, ${uploadsPerHourPerOwner ?? 'unlimited'} uploads per hour, per owner`;

type MalwareScan = StackInfo['malwareScan'];
const MALWARE_SCAN_MODES: readonly MalwareScan[] = ['none', 'guardduty'];

/** MALWARE_SCAN, checked: a typo must not start a stack without the check it asked for. */
function malwareScanSetting(): MalwareScan {
  const value = process.env.MALWARE_SCAN || 'none';
  if (!MALWARE_SCAN_MODES.includes(value as MalwareScan)) {
    throw new Error(
      `MALWARE_SCAN must be one of ${MALWARE_SCAN_MODES.join(', ')}, not ${JSON.stringify(value)}`,
    );
  }
  return value as MalwareScan;
}

function shareSecret(): string {
  const file = resolve(LOCAL_DIR, 'share-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

type RoleCredentials = Record<
  string,
  { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string }
>;

async function assumeRoles(admin: AdminAccess, roleArns: Record<string, string>): Promise<RoleCredentials> {
  const assume = roleAssumer(admin);
  const entries = await Promise.all(
    Object.entries(roleArns).map(async ([fn, arn]) => {
      const session = await assume(arn, fn, settings.sessionSeconds);
      return [fn, { ...session, expiration: session.expiration.toISOString() }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

let offline: ChildProcess | undefined;
/** The configuration serverless offline runs with (scripts/offline-config.ts); removed on stop. */
let configFile: string | undefined;
/** Opened once, shared by every serverless offline the renewals start. */
let offlineLog: WriteStream | undefined;
let bridge: Server | undefined;
let frontDoor: FrontDoor | undefined;
let stopping = false;

/** serverless offline's own line for each request, and its report after each invocation. */
const REQUEST_LINE = /^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \S+ \(λ: \w+\)$/;
const REPORT_LINE = /^\(λ: \w+\) RequestId: /;
const ROUTINE_LEVELS = new Set(['DEBUG', 'INFO', 'TRACE']);

/**
 * Whether `npm start` (without --logs) leaves a line of serverless offline's
 * output to .local/offline.log alone: its start-up listing (the banner below
 * says the same), request and report lines, the functions' INFO/DEBUG JSON
 * logs and metrics. Anything else (warnings, errors, stack traces, a
 * function's plain console output) reaches the terminal.
 */
function routine(line: string, ready: boolean): boolean {
  const text = line.trim();
  if (!ready || text === '' || REQUEST_LINE.test(text) || REPORT_LINE.test(text)) return true;
  if (!text.startsWith('{')) return false;
  try {
    const entry = JSON.parse(text) as { level?: unknown; _aws?: unknown };
    if (entry._aws !== undefined) return true; // a metrics (EMF) line
    return typeof entry.level === 'string' && ROUTINE_LEVELS.has(entry.level.toUpperCase());
  } catch {
    return false;
  }
}

/**
 * Copies a child's output to .local/offline.log, and to the terminal as the
 * output mode says. Returns the last lines seen, to show if the child dies.
 */
function relay(child: ChildProcess, logFile: WriteStream): () => string[] {
  const tail: string[] = [];
  let ready = false;
  for (const [stream, terminal] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      if (output === 'logs') terminal.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (output === 'default' && !routine(line, ready)) terminal.write(`${line}\n`);
        if (line.startsWith('Server ready:')) ready = true;
      }
    });
  }
  return () => tail;
}

/**
 * The params `osls offline` runs the functions with: the development identity provider (its
 * inline JWKS is in the offline configuration's wiring), the page's origins, the verdict key, the
 * malware check, and what `npm start` was given in QUOTA_BYTES_PER_OWNER,
 * UPLOADS_PER_HOUR_PER_OWNER, UPLOAD_URL_TTL_SECONDS and PUBLIC_API_URL (unset: the param's default).
 */
function offlineParams(verdictKeys: VerdictKeys, malwareScan: MalwareScan): Record<string, string> {
  const fromEnvironment = {
    quotaBytesPerOwner: process.env.QUOTA_BYTES_PER_OWNER,
    uploadsPerHourPerOwner: process.env.UPLOADS_PER_HOUR_PER_OWNER,
    uploadUrlTtlSeconds: process.env.UPLOAD_URL_TTL_SECONDS,
    publicApiUrl: process.env.PUBLIC_API_URL,
  };
  return {
    authIssuer: DEV_ISSUER,
    authAudience: DEV_AUDIENCE,
    allowedOrigins: settings.allowedOrigins.join(','),
    verdictPublicKey: verdictKeys.publicKey,
    malwareScan,
    // `--param name=` is refused by osls: an unset one keeps serverless.yml's default.
    ...Object.fromEntries(Object.entries(fromEnvironment).filter(([, value]) => value)),
  } as Record<string, string>;
}

function startOffline(configFile: string, verdictKeys: VerdictKeys, malwareScan: MalwareScan): ChildProcess {
  // What only some functions get is in the configuration file (scripts/offline-config.ts).
  const { WEBHOOK_URL: _url, WEBHOOK_SECRET: _secret, ...inherited } = process.env;
  // The deploy-time settings, as a deployer passes them: serverless.yml's params.
  const params = offlineParams(verdictKeys, malwareScan);
  const child = spawn(
    resolve(ROOT, 'node_modules/.bin/osls'),
    [
      'offline',
      'start',
      '--config',
      configFile,
      '--stage',
      settings.stage,
      '--region',
      FUNCTION_REGION,
      ...Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...inherited,
        // osls hands every AWS_* variable on to the functions.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // The functions run in this process: their stack traces point into the sources. Deployed
        // functions leave source maps off (a cold start would parse them); serverless.yml says why.
        NODE_OPTIONS: [inherited.NODE_OPTIONS, '--enable-source-maps'].filter(Boolean).join(' '),
      },
    },
  );
  // Everything the functions log goes to .local/offline.log (tests read it).
  offlineLog ??= createWriteStream(OFFLINE_LOG, { flags: 'a' });
  const lastLines = relay(child, offlineLog);
  child.on('exit', (code, signal) => {
    if (child === offline && !stopping) {
      warn(`serverless offline exited (${signal ?? code}); its last lines:`);
      if (output !== 'logs') for (const line of lastLines()) console.error(`  ${line}`);
      warn('stopping the stack.');
      void shutdown(1);
    }
  });
  return child;
}

async function stopOffline(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {}
  }, 5000);
  await exited;
  clearTimeout(timer);
}

async function waitForHealth(url: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {}
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

/** Runs scripts/ceph-rgw.sh; its lines go to the terminal, or with --quiet to .local/start.log only. */
function cephRgw(command: 'start' | 'stop'): void {
  const fd = output === 'quiet' ? openSync(START_LOG, 'a') : undefined;
  try {
    execFileSync('bash', [resolve(ROOT, 'scripts/ceph-rgw.sh'), command], {
      stdio: fd === undefined ? 'inherit' : ['ignore', fd, fd],
      env: { ...process.env, RGW_PORT: String(settings.rgwPort), STATE_DIR: CEPH_DIR },
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Runs the pending-uploads sweep every {@link SWEEP_PERIOD_MS}, one run at a time, through serverless
 * offline's Invoke API: a run that fails is logged, and the next one goes on.
 */
function sweepPeriodically(invokeUrl: string): void {
  const sweep = async () => {
    try {
      const answer = await fetch(invokeUrl, { method: 'POST', body: '{}' });
      const text = await answer.text();
      if (!answer.ok || answer.headers.has('x-amz-function-error')) {
        warn(`the pending-uploads sweep failed (${answer.status}): ${text.slice(0, 300)}`);
      }
    } catch (error) {
      if (!stopping) warn(`the pending-uploads sweep could not run: ${(error as Error).message}`);
    }
    if (!stopping) setTimeout(() => void sweep(), SWEEP_PERIOD_MS).unref();
  };
  setTimeout(() => void sweep(), SWEEP_PERIOD_MS).unref();
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  await stopOffline(offline);
  await new Promise((done) => (bridge ? bridge.close(done) : done(undefined)));
  await frontDoor?.close();
  try {
    cephRgw('stop');
  } catch {}
  if (configFile) rmSync(resolve(ROOT, configFile), { force: true });
  rmSync(STACK_FILE, { force: true });
  rmSync(LOCK_FILE, { force: true });
  log('stopped; nothing left running.');
  if (code !== 0 && output === 'quiet') {
    console.error(`[start] what it printed: ${START_LOG}; the functions' log: ${OFFLINE_LOG}`);
  }
  process.exit(code);
}

/**
 * Waits for RGW's push of the readiness probe's event, saying so when it has
 * not come yet; exits, saying why, when none comes within
 * {@link FIRST_PUSH_TIMEOUT_MS} of the probe: uploads would land and never be judged.
 */
async function waitForFirstPush(firstPush: Promise<void>, probedAt: number): Promise<void> {
  let pushed = false;
  void firstPush.then(() => {
    pushed = true;
  });
  await new Promise((done) => setImmediate(done));
  if (pushed) return;
  log('waiting for RGW to push its first event (it takes up a new event queue on a periodic tick)…');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((done) => {
    timer = setTimeout(done, Math.max(0, FIRST_PUSH_TIMEOUT_MS - (Date.now() - probedAt)));
  });
  await Promise.race([firstPush, timedOut]);
  clearTimeout(timer);
  if (pushed) {
    log(`RGW pushed its first event ${Math.round((Date.now() - probedAt) / 1000)} s after the probe`);
    return;
  }
  warn(`RGW pushed no event within ${FIRST_PUSH_TIMEOUT_MS / 1000} s: uploads would never be judged`);
  await shutdown(1);
}

async function main(): Promise<void> {
  let webhooks: LocalWebhooks | undefined;
  let limits: LocalLimits;
  let malwareScan: MalwareScan;
  let emulatorSettings: ReturnType<typeof emulatorEnvironment>;
  try {
    webhooks = webhookSettings();
    limits = limitSettings();
    malwareScan = malwareScanSetting();
    emulatorSettings = emulatorEnvironment(process.env);
  } catch (error) {
    warn((error as Error).message.replace(/^invalid configuration: /, ''));
    process.exit(1);
  }
  takeLock();
  // The gateway starts empty: so does the record of what was created in it.
  rmSync(EVENTS_LOG, { force: true });
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  await ensurePortFree(settings.httpPort, 'HTTP_PORT');
  await ensurePortFree(settings.lambdaPort, 'LAMBDA_PORT');
  await ensurePortFree(settings.bridgePort, 'BRIDGE_PORT');
  await ensurePortFree(settings.s3Port, 'S3_PORT');

  log('starting Ceph RGW (real S3 + STS)…');
  cephRgw('start');
  const admin = JSON.parse(readFileSync(ADMIN_FILE, 'utf8')) as AdminAccess;
  // The fault tests' controls, on the bridge's port: events lost, duplicated or held; S3 writes failed.
  const faults = eventFaults({ log: record });
  const adminS3 = adminS3Client(admin);
  // What every S3 client of the stack uses, the functions' and the browser's: RGW behind its front door.
  frontDoor = await startS3FrontDoor({
    port: settings.s3Port,
    rgwEndpoint: admin.endpoint,
    log: warn,
    fails: faults.failsWrite,
  });
  frontDoor.server.on('error', (error) => {
    warn(`the S3 front door failed: ${error.message}; stopping the stack.`);
    void shutdown(1);
  });
  const s3Endpoint = `http://127.0.0.1:${settings.s3Port}`;

  const lambdaUrl = `http://127.0.0.1:${settings.lambdaPort}`;
  const validatorInvokeUrl = `${lambdaUrl}/2015-03-31/functions/${validatorFunction}/invocations`;
  // With MALWARE_SCAN=guardduty, once its role exists: told of each created object by the bridge.
  let emulator: ReturnType<typeof guardDutyEmulator> | undefined;
  const invocations = asyncInvocations({
    deadLetterFiles: { [delivererFunction]: WEBHOOK_DLQ_FILE, [validatorFunction]: VALIDATOR_DLQ_FILE },
    invokeUrl: (name) => `${lambdaUrl}/2015-03-31/functions/${name}/invocations`,
    region: FUNCTION_REGION,
    log: record,
  });
  // An object put in a bucket of its own whose events share the uploads' topic: its push shows that
  // RGW pushes the uploads' event queue, and only then is the stack up.
  const readinessProbeBucket = `${settings.bucket}-probe`;
  let firstPushSeen = () => {};
  const firstPush = new Promise<void>((done) => {
    firstPushSeen = done;
  });
  bridge = await startEventBridge({
    readinessProbe: { bucket: readinessProbeBucket, seen: () => firstPushSeen() },
    port: settings.bridgePort,
    region: admin.region,
    invokeUrl: validatorInvokeUrl,
    log,
    // The tags as the bucket owner reads them now, before the validator runs: what the object
    // was created with (RGW's own push leaves them out after a form POST into a versioned bucket).
    // Recorded all the same, tagless, when the read fails: the validator may be deleting that very
    // version (one posted over a file), and every event must be in the record.
    record: async (created) => {
      const { TagSet = [] } = await adminS3
        .send(
          new GetObjectTaggingCommand({
            Bucket: settings.bucket,
            Key: created.key,
            ...(created.versionId ? { VersionId: created.versionId } : {}),
          }),
        )
        .catch(() => ({ TagSet: [] }));
      const tags = TagSet.map((tag) => ({ key: tag.Key ?? '', val: tag.Value ?? '' }));
      appendFileSync(EVENTS_LOG, `${JSON.stringify({ ...created, tags, receivedAt: Date.now() })}\n`);
    },
    // The validator's asynchronous invocations of the deliverer (retried, then dead-lettered), and
    // the GuardDuty emulator's test controls.
    invocations: async (request, response) =>
      (await emulator?.control(request, response)) || invocations(request, response),
    created: (created) => emulator?.scan(created),
    beforeValidation: async (created) => emulator?.contentHeld(created),
    batches: VALIDATOR_BATCHES,
    faults,
  });

  log(`provisioning bucket ${settings.bucket}, roles, bucket policy and notifications…`);
  const roles = await provision({
    admin,
    bucket: settings.bucket,
    stateBucket: settings.stateBucket,
    allowedOrigins: settings.allowedOrigins,
    pushEndpoint: `http://127.0.0.1:${settings.bridgePort}/events`,
    readinessProbeBucket,
    rolePrefix: `presign-${settings.stage}`,
    partnerReaders: localPartnerReaders(),
    malwareScan,
  });
  const roleArns = roles.functions;
  const probedAt = Date.now();
  await adminS3.send(new PutObjectCommand({ Bucket: readinessProbeBucket, Key: 'probe', Body: 'probe' }));
  if (roles.scanner) {
    const scannerRole = roles.scanner;
    const assume = roleAssumer(admin);
    emulator = guardDutyEmulator({
      bucket: settings.bucket,
      region: admin.region,
      // GuardDuty's S3 permissions, renewed by the SDK before the session ends.
      scanner: new S3Client({
        endpoint: s3Endpoint,
        region: admin.region,
        forcePathStyle: true,
        credentials: async () => assume(scannerRole, SCANNER_SESSION, settings.sessionSeconds),
      }),
      admin: adminS3,
      deliver: (event) => invokeWithRetries({ invokeUrl: validatorInvokeUrl, log }, event),
      ...emulatorSettings,
      log: warn,
    });
    log(
      `GuardDuty emulator on: tags each upload after ${emulatorSettings.delayMs} ms (an emulator, not a scanner)`,
    );
  }

  const jwks = await devJwks();
  const secrets = { share: shareSecret(), owner: devOwnerSecret() };
  const verdictKeys = devVerdictKeys();
  const apiUrl = `http://127.0.0.1:${settings.httpPort}`;
  const launch = async () => {
    const credentials = await assumeRoles(admin, roleArns);
    const previous = offline;
    offline = undefined;
    await stopOffline(previous);
    configFile = await writeOfflineConfig(
      LOCAL_DIR,
      {
        credentials,
        secrets: {
          ownerSecretParameter: secrets.owner,
          shareSecretParameter: secrets.share,
          verdictSigningKeyParameter: verdictKeys.privateKey,
          ...(webhooks ? { webhookSecretParameter: webhooks.secret } : {}),
        },
        ...(webhooks
          ? {
              webhooks: {
                url: webhooks.url,
                deliverer: delivererFunction,
                // The validator invokes the deliverer through the bridge's stand-in for Lambda's async invoke.
                lambdaEndpoint: `http://127.0.0.1:${settings.bridgePort}`,
              },
            }
          : {}),
        // The sweep invokes the validator through the same stand-in.
        validator: { name: validatorFunction, lambdaEndpoint: `http://127.0.0.1:${settings.bridgePort}` },
        wiring: {
          UPLOADS_BUCKET: settings.bucket,
          STATE_BUCKET: settings.stateBucket,
          S3_ENDPOINT: s3Endpoint,
          AUTH_JWKS: JSON.stringify(jwks),
          // Shorter windows, for the tests' stacks only.
          ...Object.fromEntries(
            [
              'UPLOAD_RATE_WINDOW_SECONDS',
              'RESERVATION_GRACE_SECONDS',
              'PENDING_SWEEP_AFTER_SECONDS',
            ].flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])),
          ),
        },
      },
      { httpPort: settings.httpPort, lambdaPort: settings.lambdaPort },
    );
    offline = startOffline(configFile, verdictKeys, malwareScan);
    await waitForHealth(`${apiUrl}/health`, 120);
    const earliest = Math.min(...Object.values(credentials).map((c) => Date.parse(c.expiration)));
    // Renew well before the sessions end: a URL never outlives its signer.
    const renewIn = Math.max(30_000, (earliest - Date.now()) * 0.8);
    setTimeout(() => {
      log('renewing the functions’ role credentials (restarting serverless offline)…');
      launch().catch((error) => {
        warn(`renewal failed: ${(error as Error).message}`);
        void shutdown(1);
      });
    }, renewIn).unref();
  };
  await launch();
  await waitForFirstPush(firstPush, probedAt);
  sweepPeriodically(`${lambdaUrl}/2015-03-31/functions/${sweepFunction}/invocations`);

  const info: StackInfo = {
    apiUrl,
    s3Endpoint,
    rgwEndpoint: admin.endpoint,
    bucket: settings.bucket,
    stateBucket: settings.stateBucket,
    region: FUNCTION_REGION,
    pid: process.pid,
    validatorFunction,
    lambdaUrl,
    delivererFunction,
    webhookUrl: webhooks?.url ?? null,
    malwareScan,
    limits,
  };
  writeFileSync(STACK_FILE, `${JSON.stringify(info, null, 2)}\n`);
  record(`[start] up: API ${apiUrl}, S3 ${s3Endpoint} (RGW ${admin.endpoint})`);
  if (output === 'quiet') return;
  console.log(`
  Local stack is up (Ctrl-C stops everything).
    API:        ${apiUrl}        (try: curl ${apiUrl}/health)
    S3:         ${s3Endpoint}   bucket ${settings.bucket}
                (Ceph RGW at ${admin.endpoint}, behind a front door that answers browsers'
                CORS preflights as S3 does: RGW 16 refuses those of presigned URLs)
    Token:      npm run token -- <sub>     e.g. TOKEN=$(npm run -s token -- alice)
    Upload URL: curl -X POST ${apiUrl}/uploads -H "authorization: Bearer $TOKEN" \\
                  -H 'content-type: application/json' -d '{"filename":"cat.png","contentType":"image/png","size":1234}'
    Limits:     ${describeLimits(limits)}
    Malware:    ${malwareScan === 'guardduty' ? `GuardDuty emulator (not a scanner): EICAR → THREATS_FOUND, "${emulatorSettings.unsupportedMarker}" → UNSUPPORTED, else NO_THREATS_FOUND, after ${emulatorSettings.delayMs} ms` : 'off (MALWARE_SCAN=guardduty adds the GuardDuty emulator and its gate)'}
    Webhooks:   ${webhooks ? `POST ${webhooks.url}; undeliverable ones in .local/webhook-dlq.jsonl` : 'off (start with WEBHOOK_URL and WEBHOOK_SECRET to send them)'}
    Details:    .local/stack.json
    Logs:       .local/offline.log has every invocation; here: warnings and errors only
                (npm start -- --logs shows everything serverless offline prints)
`);
}

main().catch((error) => {
  warn(`failed: ${(error as Error).message}`);
  void shutdown(1);
});
