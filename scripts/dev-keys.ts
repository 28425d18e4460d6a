import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/** Local development identity provider: issuer, audience and key file. */
export const DEV_ISSUER = 'presign-local';
export const DEV_AUDIENCE = 'presign-api';
const KEY_FILE = resolve(import.meta.dirname, '..', '.local', 'dev-signing-key.json');
const KEY_ID = 'presign-local-dev';

/**
 * The local development signing key (ES256), generated on first use into the
 * git-ignored `.local/` and never committed. Returns the private JWK.
 */
export async function devSigningKey(): Promise<JWK> {
  if (existsSync(KEY_FILE)) return JSON.parse(readFileSync(KEY_FILE, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: KEY_ID, alg: 'ES256', use: 'sig' };
  mkdirSync(dirname(KEY_FILE), { recursive: true });
  writeFileSync(KEY_FILE, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

/** The public JWKS the functions verify local tokens against. */
export async function devJwks(): Promise<{ keys: JWK[] }> {
  const { d: _private, ...publicJwk } = await devSigningKey();
  return { keys: [publicJwk] };
}

/** A development token for `sub`, valid for `ttlSeconds` (default one hour). */
export async function devToken(sub: string, ttlSeconds = 3600): Promise<string> {
  const jwk = await devSigningKey();
  const key = await importJWK(jwk, 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: KEY_ID, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

const VERDICT_KEY_FILE = resolve(import.meta.dirname, '..', '.local', 'verdict-key.json');

/** The validator's Ed25519 key pair for the local stack, as base64 of PEM (one line each). */
export interface VerdictKeys {
  privateKey: string;
  publicKey: string;
}

/**
 * The local stack's verdict key pair, generated on first use into the
 * git-ignored `.local/` and never committed. In AWS the private key lives in
 * SSM, readable by the validator's role only.
 */
export function devVerdictKeys(): VerdictKeys {
  if (existsSync(VERDICT_KEY_FILE)) return JSON.parse(readFileSync(VERDICT_KEY_FILE, 'utf8')) as VerdictKeys;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keys: VerdictKeys = {
    privateKey: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).toString('base64'),
    publicKey: Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }) as string).toString('base64'),
  };
  mkdirSync(dirname(VERDICT_KEY_FILE), { recursive: true });
  writeFileSync(VERDICT_KEY_FILE, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

const OWNER_SECRET_FILE = resolve(import.meta.dirname, '..', '.local', 'owner-secret');

/**
 * The local stack's owner secret, the key of the HMAC that makes each JWT `sub`
 * an owner segment: generated on first use into the git-ignored `.local/` and
 * never committed. In AWS it lives in SSM, readable only by the roles of the
 * functions that authenticate callers.
 */
export function devOwnerSecret(): string {
  if (!existsSync(OWNER_SECRET_FILE)) {
    mkdirSync(dirname(OWNER_SECRET_FILE), { recursive: true });
    writeFileSync(OWNER_SECRET_FILE, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(OWNER_SECRET_FILE, 'utf8').trim();
}
