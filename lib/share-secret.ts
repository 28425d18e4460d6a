import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Environment } from './config.js';
import { env } from './env.js';

/**
 * Builds the share-link HMAC key from configuration. Throws (at cold start,
 * naming the variable) when `SHARE_SECRET` is missing: resolving
 * `SHARE_SECRET_PARAMETER` from SSM needs `@aws-sdk/client-ssm`, which is not
 * a runtime dependency yet, so that parameter alone is refused too.
 */
export function shareKeyFrom(
  config: Pick<Environment, 'SHARE_SECRET' | 'SHARE_SECRET_PARAMETER'>,
): KeyObject {
  if (config.SHARE_SECRET) return createSecretKey(Buffer.from(config.SHARE_SECRET, 'utf8'));
  if (config.SHARE_SECRET_PARAMETER) {
    throw new Error(
      'invalid configuration: SHARE_SECRET is required (SHARE_SECRET_PARAMETER is set, but reading it from SSM is not supported in this build)',
    );
  }
  throw new Error('invalid configuration: SHARE_SECRET is required');
}

/** This function's share-link key, built once at cold start. */
export const shareKey = shareKeyFrom(env);
