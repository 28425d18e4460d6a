/** Resolves the credentials a URL is signed with; temporary ones carry their `expiration`. */
export type SigningCredentials = () => Promise<{ expiration?: Date }>;

/**
 * When a URL signed now, asked to live `ttlSeconds`, really stops working: the
 * earlier of its own expiry and the signing credentials' expiration, because a
 * presigned URL dies with the temporary credentials that signed it.
 */
export async function effectiveExpiry(
  credentials: SigningCredentials,
  ttlSeconds: number,
  now: Date,
): Promise<{ expiresAt: Date; expiresIn: number }> {
  const { expiration } = await credentials();
  const wanted = now.getTime() + ttlSeconds * 1000;
  const expiresAt = new Date(expiration ? Math.min(wanted, expiration.getTime()) : wanted);
  const expiresIn = Math.max(1, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  return { expiresAt, expiresIn };
}
