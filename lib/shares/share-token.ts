import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Tokens longer than this are refused before any decoding or MAC work. */
export const MAX_SHARE_TOKEN_LENGTH = 512;

const VERSION = '2';
const MAC_BYTES = 32;
/** `<base64url payload>.<base64url HMAC-SHA256>`; the MAC is always 43 characters. */
const TOKEN_PATTERN = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/;
/** `2.<owner segment>.<fileId>.<base64url version id>.<expiry unix s>.<share epoch>` */
const PAYLOAD_PATTERN =
  /^2\.([0-9a-f]{32})\.([0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{1,172})\.([1-9][0-9]{0,11})\.(0|[1-9][0-9]{0,8})$/;

/** What a share link grants: one version of one file, until `expiresAt`, while the file's share epoch is `epoch`. */
export interface ShareClaims {
  readonly segment: string;
  readonly fileId: string;
  /** The S3 version the link serves: the file's first, the bytes that were validated. */
  readonly versionId: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly epoch: number;
}

export type ShareTokenCheck =
  | { readonly ok: true; readonly claims: ShareClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'forged' | 'expired' };

function mac(key: KeyObject, payload: string): Buffer {
  return createHmac('sha256', key).update(payload, 'ascii').digest();
}

/**
 * Signs a share token: a base64url payload (version, owner segment, fileId,
 * expiry, share epoch) and its HMAC-SHA256 under `key`. Throws on claims that
 * the verifier would refuse, so a token issued is always one that verifies.
 */
export function signShareToken(key: KeyObject, claims: ShareClaims): string {
  const version = Buffer.from(claims.versionId, 'utf8').toString('base64url');
  const text = `${VERSION}.${claims.segment}.${claims.fileId}.${version}.${claims.expiresAt}.${claims.epoch}`;
  if (!PAYLOAD_PATTERN.test(text)) throw new Error('share claims out of range');
  const payload = Buffer.from(text, 'ascii').toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/**
 * Verifies a share token: length bound, then the MAC in constant time, and
 * only then the payload and its expiry against `nowSeconds`. Never throws;
 * `malformed` and `forged` are indistinguishable to a caller of the API.
 */
export function verifyShareToken(key: KeyObject, token: string, nowSeconds: number): ShareTokenCheck {
  if (token.length > MAX_SHARE_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = TOKEN_PATTERN.exec(token);
  const payload = parts?.[1];
  const given = parts?.[2] ? Buffer.from(parts[2], 'base64url') : undefined;
  // Re-encoding catches non-canonical base64url (stray low bits in the last character).
  if (!payload || !given || given.length !== MAC_BYTES || given.toString('base64url') !== parts?.[2]) {
    return { ok: false, reason: 'malformed' };
  }
  if (!timingSafeEqual(given, mac(key, payload))) return { ok: false, reason: 'forged' };
  const fields = PAYLOAD_PATTERN.exec(Buffer.from(payload, 'base64url').toString('latin1'));
  if (!fields?.[1] || !fields[2] || !fields[3] || !fields[4] || !fields[5]) {
    return { ok: false, reason: 'malformed' };
  }
  const claims: ShareClaims = {
    segment: fields[1],
    fileId: fields[2],
    versionId: Buffer.from(fields[3], 'base64url').toString('utf8'),
    expiresAt: Number(fields[4]),
    epoch: Number(fields[5]),
  };
  if (nowSeconds >= claims.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
