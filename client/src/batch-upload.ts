import { uploadWithForm } from './form-upload.js';
import type { IssuedUpload, IssuedUploads } from './types.js';
import { describeUpload, type UploadContext } from './upload-context.js';

/** Files one `POST /uploads` may ask forms for (the API's limit). */
export const MAX_BATCH_FILES = 100;

/** One file of a batch: what its upload works with, and where its outcome goes. */
export interface BatchMember {
  context: UploadContext;
  settle: (outcome: PromiseSettledResult<string>) => void;
}

/**
 * Runs `tasks` with at most `limit` of them at once, in order; resolves when
 * every one has finished (each task settles its own outcome).
 */
export async function runPool(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      await task?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/**
 * Asks one `POST /uploads` for the forms of up to {@link MAX_BATCH_FILES}
 * files, then posts them `concurrency` at a time, each as `uploadWithForm`
 * does (a form that expired on the way is asked for again, alone). A refused batch (the API
 * refuses all or none) settles every member with that error; a file whose own
 * signal aborted before the request is left out of it. `signal` aborts the
 * request for the forms.
 */
export async function uploadBatch(
  members: readonly BatchMember[],
  { concurrency, signal }: { concurrency: number; signal: AbortSignal | undefined },
): Promise<void> {
  const live = members.filter((member) => {
    const { signal } = member.context;
    if (signal?.aborted) member.settle({ status: 'rejected', reason: signal.reason });
    return !signal?.aborted;
  });
  const first = live[0];
  if (!first) return;
  let issued: IssuedUpload[];
  try {
    const answer = await first.context.call<IssuedUploads>({
      method: 'POST',
      path: '/uploads',
      body: { files: live.map((member) => describeUpload(member.context)) },
      signal,
      retry: 'always',
    });
    issued = answer.uploads;
  } catch (reason) {
    for (const member of live) member.settle({ status: 'rejected', reason });
    return;
  }
  await runPool(
    live.map((member, index) => async () => {
      try {
        const form = issued[index];
        if (!form) throw new Error(`POST /uploads answered ${issued.length} forms for ${live.length} files`);
        member.settle({ status: 'fulfilled', value: await uploadWithForm(member.context, form) });
      } catch (reason) {
        member.settle({ status: 'rejected', reason });
      }
    }),
    concurrency,
  );
}
