import pLimit from 'p-limit';
import { invalidRequest } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import type { FileStore } from '../store/file-store.js';
import { newestFirstId } from '../store/object-key.js';
import { type FileView, fileView } from './file-view.js';

/** Entries a page may skip (files gone since they were indexed) before it answers short. */
export const MAX_SKIPPED_PER_PAGE = 100;

/** Entries listed beyond what a page still needs, so that a few skipped ones cost no second listing. */
const LISTING_SLACK = 5;

/** Files read at once while a page is assembled. */
const READ_CONCURRENCY = 8;

/** The 200 body of GET /files. */
export interface FileList {
  items: FileView[];
  /** Pass as `cursor` for the next page; `null` on the last. */
  nextCursor: string | null;
}

const CURSOR_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The cursor after a position (a newest-first id): opaque to clients, the base64url of it. */
const cursorOf = (position: string): string => Buffer.from(position).toString('base64url');

/** The newest-first id a cursor carries; 400 for anything no page handed out. */
function positionOf(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('latin1');
  if (!CURSOR_PATTERN.test(position) || cursorOf(position) !== cursor) {
    throw invalidRequest('cursor: not a cursor this API returned');
  }
  return position;
}

/**
 * One page of an owner's files, newest first: listings of the file index
 * (about `limit` entries each, more only while entries were skipped), then
 * for each file its record (one GET: what its upload pinned, its first
 * version and the validator's signed verdict), so a page of N files costs
 * 1 + N S3 calls, plus 1 per entry skipped and 1 per further listing,
 * whatever happened to the files' keys. An entry that describes no file (a
 * tombstone of a file deleted while its form could still be posted, or one
 * removed since the listing) is skipped, at most {@link MAX_SKIPPED_PER_PAGE}
 * per page; only past that can a page be short with a `nextCursor`. Throws
 * 400 for a cursor this API did not return.
 */
export async function listFiles(
  store: Pick<FileStore, 'listFileIds' | 'readRecordedFile'>,
  owner: Owner,
  { limit, cursor }: { limit: number; cursor?: string | undefined },
): Promise<FileList> {
  const read = pLimit(READ_CONCURRENCY);
  const items: FileView[] = [];
  let position = cursor === undefined ? undefined : positionOf(cursor);
  let skipped = 0;
  let more = true;
  while (more && items.length < limit && skipped < MAX_SKIPPED_PER_PAGE) {
    const page = await store.listFileIds(owner, {
      ...(position ? { after: position } : {}),
      max: limit - items.length + LISTING_SLACK,
    });
    const views = await Promise.all(page.fileIds.map((fileId) => read(() => viewOf(store, owner, fileId))));
    let consumed = 0;
    for (const [index, view] of views.entries()) {
      if (items.length === limit) break;
      position = newestFirstId(page.fileIds[index] as string);
      consumed += 1;
      if (view) items.push(view);
      else skipped += 1;
    }
    more = page.truncated || consumed < page.fileIds.length;
  }
  return { items, nextCursor: more && position ? cursorOf(position) : null };
}

/** A file's view from its record; `undefined` when the index holds none for it. */
async function viewOf(
  store: Pick<FileStore, 'readRecordedFile'>,
  owner: Owner,
  fileId: string,
): Promise<FileView | undefined> {
  const record = await store.readRecordedFile(owner, fileId);
  return record ? fileView(record) : undefined;
}
