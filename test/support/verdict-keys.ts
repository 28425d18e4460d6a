import { generateKeyPairSync } from 'node:crypto';
import { type VerdictClaims, verdictSigner } from '../../lib/core/verdict-signature.js';
import { TAG } from '../../lib/store/object-encoding.js';

const pair = generateKeyPairSync('ed25519');

/** The unit tests' validator key pair (base64 of PEM, as the environment carries them), new per run. */
export const TEST_VERDICT_KEYS = {
  privateKey: Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).toString(
    'base64',
  ),
  publicKey: Buffer.from(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string).toString('base64'),
};

/** Signs a verdict as the test validator does: for fixtures that carry a genuine verdict. */
export const signTestVerdict = (claims: VerdictClaims): string =>
  verdictSigner(TEST_VERDICT_KEYS.privateKey)(claims);

/**
 * The validation tags the validator writes for `claims`, signed with the test
 * key (as a tag map): a genuine verdict for exactly that bucket, key, version
 * and ETag. `signature` replaces the signature (a forged or misplaced one).
 */
export function signedVerdictTags(
  claims: VerdictClaims,
  options: { signature?: string } = {},
): Record<string, string> {
  return {
    [TAG.status]: claims.status,
    [TAG.validatedEtag]: claims.eTag,
    [TAG.signature]: options.signature ?? signTestVerdict(claims),
    ...(claims.reason !== undefined ? { [TAG.reason]: claims.reason } : {}),
    ...(claims.detectedType !== undefined ? { [TAG.detectedType]: claims.detectedType } : {}),
  };
}
