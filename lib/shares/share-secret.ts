import { createSecretKey, type KeyObject } from 'node:crypto';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { Environment } from '../config/environment.js';

/** The shortest share secret accepted, as for `SHARE_SECRET` itself. */
const MIN_SECRET_LENGTH = 32;

type ShareSecretConfig = Pick<Environment, 'SHARE_SECRET' | 'SHARE_SECRET_PARAMETER'>;

/** Reads a SecureString parameter's decrypted value. */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/**
 * Builds the share-link HMAC key from a secret given in the environment.
 * Synchronous, so it cannot read SSM: throws (naming the variable) when
 * `SHARE_SECRET` is missing, whether or not `SHARE_SECRET_PARAMETER` is set;
 * {@link loadShareKey} resolves the parameter.
 */
export function shareKeyFrom(config: ShareSecretConfig): KeyObject {
  if (config.SHARE_SECRET) return createSecretKey(Buffer.from(config.SHARE_SECRET, 'utf8'));
  if (config.SHARE_SECRET_PARAMETER) {
    throw new Error(
      'invalid configuration: SHARE_SECRET is required here (SHARE_SECRET_PARAMETER is read by loadShareKey)',
    );
  }
  throw new Error(
    'invalid configuration: SHARE_SECRET is required (or SHARE_SECRET_PARAMETER, naming an SSM SecureString)',
  );
}

/** Powertools Parameters: the decrypted value of a SecureString, read once per cold start. */
const readSecureString: ParameterReader = (name) => getParameter(name, { decrypt: true });

/**
 * Builds the share-link HMAC key: from `SHARE_SECRET` when set (it takes
 * precedence), else from the SSM SecureString named by
 * `SHARE_SECRET_PARAMETER`. Throws an error naming the variable when neither
 * is set, when the parameter cannot be read, or when its value is shorter
 * than 32 characters. Never puts the secret in an error or a log.
 */
export async function loadShareKey(
  config: ShareSecretConfig,
  readParameter: ParameterReader = readSecureString,
): Promise<KeyObject> {
  const name = config.SHARE_SECRET_PARAMETER;
  if (config.SHARE_SECRET || !name) return shareKeyFrom(config);
  let secret: string | undefined;
  try {
    secret = await readParameter(name);
  } catch (error) {
    const reason = error instanceof Error ? error.name : 'unknown error';
    throw new Error(
      `invalid configuration: SHARE_SECRET_PARAMETER ${name} could not be read from SSM (${reason})`,
      { cause: error },
    );
  }
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `invalid configuration: SHARE_SECRET_PARAMETER ${name} must hold at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
