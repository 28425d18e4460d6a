import type { PresignClient } from '../../client/src/index.js';
import { actionButton, element } from './dom.js';
import { formatBytes } from './format.js';
import { problemText } from './messages.js';

/** Where a file of the queue stands. */
export type ItemState =
  | 'ready'
  | 'refused'
  | 'waiting'
  | 'uploading'
  | 'validating'
  | 'passed'
  | 'failed'
  | 'cancelled'
  | 'error';

/** What the queue needs from the page. */
export interface QueueHost {
  client: PresignClient;
  /** The list the items are shown in. */
  list: HTMLUListElement;
  /** Says something to screen readers (the page's status region). */
  announce: (message: string) => void;
  /** Shows an error (the page's alert region). */
  showError: (error: unknown) => void;
  /** A file got its verdict, or an upload's remembered state changed. */
  changed: () => void;
}

/** Files uploading at once (each multipart upload sends parts in parallel too). */
const FILES_AT_ONCE = 2;

/** One file of the queue: its row, its state, and its upload. */
class QueueItem {
  state: ItemState = 'ready';
  fileId: string | undefined;
  private controller: AbortController | undefined;
  readonly row: HTMLLIElement;
  private readonly statusText: HTMLSpanElement;
  private readonly bar: HTMLProgressElement;
  private readonly progressText: HTMLSpanElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly retryButton: HTMLButtonElement;
  private readonly removeButton: HTMLButtonElement;

  constructor(
    readonly file: File,
    private readonly queue: UploadQueue,
    refusal: string | undefined,
  ) {
    this.statusText = element('span', { className: 'row-status' });
    this.bar = element('progress', { max: 100, value: 0 });
    this.bar.setAttribute('aria-label', `${file.name} sent`);
    this.progressText = element('span', { className: 'hint' });
    this.cancelButton = actionButton('Cancel', file.name, () => this.cancel());
    this.retryButton = actionButton('Retry', file.name, () => this.queue.start(this));
    this.removeButton = actionButton('Remove', file.name, () => void this.queue.remove(this));
    this.row = element(
      'li',
      { dataset: { name: file.name } },
      element('span', { className: 'row-name', textContent: file.name }),
      ` ${formatBytes(file.size)} — `,
      this.statusText,
      this.bar,
      this.progressText,
      element('div', { className: 'row-actions' }, this.cancelButton, this.retryButton, this.removeButton),
    );
    this.row.setAttribute('aria-label', file.name);
    this.showProgress(0);
    if (refusal) this.setState('refused', refusal);
    else this.setState('ready', 'ready to upload');
  }

  setState(state: ItemState, text: string): void {
    this.state = state;
    this.row.dataset.state = state;
    this.statusText.dataset.status = state;
    this.statusText.textContent = text;
    this.cancelButton.hidden = state !== 'uploading' && state !== 'waiting' && state !== 'validating';
    this.retryButton.hidden = state !== 'cancelled' && state !== 'error';
    this.removeButton.hidden = !['ready', 'refused', 'passed', 'failed', 'cancelled', 'error'].includes(
      state,
    );
  }

  showProgress(loaded: number): void {
    const total = this.file.size;
    const percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
    this.bar.value = percent;
    this.progressText.textContent = ` ${percent}% (${formatBytes(loaded)} of ${formatBytes(total)})`;
  }

  /** Marks the file uploading; the signal is its Cancel button's. */
  begin(): AbortSignal {
    const controller = new AbortController();
    this.controller = controller;
    this.showProgress(0);
    this.setState('uploading', 'uploading');
    return controller.signal;
  }

  /** Follows the uploaded file to its verdict. */
  async follow(client: PresignClient, fileId: string, signal: AbortSignal): Promise<void> {
    this.fileId = fileId;
    this.showProgress(this.file.size);
    this.setState('validating', 'uploaded; validating');
    this.queue.host.announce(`${this.file.name}: uploaded, validating.`);
    const verdict = await client.waitForVerdict(fileId, { signal });
    if (verdict.status === 'passed') {
      this.setState('passed', 'passed');
      this.queue.host.announce(`${this.file.name}: passed.`);
    } else {
      const reason = verdict.reason ? ` (${verdict.reason})` : '';
      this.setState('failed', `failed${reason}: it will not be served`);
      this.queue.host.announce(`${this.file.name}: failed validation${reason}.`);
    }
  }

