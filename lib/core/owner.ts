import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** The authenticated caller: the JWT `sub` and the key segment derived from it. */
export interface Owner {
  readonly sub: string;
  /** 32 lowercase hex characters; safe in an S3 key whatever `sub` holds. */
  readonly segment: string;
}

/** The shortest owner secret accepted (`OWNER_SECRET`, or the SSM parameter holding it). */
export const MIN_OWNER_SECRET_LENGTH = 32;

/**
 * The key owner segments are derived with, from the deployment's owner secret.
 * Throws on a secret shorter than {@link MIN_OWNER_SECRET_LENGTH}; never puts
 * the secret in the message.
 */
export function ownerKeyFrom(secret: string): KeyObject {
  if (secret.length < MIN_OWNER_SECRET_LENGTH) {
    throw new Error(`owner secret must hold at least ${MIN_OWNER_SECRET_LENGTH} characters`);
  }
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/**
 * Maps any `sub` (`auth0|123`, an e-mail, unicode, slashes) to a fixed-alphabet
 * key segment: the first 128 bits of HMAC-SHA256 over its UTF-8 bytes under the
 * deployment's owner key, in hex. No user text ever enters an object key, and
 * without the key nobody who sees a segment (in a key, a presigned URL or a
 * share token) can test a guessed `sub` against it. The same `sub` always maps
 * to the same segment under one key: changing the key moves every owner.
 */
export function ownerFromSubject(sub: string, key: KeyObject): Owner {
  const segment = createHmac('sha256', key).update(sub, 'utf8').digest('hex').slice(0, 32);
  return Object.freeze({ sub, segment });
}
