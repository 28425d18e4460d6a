import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Owner } from '../core/owner.js';
import { bucket, s3 } from './s3-client.js';
import { isMissingObject } from './s3-errors.js';

/**
 * Where a file's share epoch lives: an object of its own beside the uploads,
 * never a tag of the upload. Revoking then writes nothing on the upload (no
 * stale tag set can land on re-posted bytes), and re-posting the upload form
 * cannot reset the epoch and revive revoked links.
 */
export const SHARE_EPOCHS_PREFIX = 'share-epochs/';

const epochKey = (owner: Pick<Owner, 'segment'>, fileId: string) =>
  `${SHARE_EPOCHS_PREFIX}${owner.segment}/${fileId}`;

/** The file's current share epoch: 0 until its links were first revoked. */
export async function readShareEpoch(owner: Pick<Owner, 'segment'>, fileId: string): Promise<number> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: epochKey(owner, fileId) }));
    const epoch = Number.parseInt((await Body?.transformToString()) ?? '0', 10);
    return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
  } catch (error) {
    if (isMissingObject(error)) return 0;
    throw error;
  }
}

/**
 * Revokes every share link issued so far for the file by moving its epoch on.
 * Two revocations at once may both write the same next epoch: either way every
 * earlier link is revoked.
 */
export async function bumpShareEpoch(owner: Pick<Owner, 'segment'>, fileId: string): Promise<number> {
  const next = (await readShareEpoch(owner, fileId)) + 1;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: epochKey(owner, fileId),
      Body: String(next),
      ContentType: 'text/plain',
    }),
  );
  return next;
}