  /** Shows why the upload, or the wait for its verdict, stopped. */
  stopped(error: unknown, signal: AbortSignal): void {
    if (signal.aborted) {
      this.setState('cancelled', this.fileId ? 'stopped waiting for the verdict' : 'cancelled');
      this.queue.host.announce(`${this.file.name}: cancelled.`);
    } else {
      this.setState('error', `not uploaded: ${problemText(error)}`);
      this.queue.host.announce(`${this.file.name}: not uploaded.`);
      this.queue.host.showError(error);
    }
  }

  end(): void {
    this.controller = undefined;
    this.queue.host.changed();
  }

  /** Uploads the file alone, then waits for its verdict. */
  async run(client: PresignClient): Promise<void> {
    const signal = this.begin();
    try {
      const fileId = await client.upload(this.file, {
        signal,
        onProgress: ({ loaded }) => this.showProgress(loaded),
      });
      await this.follow(client, fileId, signal);
    } catch (error) {
      this.stopped(error, signal);
    } finally {
      this.end();
    }
  }

  cancel(): void {
    if (this.state === 'waiting') this.setState('cancelled', 'cancelled');
    this.controller?.abort(new DOMException('Cancelled.', 'AbortError'));
  }
}

/** The files chosen or dropped: uploaded {@link FILES_AT_ONCE} at a time, each with its own progress. */
export class UploadQueue {
  private readonly items: QueueItem[] = [];
  private running = 0;

  constructor(readonly host: QueueHost) {}

  /** Adds files; a file the rules refuse (`refusal` says why) is shown refused and never sent. */
  add(file: File, refusal: string | undefined): void {
    const item = new QueueItem(file, this, refusal);
    this.items.push(item);
    this.host.list.append(item.row);
    if (!refusal) void this.describeResume(item);
  }

  /** Whether any file is ready to start. */
  hasReady(): boolean {
    return this.items.some((item) => item.state === 'ready');
  }

  /**
   * Starts every ready file: several at once with one request for all their
   * forms (the client's `uploadMany`), each followed to its verdict as soon as
   * S3 holds it; a single file as it is retried, on its own.
   */
  startReady(): void {
    const ready = this.items.filter((item) => item.state === 'ready');
    if (ready.length > 1) void this.runBatch(ready);
    else for (const item of ready) this.start(item);
  }

  start(item: QueueItem): void {
    item.showProgress(0);
    item.setState('waiting', 'waiting for its turn');
    this.pump();
  }

  async remove(item: QueueItem): Promise<void> {
    if (item.state === 'cancelled' || item.state === 'error') {
      // An interrupted multipart upload is remembered for a resume: removing it aborts it for good.
      try {
        const pending = await this.host.client.findPendingUpload(item.file);
        if (pending) await this.host.client.discardUpload(pending);
      } catch (error) {
        this.host.showError(error);
        return;
      }
    }
    this.items.splice(this.items.indexOf(item), 1);
    item.row.remove();
    this.host.announce(`${item.file.name} removed from the list.`);
    this.host.changed();
  }

  get size(): number {
    return this.items.length;
  }

  private pump(): void {
    for (const item of this.items) {
      if (this.running >= FILES_AT_ONCE) return;
      if (item.state !== 'waiting') continue;
      this.running += 1;
      void item.run(this.host.client).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async runBatch(items: QueueItem[]): Promise<void> {
    const { client } = this.host;
    const signals = items.map((item) => item.begin());
    const verdicts: Promise<void>[] = [];
    const outcomes = await client.uploadMany(
      items.map((item, index) => {
        const signal = signals[index] as AbortSignal;
        return {
          source: item.file,
          signal,
          onProgress: ({ loaded }: { loaded: number }) => item.showProgress(loaded),
          onUploaded: (fileId: string) =>
            verdicts.push(
              item
                .follow(client, fileId, signal)
                .catch((error: unknown) => item.stopped(error, signal))
                .finally(() => item.end()),
            ),
        };
      }),
    );
    outcomes.forEach((outcome, index) => {
      const item = items[index];
      if (outcome.status === 'fulfilled' || !item) return;
      item.stopped(outcome.reason, signals[index] as AbortSignal);
      item.end();
    });
    await Promise.all(verdicts);
  }

  private async describeResume(item: QueueItem): Promise<void> {
    try {
      const pending = await this.host.client.findPendingUpload(item.file);
      if (pending && item.state === 'ready')
        item.setState(
          'ready',
          `ready: resumes where it stopped (${pending.partsSent} of ${pending.partCount} parts sent)`,
        );
    } catch {}
  }
}
