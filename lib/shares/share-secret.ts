import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Environment } from '../config/environment.js';
import { type ParameterReader, resolveSecret } from '../config/secrets.js';

/** The shortest share secret accepted, as for `SHARE_SECRET` itself. */
const MIN_SECRET_LENGTH = 32;

type ShareSecretConfig = Pick<Environment, 'SHARE_SECRET' | 'SHARE_SECRET_PARAMETER'>;

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

/**
 * Builds the share-link HMAC key: from `SHARE_SECRET` when set (it takes
 * precedence), else from the SSM SecureString named by
 * `SHARE_SECRET_PARAMETER`. Throws an error naming the variable when neither
 * is set, when the parameter cannot be read, or when its value is shorter
 * than 32 characters. Never puts the secret in an error or a log.
 */
export async function loadShareKey(
  config: ShareSecretConfig,
  readParameter: ParameterReader,
): Promise<KeyObject> {
  const secret = await resolveSecret(
    {
      variable: 'SHARE_SECRET',
      value: config.SHARE_SECRET,
      parameterVariable: 'SHARE_SECRET_PARAMETER',
      parameter: config.SHARE_SECRET_PARAMETER,
      minLength: MIN_SECRET_LENGTH,
    },
    readParameter,
  );
  return secret === undefined ? shareKeyFrom(config) : createSecretKey(Buffer.from(secret, 'utf8'));
}
