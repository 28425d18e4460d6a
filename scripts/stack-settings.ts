import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
/**
 * Where the local stack keeps its state (git-ignored): `.local/`, or `PRESIGN_LOCAL_DIR` (relative
 * to the repository) for a second stack of its own, as the malware tests start one. The
 * development keys stay in `.local/` whatever it is (scripts/dev-keys.ts), so tokens work on both.
 */
export const LOCAL_DIR = resolve(ROOT, process.env.PRESIGN_LOCAL_DIR || '.local');
/** Ceph's state (scripts/ceph-rgw.sh's STATE_DIR). */
export const CEPH_DIR = resolve(LOCAL_DIR, 'ceph');
export const STACK_FILE = resolve(LOCAL_DIR, 'stack.json');
export const LOCK_FILE = resolve(LOCAL_DIR, 'stack.pid');
export const ADMIN_FILE = resolve(CEPH_DIR, 'admin.json');
/** The local partner account's user keys (scripts/ceph-rgw.sh writes it). */
export const PARTNER_FILE = resolve(CEPH_DIR, 'partner.json');
/** What serverless offline (every function's log) printed, appended across restarts. */
export const OFFLINE_LOG = resolve(LOCAL_DIR, 'offline.log');
/** What the supervisor and Ceph printed while the current stack started (rewritten by each start). */
export const START_LOG = resolve(LOCAL_DIR, 'start.log');
/**
 * Every object-created event RGW pushed, one JSON line each: key, version,
 * ETag and the tags the object carried when it was created (tests read it).
 */
export const EVENTS_LOG = resolve(LOCAL_DIR, 'events.jsonl');
/**
 * The local webhook dead-letter queue: one JSON line per webhook whose
 * delivery failed every retry, as Lambda's on-failure record (kept across restarts).
 */
export const WEBHOOK_DLQ_FILE = resolve(LOCAL_DIR, 'webhook-dlq.jsonl');
/** The validator's asynchronous invocations (the pending-uploads sweep's) that exhausted their retries. */
export const VALIDATOR_DLQ_FILE = resolve(LOCAL_DIR, 'validator-dlq.jsonl');

const port = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new Error(`${name} must be a TCP port`);
  return value;
};

/** Ports and names of the local stack; each can be overridden by environment. */
export const stackSettings = () => ({
  httpPort: port('HTTP_PORT', 3000),
  lambdaPort: port('LAMBDA_PORT', 3002),
  bridgePort: port('BRIDGE_PORT', 3010),
  /** Where the integration tests' webhook receiver listens (the stack they start posts to it). */
  webhookTestPort: port('WEBHOOK_TEST_PORT', port('BRIDGE_PORT', 3010) + 1),
  rgwPort: port('RGW_PORT', 7480),
  /**
   * The stack's S3 endpoint: the front door before RGW (scripts/s3-front-door.ts), next to RGW's
   * port unless set.
   */
  s3Port: port('S3_PORT', port('RGW_PORT', 7480) + 1),
  stage: 'local',
  bucket: process.env.UPLOADS_BUCKET ?? 'presign-local-uploads',
  stateBucket: process.env.STATE_BUCKET ?? 'presign-local-state',
  /** The page's own origins (on HTTP_PORT) unless ALLOWED_ORIGINS says otherwise. */
  allowedOrigins: (
    process.env.ALLOWED_ORIGINS ??
    `http://localhost:${port('HTTP_PORT', 3000)},http://127.0.0.1:${port('HTTP_PORT', 3000)}`
  ).split(','),
  /** Lifetime of each role session; the stack renews them before they expire. */
  sessionSeconds: Number(process.env.ROLE_SESSION_SECONDS ?? 3600),
});

/**
 * Ports for a second stack beside the one on the configured ports: the API's, Lambda's and the
 * bridge's `shift.api` above, RGW's, the front door's and the monitor's `shift.rgw` above. The
 * bench's own stack takes 40 and 20, the integration tests' own 60 and 30; the malware tests' second
 * stack, 20 and 10 above whichever stack they run beside.
 */
export function portsBeside(
  shift: { api: number; rgw: number },
  settings: Pick<
    ReturnType<typeof stackSettings>,
    'httpPort' | 'lambdaPort' | 'bridgePort' | 'rgwPort'
  > = stackSettings(),
  monitor = Number(process.env.CEPH_MON_PORT || 46789),
): Record<string, string> {
  return {
    HTTP_PORT: String(settings.httpPort + shift.api),
    LAMBDA_PORT: String(settings.lambdaPort + shift.api),
    BRIDGE_PORT: String(settings.bridgePort + shift.api),
    RGW_PORT: String(settings.rgwPort + shift.rgw),
    S3_PORT: String(settings.rgwPort + shift.rgw + 1),
    CEPH_MON_PORT: String(monitor + shift.rgw),
  };
}

/** What `npm start` writes for scripts and tests once the stack answers. */
export interface StackInfo {
  apiUrl: string;
  /** The S3 endpoint of the stack (functions, presigned URLs, browsers): the front door before RGW. */
  s3Endpoint: string;
  /** Ceph RGW itself, behind the front door (what admin.json names). */
  rgwEndpoint: string;
  bucket: string;
  /** The unversioned bucket of share epochs. */
  stateBucket: string;
  region: string;
  pid: number;
  validatorFunction: string;
  lambdaUrl: string;
  /** The webhook deliverer function. */
  delivererFunction: string;
  /** Where verdicts' webhooks are POSTed; `null` when the stack was started without WEBHOOK_URL. */
  webhookUrl: string | null;
  /** Whether GuardDuty's verdict is a second check (`guardduty`: the local GuardDuty emulator tags). */
  malwareScan: 'none' | 'guardduty';
  /** The per-owner limits the functions run with (QUOTA_BYTES_PER_OWNER, UPLOADS_PER_HOUR_PER_OWNER); `null`: none. */
  limits: { quotaBytesPerOwner: number | null; uploadsPerHourPerOwner: number | null };
}
