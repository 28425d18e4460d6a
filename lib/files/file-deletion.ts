import type { Clock } from '../core/clock.js';
import type { Owner } from '../core/owner.js';
import { type LimitsStore, releaseDeletedFile } from '../limits/owner-limits.js';
import { type LimitSettings, limitsSet } from '../limits/usage-ledger.js';
import type { FileStore } from '../store/file-store.js';
import { FileNotFound } from '../store/store-errors.js';

/** What deleting a file needs: the store, and the limits its owner's usage is tidied by. */
export interface FileDeletionDependencies {
  store: Pick<FileStore, 'deleteFile' | 'readFileTags'> & LimitsStore;
  limits: LimitSettings;
  /** When the request must have answered: a change of usage that keeps conflicting gives up (429) before. */
  giveUpAt?: number;
  /** What the owner's usage is tidied and the release dated by. */
  clock: Clock;
}

/**
 * Deletes an owner's file (every version, its share state, index entry and
 * multipart record) after giving back what it held in the owner's usage:
 * its reservation while pending, its bytes once passed. The usage goes
 * first: a delete that fails afterwards leaves the file, and the same delete
 * tried again gives nothing back twice. Throws 404 for an unknown or another
 * owner's file, which is also what a second delete answers.
 */
export async function deleteOwnedFile(
  dependencies: FileDeletionDependencies,
  owner: Owner,
  fileId: string,
): Promise<void> {
  if (limitsSet(dependencies.limits)) await releaseUsage(dependencies, owner, fileId);
  const { store } = dependencies;
  await store.deleteFile(owner, fileId);
}

async function releaseUsage(dependencies: FileDeletionDependencies, owner: Owner, fileId: string) {
  const { store } = dependencies;
  try {
    await releaseDeletedFile(dependencies, owner, fileId, () => store.readFileTags(owner, fileId));
  } catch (error) {
    // No such file: the store's delete answers the 404 (and drops a stale index entry).
    if (!(error instanceof FileNotFound)) throw error;
  }
}
