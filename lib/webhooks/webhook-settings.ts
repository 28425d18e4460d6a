import { Webhook } from 'standardwebhooks';
import { loadEnvironment } from '../config/environment.js';
import { type ParameterReader, readSecureString, resolveSecret } from '../config/secrets.js';

/** Where and with what key the deliverer sends, read once at cold start. */
export interface WebhookSettings {
  url: URL;
  /** The `whsec_…` key, as the receiver holds it too. */
  secret: string;
}

/** Standard Webhooks: secrets are 24 to 64 random bytes. */
export const WEBHOOK_SECRET_BYTES = { min: 24, max: 64 } as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Parses the receiver's URL: absolute `https:`, or `http:` to a loopback
 * host only (the local stack's receivers), with no credentials in it.
 * Throws naming `variable`.
 */
export function parseWebhookUrl(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`invalid configuration: ${variable} is not an absolute URL`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(
      `invalid configuration: ${variable} must be an https: URL (http: only to a loopback host)`,
    );
  }
  if (url.username || url.password) {
    throw new Error(`invalid configuration: ${variable} must not carry credentials`);
  }
  return url;
}

/**
 * Checks a Standard Webhooks secret: `whsec_` and the base64 of 24 to 64
 * bytes. Throws naming `variable`, never quoting the secret.
 */
export function parseWebhookSecret(variable: string, value: string): string {
  const encoded = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  if (encoded === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new Error(`invalid configuration: ${variable} must be whsec_ followed by base64`);
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < WEBHOOK_SECRET_BYTES.min || bytes > WEBHOOK_SECRET_BYTES.max) {
    throw new Error(
      `invalid configuration: ${variable} must hold ${WEBHOOK_SECRET_BYTES.min} to ${WEBHOOK_SECRET_BYTES.max} bytes`,
    );
  }
  // The package's own reading of the key, so that what passes here is what it signs with.
  new Webhook(value);
  return value;
}

/**
 * The webhook key: `WEBHOOK_SECRET` itself, or the SSM SecureString
 * `WEBHOOK_SECRET_PARAMETER` names (read with `readParameter`); `undefined`
 * when neither is set.
 */
export function readWebhookSecret(
  environment: {
    readonly WEBHOOK_SECRET?: string | undefined;
    readonly WEBHOOK_SECRET_PARAMETER?: string | undefined;
  },
  readParameter: ParameterReader,
): Promise<string | undefined> {
  return resolveSecret(
    {
      variable: 'WEBHOOK_SECRET',
      value: environment.WEBHOOK_SECRET,
      parameterVariable: 'WEBHOOK_SECRET_PARAMETER',
      parameter: environment.WEBHOOK_SECRET_PARAMETER,
      minLength: 1,
    },
    readParameter,
  );
}

/**
 * The deliverer's settings, read from environment variables at cold start:
 * `WEBHOOK_URL`, and the key from `WEBHOOK_SECRET` or the SSM SecureString
 * `WEBHOOK_SECRET_PARAMETER` names (read with `readParameter`). The whole
 * environment is checked, as every function's is. Only these: the deliverer
 * calls no AWS service but SSM, so its bundle carries no S3 client or JWT
 * verifier. Throws naming the variable that is missing or unusable.
 */
export async function loadWebhookSettings(
  variables: NodeJS.ProcessEnv,
  readParameter: ParameterReader = readSecureString,
): Promise<WebhookSettings> {
  const environment = loadEnvironment(variables);
  if (!environment.WEBHOOK_URL) {
    throw new Error('invalid configuration: WEBHOOK_URL is required to deliver webhooks');
  }
  const secret = await readWebhookSecret(environment, readParameter);
  if (!secret) {
    throw new Error(
      'invalid configuration: WEBHOOK_SECRET or WEBHOOK_SECRET_PARAMETER is required with WEBHOOK_URL',
    );
  }
  const secretVariable = environment.WEBHOOK_SECRET ? 'WEBHOOK_SECRET' : 'WEBHOOK_SECRET_PARAMETER';
  return {
    url: parseWebhookUrl('WEBHOOK_URL', environment.WEBHOOK_URL),
    secret: parseWebhookSecret(secretVariable, secret),
  };
}
