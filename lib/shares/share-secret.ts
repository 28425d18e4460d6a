import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { env } from '../config/env.js';
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

const readSecureString: ParameterReader = async (name) => {
  const ssm = new SSMClient({ region: env.AWS_REGION });
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return Parameter?.Value;
};

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

/**
 * Only functions configured with a share secret sign or open share links
 * (createShare and openShare; revokeShares only bumps a tag, and its role may
 * not read the parameter). Those resolve their key here, once, at cold start:
 * an unreadable parameter fails the cold start, not a request.
 */
const configuredKey = env.SHARE_SECRET || env.SHARE_SECRET_PARAMETER ? await loadShareKey(env) : undefined;

/**
 * This function's share-link key. Throws (a 500, cause logged) in a function
 * configured with neither `SHARE_SECRET` nor `SHARE_SECRET_PARAMETER`.
 */
export function requireShareKey(): KeyObject {
  if (!configuredKey) {
    throw new Error(
      'invalid configuration: SHARE_SECRET or SHARE_SECRET_PARAMETER is required for share links',
    );
  }
  return configuredKey;
}

/**
 * The key as a value, for callers that know this function is configured
 * (tests run with `SHARE_SECRET`); lib code uses {@link requireShareKey}.
 * Unconfigured, it is a random throwaway key: nothing it signs ever verifies.
 */
export const shareKey: KeyObject = configuredKey ?? createSecretKey(randomBytes(32));
