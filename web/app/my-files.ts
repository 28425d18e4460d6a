import type { FileView, PendingUpload, PresignClient } from '../../client/src/index.js';
import { actionButton, element } from './dom.js';
import { formatBytes } from './format.js';

/** Files shown per page of "My files". */
const PAGE_SIZE = 20;

export interface MyFilesHost {
  client: PresignClient;
  list: HTMLUListElement;
  note: HTMLElement;
  moreButton: HTMLButtonElement;
  announce: (message: string) => void;
  showError: (error: unknown) => void;
}

const STATUS_TEXT: Record<FileView['status'], string> = {
  pending: 'pending validation',
  passed: 'passed',
  failed: 'failed validation',
};

/** Opens a presigned download: S3 answers with `Content-Disposition: attachment`, so the browser saves it. */
function startDownload(url: string): void {
  const link = element('a', { href: url, rel: 'noopener' });
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * "My files": the caller's files (`GET /files`, newest first), each with its
 * status and, as it allows, download, share, revoke and delete.
 */
export class MyFiles {
  private cursor: string | null = null;
  private loading: Promise<void> | undefined;

  constructor(private readonly host: MyFilesHost) {}

  /** Loads the first page again (or the next one, with `more`). */
  load(more = false): Promise<void> {
    const previous = this.loading ?? Promise.resolve();
    this.loading = previous.then(() => this.loadPage(more)).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async loadPage(more: boolean): Promise<void> {
    const { client, list, note, moreButton } = this.host;
    try {
      const page = await client.list({
        limit: PAGE_SIZE,
        ...(more && this.cursor ? { cursor: this.cursor } : {}),
      });
      if (!more) list.replaceChildren();
      for (const file of page.items) list.append(this.row(file));
      this.cursor = page.nextCursor;
      moreButton.hidden = page.nextCursor === null;
      note.textContent = list.childElementCount === 0 ? 'No files yet.' : '';
    } catch (error) {
      note.textContent = 'Your files could not be listed.';
      this.host.showError(error);
    }
  }

  private row(file: FileView): HTMLLIElement {
    const { client, announce, showError } = this.host;
    const name = file.filename;
    const linkArea = element('p', { className: 'hint', hidden: true });
    const act = (label: string, work: () => Promise<void>) =>
      actionButton(label, name, () => void work().catch(showError));
    const actions: HTMLButtonElement[] = [];
    if (file.status === 'passed') {
      actions.push(
        act('Download', async () => {
          startDownload((await client.downloadUrl(file.fileId)).url);
          announce(`Downloading ${name}.`);
        }),
        act('Share', async () => {
          const share = await client.share(file.fileId);
          const link = element('a', { href: share.shareUrl, textContent: share.shareUrl, rel: 'noopener' });
          linkArea.replaceChildren(
            'Share link: ',
            link,
            ` (valid until ${new Date(share.expiresAt).toLocaleString()})`,
          );
          linkArea.hidden = false;
          announce(`A share link for ${name} is ready.`);
        }),
        act('Revoke links', async () => {
          await client.revokeShares(file.fileId);
          linkArea.replaceChildren('Every share link of this file is revoked.');
          linkArea.hidden = false;
          announce(`Every share link of ${name} is revoked.`);
        }),
      );
    }
    actions.push(
      act('Delete', async () => {
        if (!window.confirm(`Delete ${name}? Its share links stop working.`)) return;
        await client.delete(file.fileId);
        announce(`${name} deleted.`);
        await this.load();
      }),
    );
    const status = element('span', { className: 'row-status', textContent: STATUS_TEXT[file.status] });
    status.dataset.status = file.status;
    const reason = file.status === 'failed' && file.reason ? ` (${file.reason})` : '';
    const row = element(
      'li',
      { dataset: { fileId: file.fileId } },
      element('span', { className: 'row-name', textContent: name }),
      ` ${formatBytes(file.size)}, uploaded ${new Date(file.uploadedAt).toLocaleString()} — `,
      status,
      reason,
      element('div', { className: 'row-actions' }, ...actions),
      linkArea,
    );
    row.setAttribute('aria-label', name);
    return row;
  }
}

/** The interrupted uploads this browser remembers, each with a button to give it up. */
export async function showResumable(
  client: PresignClient,
  section: HTMLElement,
  list: HTMLUListElement,
  onError: (error: unknown) => void,
): Promise<void> {
  let pending: PendingUpload[];
  try {
    pending = await client.pendingUploads();
  } catch (error) {
    onError(error);
    return;
  }
  list.replaceChildren(
    ...pending.map((upload) =>
      element(
        'li',
        { dataset: { fileId: upload.fileId } },
        element('span', { className: 'row-name', textContent: upload.name }),
        ` ${formatBytes(upload.size)}: ${upload.partsSent} of ${upload.partCount} parts sent `,
        actionButton(
          'Discard',
          upload.name,
          () =>
            void client
              .discardUpload(upload)
              .then(() => showResumable(client, section, list, onError), onError),
        ),
      ),
    ),
  );
  section.hidden = pending.length === 0;
}
