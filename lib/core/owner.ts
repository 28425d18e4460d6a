import { createHash } from 'node:crypto';

/** The authenticated caller: the JWT `sub` and the key segment derived from it. */
export interface Owner {
  readonly sub: string;
  /** 32 lowercase hex characters; safe in an S3 key whatever `sub` holds. */
  readonly segment: string;
}

/**
 * Maps any `sub` (`auth0|123`, an e-mail, unicode, slashes) to a fixed-alphabet
 * key segment: the first 128 bits of SHA-256 over its UTF-8 bytes, in hex.
 * No user text ever enters an object key.
 */
export function ownerFromSubject(sub: string): Owner {
  const segment = createHash('sha256').update(sub, 'utf8').digest('hex').slice(0, 32);
  return Object.freeze({ sub, segment });
}
