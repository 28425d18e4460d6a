import { Webhook } from 'standardwebhooks';

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
