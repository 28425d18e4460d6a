import type { Owner } from '../core/owner.js';
import { type ConditionalWriter, swapStateObject } from './conditional-write.js';
import { shareEpochKey } from './object-key.js';
import type { StateObject } from './state-object.js';

type OwnerRef = Pick<Owner, 'segment'>;

/** Tries of a revocation that keeps colliding with others (each loses only to another writer's success). */
const REVOCATION_TRIES = 20;

/** The epoch a share-epoch object holds: 0 when there is none (no link was revoked) or it is unreadable. */
function epochOf(object: StateObject | undefined): number {
  const epoch = Number.parseInt(object?.text || '0', 10);
  return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
}

/**
 * Each file's share epoch, `share-epochs/<owner-segment>/<fileId>` in the
 * state bucket: a share link carries the epoch it was issued at, and is
 * revoked once the file's epoch moved past it.
 */
export function createShareEpochs(writer: ConditionalWriter) {
  /** The file's current share epoch: 0 until its links were first revoked. */
  async function readShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    return epochOf(await writer.read(shareEpochKey(owner, fileId)));
  }

  /**
   * Revokes every share link issued so far for the file by moving its epoch
   * on, by compare-and-swap: the next epoch is written only over the very
   * object it was computed from. So the epoch only ever grows, under any
   * interleaving of revocations, and a revoked link stays revoked. A write
   * that loses (412) needs no retry: another revocation has already moved the
   * epoch past the one read here, revoking every link issued before this
   * request, so concurrent revocations cannot pile up retries. Returns the
   * epoch the file is now at least at.
   */
  function bumpShareEpoch(owner: OwnerRef, fileId: string): Promise<number> {
    return swapStateObject(
      writer,
      shareEpochKey(owner, fileId),
      (current) => {
        const next = epochOf(current) + 1;
        return { body: String(next), result: next };
      },
      {
        contentType: 'text/plain',
        whenLost: 'settled',
        pauseBefore: (attempt) => (attempt < REVOCATION_TRIES ? 0 : undefined),
        givenUp: () => new Error(`share epoch of ${fileId} kept conflicting over ${REVOCATION_TRIES} tries`),
      },
    );
  }

  return { readShareEpoch, bumpShareEpoch };
}
