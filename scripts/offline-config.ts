// The configuration `osls offline` runs the local stack with: serverless.yml as osls reads it, plus
// what only the local stack has. serverless.yml knows nothing of it; `npm start` writes it before
// each start of serverless offline and passes it as `--config` (osls wants it in the service's
// folder, beside serverless.yml; git-ignored, removed when the stack stops).
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { declarations, type FunctionEntry, functionEntries } from './function-policies.js';

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
/** osls's own reader of serverless.yml: CloudFormation's short tags become their long form as osls deploys them. */
const readConfiguration = require('osls/lib/configuration/read') as (path: string) => Promise<ServiceConfig>;

interface ServiceConfig {
  plugins?: string[];
  provider: Record<string, unknown>;
  custom?: Record<string, unknown>;
  functions: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** One role session's credentials, as the functions' environment carries them. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601. */
  expiration: string;
}

/** What the local stack hands each function beside serverless.yml's environment. */
export interface LocalFunctionSettings {
  /** Each function's own role session, by function name; a function without S3 statements has none. */
  credentials: Record<string, SessionCredentials>;
  /** The secrets' values, by the stack param that names each in AWS (`ownerSecretParameter`, …). */
  secrets: Record<string, string>;
  /** Unset: webhooks off (the webhook secret is `secrets.webhookSecretParameter`). */
  webhooks?: { url: string; deliverer: string; lambdaEndpoint: string };
  /** The validator, for the functions that hand it files (the pending-uploads sweep): its name, and the local invoke. */
  validator?: { name: string; lambdaEndpoint: string };
  /**
   * The stack's own wiring, over serverless.yml's AWS values in every function's environment:
   * its buckets, its S3 endpoint, the development JWKS, and the shorter windows a test stack
   * runs with.
   */
  wiring?: Record<string, string>;
}

/**
 * Each function's local environment, from its declaration as in AWS: the secrets its flags
 * grant (their values: there is no SSM), the webhook settings of the deliverer and of its
 * senders, the validator's name for the functions that invoke it (the senders and these also
 * get the local stand-in for Lambda's asynchronous invoke), and its own
 * role session's credentials, so that locally each function signs as itself.
 */
export function functionEnvironments(
  settings: LocalFunctionSettings,
  entries: Record<string, FunctionEntry> = functionEntries(),
): Record<string, Record<string, string>> {
  const { webhooks, validator } = settings;
  return Object.fromEntries(
    Object.entries(entries).map(([fn, entry]) => {
      const credentials = settings.credentials[fn];
      const environment = {
        ...declarations.flagEnvironment(entry, {
          secret: (secret) => ({ [secret.valueVariable]: settings.secrets[secret.param] ?? '' }),
          webhooks: webhooks && {
            url: webhooks.url,
            deliverer: webhooks.deliverer,
            senderExtras: { LAMBDA_ENDPOINT: webhooks.lambdaEndpoint },
          },
          validator: validator && {
            name: validator.name,
            invokerExtras: { LAMBDA_ENDPOINT: validator.lambdaEndpoint },
          },
        }),
        ...(credentials
          ? {
              AWS_ACCESS_KEY_ID: credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
              AWS_SESSION_TOKEN: credentials.sessionToken,
              AWS_CREDENTIAL_EXPIRATION: credentials.expiration,
            }
          : {}),
      };
      return [fn, environment];
    }),
  );
}

/** Where the configuration of the stack keeping its state in `localDir` goes: one file per stack. */
export function offlineConfigFile(localDir: string): string {
  const name = relative(ROOT, localDir)
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `serverless.offline-${name || 'local'}.json`;
}

/**
 * serverless.yml with the local stack's additions: each function's environment
 * ({@link functionEnvironments}), the serverless-offline plugin on `ports`, and a 30 s
 * timeout: serverless offline runs every concurrent request in one process (and, with
 * noTimeout, never kills one), so the functions' own sense of their time left (middy answers
 * 500 just before it) follows suit.
 */
export async function offlineConfig(
  settings: LocalFunctionSettings,
  ports: { httpPort: number; lambdaPort: number },
): Promise<ServiceConfig> {
  const config = await readConfiguration(resolve(ROOT, 'serverless.yml'));
  const environments = functionEnvironments(settings);
  return {
    ...config,
    plugins: [...(config.plugins ?? []), 'serverless-offline'],
    provider: {
      ...config.provider,
      timeout: 30,
      environment: {
        ...((config.provider.environment as Record<string, unknown>) ?? {}),
        ...settings.wiring,
      },
    },
    custom: {
      ...config.custom,
      'serverless-offline': {
        host: '127.0.0.1',
        httpPort: ports.httpPort,
        lambdaPort: ports.lambdaPort,
        noPrependStageInUrl: true,
        // The emulator cold-starts a worker per concurrent request: on 2 cores a burst of 200
        // outlasts the 10 s AWS timeout, though each is fast once warm.
        noTimeout: true,
      },
    },
    functions: Object.fromEntries(
      Object.entries(config.functions).map(([fn, definition]) => [
        fn,
        { ...definition, environment: { ...(definition.environment ?? {}), ...environments[fn] } },
      ]),
    ),
  };
}

/**
 * Writes {@link offlineConfig} to {@link offlineConfigFile} (readable by its owner only: it holds
 * the sessions and the local secrets) and returns its name, for `osls offline --config`.
 */
export async function writeOfflineConfig(
  localDir: string,
  settings: LocalFunctionSettings,
  ports: { httpPort: number; lambdaPort: number },
): Promise<string> {
  const file = offlineConfigFile(localDir);
  const path = resolve(ROOT, file);
  writeFileSync(path, `${JSON.stringify(await offlineConfig(settings, ports), null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return file;
}
