import pLimit from 'p-limit';
import { ApiError, invalidRequest } from '../core/errors.js';
import type { Owner } from '../core/owner.js';
import type { FileStore } from '../store/file-store.js';
import { newestFirstId } from '../store/object-key.js';
import type { FileView } from './file-view.js';

/** Entries a page may skip (files deleted while the validator indexed them) beyond its limit. */
export const MAX_SKIPPED_PER_PAGE = 25;

/** Files read at once while a page is assembled. */
const READ_CONCURRENCY = 8;

/** The 200 body of GET /files. */
export interface FileList {
  items: FileView[];
  /** Pass as `cursor` for the next page; `null` on the last. */
  nextCursor: string | null;
}

const CURSOR_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The cursor after a file: opaque to clients (base64url of its newest-first id). */
const cursorAfter = (fileId: string): string => Buffer.from(newestFirstId(fileId)).toString('base64url');

/** The newest-first id a cursor carries; 400 for anything no page handed out. */
function positionOf(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('latin1');
  if (!CURSOR_PATTERN.test(position)) throw invalidRequest('cursor: not a cursor this API returned');
  return position;
}

/**
 * One page of an owner's files, newest first: one listing of the file index
 * (at most `limit` + {@link MAX_SKIPPED_PER_PAGE} entries), then for each
 * file its index entry and its verdict (the key's versions and the first
 * one's signed tags), so a page of N files costs 1 + 3N S3 calls, plus 3 per
 * entry skipped. An entry whose file is gone (deleted while it was being
 * indexed) is skipped. Throws 400 for a cursor this API did not return.
 */
export async function listFiles(
  store: Pick<FileStore, 'listFileIds' | 'readIndexEntry' | 'readFileTags'>,
  owner: Owner,
  { limit, cursor }: { limit: number; cursor?: string | undefined },
): Promise<FileList> {
  const after = cursor === undefined ? undefined : positionOf(cursor);
  const page = await store.listFileIds(owner, {
    ...(after ? { after } : {}),
    max: limit + MAX_SKIPPED_PER_PAGE,
  });
  const read = pLimit(READ_CONCURRENCY);
  const views = await Promise.all(page.fileIds.map((fileId) => read(() => viewOf(store, owner, fileId))));
  const items: FileView[] = [];
  let last: string | undefined;
  for (const [index, view] of views.entries()) {
    if (items.length === limit) break;
    last = page.fileIds[index];
    if (view) items.push(view);
  }
  const more = page.truncated || (last !== undefined && last !== page.fileIds.at(-1));
  return { items, nextCursor: more && last ? cursorAfter(last) : null };
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
    if (!entry) return undefined;
    return {
      fileId,
      filename: entry.filename,
      contentType: entry.contentType,
      size: entry.size,
      status: tags.status,
      ...(tags.reason !== undefined ? { reason: tags.reason } : {}),
      ...(tags.detectedType !== undefined ? { detectedType: tags.detectedType } : {}),
      uploadedAt: entry.uploadedAt,
      clientMetadata: entry.clientMetadata,
    };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_found') return undefined;
    throw error;
  }
}
