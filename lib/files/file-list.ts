import pLimit from 'p-limit';
import { ApiError, invalidRequest } from '../core/errors.js';
import { logger } from '../core/logger.js';
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
 * for each file its index entry and its verdict (the key's versions and the
 * first one's signed tags), so a page of N files costs 1 + 3N S3 calls, plus
 * 3 per entry skipped and 1 per further listing. An entry whose file is gone
 * (deleted while it was being indexed, or expired by the lifecycle after it
 * failed) is skipped, at most {@link MAX_SKIPPED_PER_PAGE} per page; only
 * past that can a page be short with a `nextCursor`. Throws 400 for a cursor
 * this API did not return.
 */
export async function listFiles(
  store: Pick<FileStore, 'listFileIds' | 'readIndexEntry' | 'readFileTags'>,
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

/** A file's view from its index entry and its signed verdict; `undefined` when either is gone. */
async function viewOf(
  store: Pick<FileStore, 'readIndexEntry' | 'readFileTags'>,
  owner: Owner,
  fileId: string,
): Promise<FileView | undefined> {
  try {
    const [entry, tags] = await Promise.all([
      store.readIndexEntry(owner, fileId),
      store.readFileTags(owner, fileId),
    ]);
    return entry ? fileView({ fileId, ...tags, ...entry }) : undefined;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_found') return undefined;
    // A key holding more versions than a read lists (a form posted thousands of times): the
    // file cannot be described, and must not take every page it falls on down with it.
    if (error instanceof ApiError && error.code === 'not_validated') {
      logger.warn('file left out of a list: too many versions', { fileId });
      return undefined;
    }
    throw error;
  }
}
