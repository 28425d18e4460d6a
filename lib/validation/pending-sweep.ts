import pLimit from 'p-limit';
import type { Clock } from '../core/clock.js';
import { logger } from '../core/logger.js';
import type { FileStore } from '../store/file-store.js';
import { type PendingMarker, pendingMarkerKey } from '../store/pending-markers.js';
import { MAX_PENDING_KEYS } from './pending-uploads-event.js';

/** Hands upload keys ({@link MAX_PENDING_KEYS} at most) to the validator, returning once it has taken them. */
export type ValidationHandoff = (keys: string[]) => Promise<void>;

/** What the sweep works with. */
export interface SweepDependencies {
  store: Pick<
    FileStore,
    'listDueMarkers' | 'readPendingTerms' | 'markPending' | 'clearPending' | 'readFileState' | 'uploadLanded'
  >;
  clock: Clock;
  /** Hands the files to judge to the validator (the same code that judges an upload's own event). */
  handOff: ValidationHandoff;
  /** How long after an upload is issued its marker is due: the time its own event is given. */
  sweepAfterMs: number;
  /** How long a reservation outlives its form (`RESERVATION_GRACE_SECONDS`): bytes may land until then. */
  landingGraceMs: number;
  /** Listings of the state bucket's `pending/` one sweep makes at most. */
  maxPages?: number;
  /** Markers a listing returns at most. */
  pageSize?: number;
}

/** Markers read at once. */
const SWEEP_CONCURRENCY = 10;

/** What one sweep did. */
export interface SweepReport {
  /** Markers due that the sweep read. */
  due: number;
  /** Files handed to the validator: landed (or recorded) and not known to be finished. */
  handedOff: number;
  /** Markers dropped: deleted files, and uploads whose reservation ended with nothing landed. */
  dropped: number;
  /** Markers of uploads with nothing landed yet that may still land, moved to when they may no more. */
  deferred: number;
  /** Files whose hand-off failed (their markers stay, for the next sweep). */
  failed: number;
  /** Whether more markers were due than one sweep reads. */
  more: boolean;
}

type Decision = 'judge' | 'judge-and-drop' | 'dropped' | 'deferred' | 'waiting';

/**
 * What a due marker asks for. A deleted file: nothing (its marker goes). A
 * recorded file: judged once more, which finishes what a run that died after
 * the record left (the usage settled, the webhook handed off); the validator
 * then drops the marker written at issue, and a marker a sweep moved goes
 * here. An unrecorded file with bytes landed: judged. Nothing landed: the
 * marker goes once the upload's reservation has ended (nothing can land any
 * more), else it moves to then, out of the way of the markers behind it.
 */
async function decide(dependencies: SweepDependencies, marker: PendingMarker, now: Date): Promise<Decision> {
  const { store } = dependencies;
  const owner = { segment: marker.segment };
  const state = await store.readFileState(marker.key);
  if (state.kind === 'deleted') {
    await store.clearPending(marker.key, marker.markerKey);
    return 'dropped';
  }
  if (state.kind === 'recorded') return marker.issued ? 'judge' : 'judge-and-drop';
  if (await store.uploadLanded(owner, marker.fileId)) return 'judge';
  const terms = await store.readPendingTerms(marker.markerKey);
  const lapsesAt = new Date((terms?.until ?? marker.dueAt).getTime() + dependencies.landingGraceMs);
  if (lapsesAt <= now) {
    await store.clearPending(marker.key, marker.markerKey);
    return 'dropped';
  }
  if (!terms || !marker.issued) return 'waiting';
  await store.markPending(owner, marker.fileId, terms, pendingMarkerKey(owner, marker.fileId, lapsesAt));
  await store.clearPending(marker.key, marker.markerKey);
  return 'deferred';
}

/**
 * One sweep of the uploads left pending: lists the markers due (issued more
 * than `sweepAfterMs` ago, oldest first, bounded pages), and for each decides
 * by {@link decide}; the files to judge go to the validator
 * {@link MAX_PENDING_KEYS} at a time. Whatever one user stores, a sweep reads
 * only the markers of uploads not judged in time. A marker whose reading or
 * hand-off fails stays, for the next sweep; the sweep itself never throws for one.
 */
export async function sweepPendingUploads(dependencies: SweepDependencies): Promise<SweepReport> {
  const { store, clock, handOff, sweepAfterMs } = dependencies;
  const now = clock();
  const { markers, more } = await store.listDueMarkers(new Date(now.getTime() - sweepAfterMs), {
    maxPages: dependencies.maxPages ?? 5,
    pageSize: dependencies.pageSize ?? 1000,
  });
  const limit = pLimit(SWEEP_CONCURRENCY);
  const report: SweepReport = { due: markers.length, handedOff: 0, dropped: 0, deferred: 0, failed: 0, more };
  const toJudge: { marker: PendingMarker; drop: boolean }[] = [];
  await Promise.all(
    markers.map((marker) =>
      limit(async () => {
        try {
          const decision = await decide(dependencies, marker, now);
          if (decision === 'judge' || decision === 'judge-and-drop') {
            toJudge.push({ marker, drop: decision === 'judge-and-drop' });
          } else if (decision === 'dropped') report.dropped += 1;
          else if (decision === 'deferred') report.deferred += 1;
        } catch (error) {
          report.failed += 1;
          logger.error('pending upload not swept', { key: marker.key, error: error as Error });
        }
      }),
    ),
  );
  const batches: (typeof toJudge)[] = [];
  for (let start = 0; start < toJudge.length; start += MAX_PENDING_KEYS) {
    batches.push(toJudge.slice(start, start + MAX_PENDING_KEYS));
  }
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        try {
          await handOff(batch.map(({ marker }) => marker.key));
          report.handedOff += batch.length;
          await Promise.all(
            batch
              .filter(({ drop }) => drop)
              .map(({ marker }) => store.clearPending(marker.key, marker.markerKey)),
          );
        } catch (error) {
          report.failed += batch.length;
          logger.error('pending uploads not handed to the validator', {
            keys: batch.map(({ marker }) => marker.key),
            error: error as Error,
          });
        }
      }),
    ),
  );
  logger.info('pending uploads swept', { ...report });
  return report;
}
