import { describe, expect, it } from 'vitest';
import { listFiles, MAX_SKIPPED_PER_PAGE } from '../../../lib/files/file-list.js';
import { newestFirstId } from '../../../lib/store/object-key.js';
import { testOwner } from '../../support/owners.js';

const ALICE = testOwner('auth0|alice');
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** File ids in creation order: id(0) is the oldest. */
const id = (n: number) => `01JD${CROCKFORD[Math.floor(n / 32)]}${CROCKFORD[n % 32]}${'0'.repeat(20)}`;

/**
 * A store double whose index holds `ids` (listed newest first, as S3 lists
 * the newest-first keys) and records of those not in `gone`; counts listings and record reads.
 */
function storeOf(ids: string[], gone: Set<string> = new Set()) {
  const listed = [...ids].map(newestFirstId).sort();
  const calls = { listings: 0, reads: 0 };
  const store = {
    listFileIds: async (_: unknown, { after, max }: { after?: string; max: number }) => {
      calls.listings += 1;
      const rest = listed.filter((position) => after === undefined || position > after);
      return { fileIds: rest.slice(0, max).map(newestFirstId), truncated: rest.length > max };
    },
    readRecordedFile: async (_: unknown, fileId: string) => {
      calls.reads += 1;
      if (gone.has(fileId)) return undefined;
      return {
        fileId,
        key: `uploads/${ALICE.segment}/${fileId}`,
        versionId: 'v',
        eTag: 'e',
        uploadedAt: '2026-11-27T00:00:00.000Z',
        storedBytes: 1,
        filename: 'f.png',
        contentType: 'image/png',
        size: 1,
        clientMetadata: null,
        status: 'passed' as const,
        checks: { content: 'passed' as const, malware: 'off' as const },
      };
    },
  };
  return { store, calls };
}

async function everyPage(store: ReturnType<typeof storeOf>['store'], limit: number) {
  const pages: { items: { fileId: string }[]; nextCursor: string | null }[] = [];
  let cursor: string | undefined;
  do {
    const page = await listFiles(store as never, ALICE, { limit, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 50);
  return pages;
}

describe('listFiles', () => {
  it('pages newest first with an opaque cursor, the last page without one', async () => {
    // Arrange
    const ids = Array.from({ length: 7 }, (_, n) => id(n));
    const { store } = storeOf(ids);

    // Act
    const pages = await everyPage(store, 3);

    // Assert
    expect(pages.map((page) => page.items.map((item) => item.fileId))).toEqual([
      [id(6), id(5), id(4)],
      [id(3), id(2), id(1)],
      [id(0)],
    ]);
    expect(pages.map((page) => page.nextCursor === null)).toEqual([false, false, true]);
  });

  it('skips files gone since they were indexed, listing further rather than answering a short page', async () => {
    // Arrange: 20 files, the 12 newest gone.
    const ids = Array.from({ length: 20 }, (_, n) => id(n));
    const gone = new Set(ids.slice(8));
    const { store, calls } = storeOf(ids, gone);

    // Act
    const page = await listFiles(store as never, ALICE, { limit: 3 });

    // Assert
    expect(page.items.map((item) => item.fileId)).toEqual([id(7), id(6), id(5)]);
    expect(page.nextCursor).not.toBeNull();
    expect(calls.listings).toBeGreaterThan(1);
  });

  it(`answers short, with a cursor, only past ${MAX_SKIPPED_PER_PAGE} skipped entries`, async () => {
    // Arrange
    const ids = Array.from({ length: MAX_SKIPPED_PER_PAGE + 20 }, (_, n) => id(n));
    const gone = new Set(ids.slice(1));
    const { store } = storeOf(ids, gone);

    // Act
    const first = await listFiles(store as never, ALICE, { limit: 5 });
    const second = await listFiles(store as never, ALICE, { limit: 5, cursor: first.nextCursor ?? '' });

    // Assert
    expect(first).toMatchObject({ items: [], nextCursor: expect.any(String) });
    expect(second.items.map((item) => item.fileId)).toEqual([id(0)]);
    expect(second.nextCursor).toBeNull();
  });

  it('reads one record per item: a page of N files costs one listing and N reads', async () => {
    // Arrange
    const ids = Array.from({ length: 7 }, (_, n) => id(n));
    const { store, calls } = storeOf(ids);

    // Act
    const page = await listFiles(store as never, ALICE, { limit: 7 });

    // Assert
    expect(page.items).toHaveLength(7);
    expect(calls).toEqual({ listings: 1, reads: 7 });
  });

  it.each(['Zm9yZ2Vk', '', `${Buffer.from(newestFirstId(id(3))).toString('base64url')}==`, '!!!!'])(
    'refuses a cursor no page handed out (%j) with 400',
    async (cursor) => {
      // Arrange
      const { store } = storeOf([id(0)]);

      // Act & Assert
      await expect(listFiles(store as never, ALICE, { limit: 1, cursor })).rejects.toMatchObject({
        statusCode: 400,
        code: 'invalid_request',
      });
    },
  );
});
