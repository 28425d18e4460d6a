import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/** What a verdict is about and what it says: exactly one version of one object. */
export interface VerdictClaims {
  bucket: string;
  key: string;
  versionId: string;
  /** The version's ETag, unquoted. */
  eTag: string;
  status: 'passed' | 'failed';
  reason?: string;
  detectedType?: string;
}

/** Signs verdicts: only the validator holds one. */
export type VerdictSigner = (claims: VerdictClaims) => string;
/** Checks a verdict's signature: every function that reads verdicts holds one. */
export type VerdictVerifier = (claims: VerdictClaims, signature: string | undefined) => boolean;

const DOMAIN = 'presign-verdict-v1';
/** An Ed25519 signature, base64url: 86 characters, all allowed in an S3 tag value. */
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/** The signed text: every claim, one per line, under a domain label (no claim holds a newline). */
function signedText(claims: VerdictClaims): Buffer {
  const fields = [
    DOMAIN,
    claims.bucket,
    claims.key,
    claims.versionId,
    claims.eTag,
    claims.status,
    claims.reason ?? '',
    claims.detectedType ?? '',
  ];
  return Buffer.from(fields.join('\n'), 'utf8');
}

/**
 * A key from PEM text, or from the base64 of PEM text (how a key travels in
 * one environment variable or parameter). Throws when it is neither.
 */
function pemOf(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('-----BEGIN') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
}

/** A signer from an Ed25519 private key in PEM (PKCS#8), or its base64. Throws on any other key. */
export function verdictSigner(privateKeyPem: string): VerdictSigner {
  const key: KeyObject = createPrivateKey(pemOf(privateKeyPem));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the verdict signing key must be an Ed25519 key');
  return (claims) => sign(null, signedText(claims), key).toString('base64url');
}

/** A verifier from an Ed25519 public key in PEM (SPKI), or its base64. Throws on any other key. */
export function verdictVerifier(publicKeyPem: string): VerdictVerifier {
  const key: KeyObject = createPublicKey(pemOf(publicKeyPem));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the verdict public key must be an Ed25519 key');
  return (claims, signature) =>
    signature !== undefined &&
    SIGNATURE.test(signature) &&
    verify(null, signedText(claims), key, Buffer.from(signature, 'base64url'));
}
