import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { linkExpired, linkRevoked, notFound } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import { type DownloadStore, presignFileDownload } from '../downloads/download-url.js';
import type { FileStore } from '../store/file-store.js';
import { signShareToken, verifyShareToken } from './share-token.js';

/** Share link lifetime bounds, in seconds. */
export const SHARE_TTL_DEFAULT = 86_400;
export const SHARE_TTL_MAX = 604_800;
/** The presigned GET behind a share link lives at most this long. */
export const SHARE_REDIRECT_TTL = 60;

/** What share links need: the file store and the HMAC key that signs and checks their tokens. */
export interface ShareDependencies {
  store: DownloadStore & Pick<FileStore, 'readShareEpoch'>;
  shareKey: KeyObject;
  /** What links' expiry is reckoned from. */
  clock: Clock;
}

const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * Issues a share link for one of the owner's validated files, bound to the
 * version that was validated and to the file's current share epoch. Throws 404 for an unknown or another owner's
 * file and 409 `not_validated` unless it has passed validation.
 */
export async function issueShare(
  { store, shareKey, clock }: ShareDependencies,
  owner: Pick<Owner, 'segment'>,
  fileId: string,
  options: { ttlSeconds: number; baseUrl: string },
): Promise<{ shareUrl: string; expiresAt: string }> {
  const [{ versionId }, epoch] = await Promise.all([
    store.readPassedFileRecord(owner, fileId),
    store.readShareEpoch(owner, fileId),
  ]);
  const expiresAt = unixSeconds(clock()) + options.ttlSeconds;
  const token = signShareToken(shareKey, { segment: owner.segment, fileId, versionId, expiresAt, epoch });
  return { shareUrl: `${options.baseUrl}/s/${token}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

/**
 * Opens a share link: the token's MAC first, then its expiry (410
 * `link_expired`), the object (404 when the token is bad or the file gone),
 * its share epoch (410 `link_revoked`) and its validation (409). Returns a
 * fresh presigned GET living at most {@link SHARE_REDIRECT_TTL} seconds, never
 * past the link's own expiry nor the signing credentials.
 */
export async function openShare(
  { store, shareKey, clock }: ShareDependencies,
  token: string,
): Promise<{ location: string }> {
  const now = clock();
  const check = verifyShareToken(shareKey, token, unixSeconds(now));
  if (!check.ok) throw check.reason === 'expired' ? linkExpired() : notFound();
  const { segment, fileId, versionId, expiresAt, epoch } = check.claims;
  const record = await store.readPassedFileRecord({ segment }, fileId, async (tags) => {
    // The link names the bytes it was issued for: other bytes under the key are never served.
    if (tags.versionId !== versionId) throw notFound();
    // Only the current epoch is honoured.
    if (epoch !== (await store.readShareEpoch({ segment }, fileId))) throw linkRevoked();
  });
  const ttlSeconds = Math.min(SHARE_REDIRECT_TTL, expiresAt - unixSeconds(now));
  const { url } = await presignFileDownload(store, record, { ttlSeconds, disposition: 'attachment', now });
  return { location: url };
}

/**
 * Revokes every share link issued so far for the owner's file by moving its
 * share epoch on. Nothing is written on the upload itself. Throws 404 for an
 * unknown or another owner's file.
 */
export async function revokeShares(
  store: Pick<FileStore, 'readFileTags' | 'bumpShareEpoch'>,
  owner: Pick<Owner, 'segment'>,
  fileId: string,
): Promise<void> {
  await store.readFileTags(owner, fileId);
  await store.bumpShareEpoch(owner, fileId);
}
