import type { KeyObject } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Environment, loadEnvironment } from './config/environment.js';
import { type ParameterReader, readSecureString, resolveSecret } from './config/secrets.js';
import { parseUploadRules, type UploadRules } from './config/upload-rules.js';
import { type Clock, systemClock } from './core/clock.js';
import type { MalwareScanMode } from './core/file-checks.js';
import { verdictSigner, verdictVerifier } from './core/verdict-signature.js';
import type { PublicUrlSettings } from './http/public-url.js';
import type { LimitSettings } from './limits/usage-ledger.js';
import { loadShareKey } from './shares/share-secret.js';
import { createFileStore, type FileStore } from './store/file-store.js';
import { createS3Client } from './store/s3-client.js';

/**
 * A function's settings and clients: built in this one place and passed to the code that uses them.
 * The functions that authenticate callers build theirs with lib/caller-runtime.ts, which adds the
 * bearer verifier; the others (the validator, the sweep, the share link's redirect) never load it.
 */
export interface Runtime {
  environment: Readonly<Environment>;
  /** Whether GuardDuty's malware verdict is a second check (the validator reconciles it into webhooks). */
  malwareScan: MalwareScanMode;
  /** The upload rules in force, from `UPLOAD_RULES` or the catalogue's defaults. */
  rules: UploadRules;
  /** Per-owner quota and upload rate (each unset: none). */
  limits: LimitSettings;
  store: FileStore;
  publicUrl: PublicUrlSettings;
  /** The share-link key, in the functions configured with one (the share functions). */
  shareKey?: KeyObject;
  /** What every date the function compares or issues is read from: the system clock, or a test's. */
  clock: Clock;
}

/** An Ed25519 private key in PEM is about 119 characters. */
const MIN_SIGNING_KEY_LENGTH = 64;

/** What replaces a runtime's S3 client, SSM reader and clock (tests pass their own). */
export interface RuntimeOverrides {
  s3?: S3Client;
  readParameter?: ParameterReader;
  clock?: Clock;
}

/** What a runtime is built with: the overrides, and how it reads the SSM parameters it is given. */
export interface RuntimeDependencies extends RuntimeOverrides {
  readParameter: ParameterReader;
}

/**
 * Builds a runtime from environment variables, reading the secrets this
 * function is configured with (from SSM in AWS) once. Throws, naming the
 * variable, when the configuration is missing or malformed, so a misconfigured
 * function fails its cold start, not a request. `s3` replaces the client built
 * from the environment, `readParameter` the SSM reader and `clock` the system
 * clock (tests pass their own).
 */
export async function createRuntime(
  variables: NodeJS.ProcessEnv,
  overrides: RuntimeOverrides = {},
): Promise<Runtime> {
  return runtimeOf(loadEnvironment(variables), {
    ...overrides,
    readParameter: overrides.readParameter ?? readSecureString,
  });
}

/**
 * {@link createRuntime} from an environment already parsed, reading its
 * parameters with `readParameter`: a function that is given none builds it
 * with {@link runtimeWithoutParameters}, and so never loads the SSM client.
 */
export async function runtimeOf(
  environment: Readonly<Environment>,
  { readParameter, ...overrides }: RuntimeDependencies,
): Promise<Runtime> {
  const clock = overrides.clock ?? systemClock;
  const s3 =
    overrides.s3 ??
    createS3Client({
      region: environment.AWS_REGION,
      ...(environment.S3_ENDPOINT ? { endpoint: environment.S3_ENDPOINT } : {}),
    });
  // Read concurrently: a function configured with several secrets waits for SSM once.
  const [signingKey, shareKey] = await Promise.all([
    resolveSecret(
      {
        variable: 'VERDICT_SIGNING_KEY',
        value: environment.VERDICT_SIGNING_KEY,
        parameterVariable: 'VERDICT_SIGNING_KEY_PARAMETER',
        parameter: environment.VERDICT_SIGNING_KEY_PARAMETER,
        minLength: MIN_SIGNING_KEY_LENGTH,
      },
      readParameter,
    ),
    environment.SHARE_SECRET || environment.SHARE_SECRET_PARAMETER
      ? loadShareKey(environment, readParameter)
      : undefined,
  ]);
  return {
    environment,
    clock,
    rules: parseUploadRules(environment.UPLOAD_RULES),
    limits: {
      ...(environment.QUOTA_BYTES_PER_OWNER !== undefined
        ? { quotaBytes: environment.QUOTA_BYTES_PER_OWNER }
        : {}),
      ...(environment.UPLOADS_PER_HOUR_PER_OWNER !== undefined
        ? { uploadsPerHour: environment.UPLOADS_PER_HOUR_PER_OWNER }
        : {}),
      rateWindowMs: environment.UPLOAD_RATE_WINDOW_SECONDS * 1000,
      landingGraceMs: environment.RESERVATION_GRACE_SECONDS * 1000,
    },
    store: createFileStore({
      s3,
      bucket: environment.UPLOADS_BUCKET,
      stateBucket: environment.STATE_BUCKET,
      verifyVerdict: configured('VERDICT_PUBLIC_KEY', () => verdictVerifier(environment.VERDICT_PUBLIC_KEY)),
      ...(signingKey
        ? { signVerdict: configured('VERDICT_SIGNING_KEY', () => verdictSigner(signingKey)) }
        : {}),
      // Ceph RGW (the only S3 reached through S3_ENDPOINT here) takes If-Match unquoted.
      conditionalETag: environment.S3_ENDPOINT ? 'unquoted' : 'quoted',
      malwareScan: environment.MALWARE_SCAN,
    }),
    malwareScan: environment.MALWARE_SCAN,
    publicUrl: {
      ...(environment.PUBLIC_API_URL ? { configured: environment.PUBLIC_API_URL } : {}),
      offline: environment.IS_OFFLINE,
    },
    ...(shareKey ? { shareKey } : {}),
  };
}

/** Builds something from one variable's value; a value it cannot use fails the cold start naming the variable. */
export function configured<T>(variable: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid configuration: ${variable} ${reason}`, { cause: error });
  }
}

let current: Promise<Runtime> | undefined;

/** This container's runtime, built from `process.env` on first use (a handler module's import) and kept. */
export const runtime = (): Promise<Runtime> => {
  current ??= createRuntime(process.env);
  return current;
};

/**
 * The SSM reader of a function given no parameter: its role may read none,
 * so one set on it fails its cold start, naming the variable.
 */
export const readNoParameter: ParameterReader = async () => {
  throw Object.assign(new Error('this function is given no SSM parameter'), { name: 'NoParameterGranted' });
};

let withoutParameters: Promise<Runtime> | undefined;

/**
 * {@link runtime} for a function given no secret (the pending-uploads sweep):
 * built the same way, without the SSM client in its bundle.
 */
export const runtimeWithoutParameters = (): Promise<Runtime> => {
  withoutParameters ??= runtimeOf(loadEnvironment(process.env), { readParameter: readNoParameter });
  return withoutParameters;
};

/** The share-link key of a runtime; throws (a failed cold start) in a function configured without one. */
export function requireShareKey(runtime: Runtime): KeyObject {
  if (!runtime.shareKey) {
    throw new Error(
      'invalid configuration: SHARE_SECRET or SHARE_SECRET_PARAMETER is required for share links',
    );
  }
  return runtime.shareKey;
}
