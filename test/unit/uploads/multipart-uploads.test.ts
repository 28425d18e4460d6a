import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../../lib/core/errors.js';
import type { MultipartUpload, UploadedPart } from '../../../lib/store/multipart-store.js';
import { UploadIncomplete } from '../../../lib/store/store-errors.js';
import {
  choosePartSize,
  completeUpload,
  DEFAULT_PART_SIZE,
  incompletePartsReason,
  MULTIPART_RESERVATION_MS,
  type MultipartDependencies,
  PART_URL_TTL_SECONDS,
  partLength,
  signUploadParts,
  startMultipartUpload,
} from '../../../lib/uploads/multipart-uploads.js';
import { fixedClock, testClock } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const ALICE = testOwner('auth0|alice');
const FILE_ID = '01JDQ3Y8K2M4N6P8R0S2T4V6W8';

/** 12 MiB in parts of 5 MiB: 5, 5 and 2 MiB. */
const UPLOAD: MultipartUpload = {
  fileId: FILE_ID,
  key: `uploads/${ALICE.segment}/${FILE_ID}`,
  uploadId: 'upload-1',
  size: 12 * MiB,
  partSize: 5 * MiB,
  partCount: 3,
  startedAt: '2026-11-27T00:00:00.000Z',
};
const held = (...sizes: number[]): UploadedPart[] =>
  sizes.map((size, index) => ({ partNumber: index + 1, size, eTag: `"${String(index + 1).repeat(32)}"` }));
const named = (parts: UploadedPart[]) =>
  parts.map((part) => ({ partNumber: part.partNumber, etag: part.eTag }));

/** A store double holding UPLOAD with `parts`; every call is recorded. */
function storeHolding(parts: UploadedPart[]) {
  return {
    credentials: async () => ({}),
    startMultipartUpload: vi.fn(async () => 'upload-1'),
    readMultipartUpload: vi.fn(async () => UPLOAD),
    presignPart: vi.fn(
      async (request: { partNumber: number }) => `https://s3.test/part-${request.partNumber}`,
    ),
    listUploadedParts: vi.fn(async () => parts),
    completeMultipartUpload: vi.fn(async () => undefined),
    abortMultipartUpload: vi.fn(async () => undefined),
    claimClosing: vi.fn(async () => undefined),
    readClosing: vi.fn(async (): Promise<'complete' | 'abort' | undefined> => undefined),
    releaseClosing: vi.fn(async () => undefined),
    markPending: vi.fn(async () => undefined),
  };
}

/** Limits unset: nothing is reserved. */
const NO_LIMITS = { rateWindowMs: 3_600_000, landingGraceMs: 3_600_000 };

const rules = new Map([
  ['video/mp4', 5 * TiB],
  ['image/png', 10 * MiB],
]);

describe('choosePartSize', () => {
  it('takes 16 MiB unless 10,000 parts of it would not hold the file, then grows in whole MiB', () => {
    // Assert
    expect(choosePartSize(1)).toBe(DEFAULT_PART_SIZE);
    expect(choosePartSize(100 * GiB)).toBe(DEFAULT_PART_SIZE);
    expect(choosePartSize(1 * TiB)).toBe(105 * MiB);
    expect(Math.ceil(TiB / choosePartSize(TiB))).toBeLessThanOrEqual(10_000);
    expect(Math.ceil((5 * TiB) / choosePartSize(5 * TiB))).toBeLessThanOrEqual(10_000);
  });

  it("takes the client's part size when 10,000 parts of it hold the file, and names the smallest otherwise", () => {
    // Assert
    expect(choosePartSize(64 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(() => choosePartSize(100 * GiB, 5 * MiB)).toThrow(/partSize: at least 10737419 bytes/);
  });
});

describe('partLength', () => {
  it('is the part size for every part but the last, which holds the rest', () => {
    // Assert
    expect([1, 2, 3].map((partNumber) => partLength(UPLOAD, partNumber))).toEqual([
      5 * MiB,
      5 * MiB,
      2 * MiB,
    ]);
    expect(partLength({ size: 10 * MiB, partSize: 5 * MiB }, 2)).toBe(5 * MiB);
  });
});

describe('startMultipartUpload', () => {
  it('admits the request by the rules, above the 5 GiB of a POST too, and pins what a POST pins', async () => {
    // Arrange
    const store = storeHolding([]);

    // Act
    const started = await startMultipartUpload(
      {
        store,
        rules,
        limits: NO_LIMITS,
        clock: fixedClock('2026-11-27T10:00:00.000Z'),
      } as unknown as MultipartDependencies,
      ALICE,
      { filename: 'film.mp4', contentType: 'Video/MP4', size: 6 * GiB },
    );

    // Assert
    expect(started).toMatchObject({
      uploadId: 'upload-1',
      partSize: DEFAULT_PART_SIZE,
      partCount: 384,
      maxBytes: 6 * GiB,
      expiresAt: '2026-11-28T10:00:00.000Z',
    });
    expect(started.key).toBe(`uploads/${ALICE.segment}/${started.fileId}`);
    expect(store.startMultipartUpload).toHaveBeenCalledWith(
      {
        key: started.key,
        contentType: 'video/mp4',
        size: 6 * GiB,
        partSize: DEFAULT_PART_SIZE,
        filename: 'film.mp4',
        owner: ALICE,
      },
      started.fileId,
      new Date('2026-11-27T10:00:00.000Z'),
    );
    // Marked pending until its reservation would end: the sweep judges it should its event be lost.
    expect(store.markPending).toHaveBeenCalledWith(ALICE, started.fileId, {
      until: new Date('2026-11-29T10:00:00.000Z'),
    });
  });

  it.each([
    ['a type no rule allows', { contentType: 'text/html', size: 1 }, 415],
    ['a size above its rule', { contentType: 'image/png', size: 10 * MiB + 1 }, 413],
  ])('refuses %s before S3 is asked', async (_, request, status) => {
    // Arrange
    const store = storeHolding([]);

    // Act
    const started = startMultipartUpload(
      { store, rules, clock: testClock } as unknown as MultipartDependencies,
      ALICE,
      {
        filename: 'x',
        ...request,
      },
    );

    // Assert
    await expect(started).rejects.toMatchObject({ statusCode: status });
    expect(store.startMultipartUpload).not.toHaveBeenCalled();
  });
});

describe('signUploadParts', () => {
  it('signs each part for its exact length, pins the MD5 asked for, and lives 15 minutes at most', async () => {
    // Arrange
    const store = storeHolding([]);
    const clock = fixedClock('2026-11-27T10:00:00.000Z');

    // Act
    const { parts } = await signUploadParts({ store, clock } as never, ALICE, FILE_ID, [
      { partNumber: 3, md5: 'XUFAKrxLKna5cZ2REBfFkg==' },
      { partNumber: 1 },
    ]);

    // Assert
    expect(parts).toEqual([
      {
        partNumber: 3,
        url: 'https://s3.test/part-3',
        headers: { 'content-md5': 'XUFAKrxLKna5cZ2REBfFkg==' },
        expiresAt: '2026-11-27T10:15:00.000Z',
      },
      { partNumber: 1, url: 'https://s3.test/part-1', headers: {}, expiresAt: '2026-11-27T10:15:00.000Z' },
    ]);
    expect(store.presignPart.mock.calls.map(([request]) => request)).toEqual([
      expect.objectContaining({
        partNumber: 3,
        contentLength: 2 * MiB,
        md5: 'XUFAKrxLKna5cZ2REBfFkg==',
        expiresIn: PART_URL_TTL_SECONDS,
      }),
      expect.objectContaining({ partNumber: 1, contentLength: 5 * MiB, expiresIn: PART_URL_TTL_SECONDS }),
    ]);
    expect(store.presignPart.mock.calls[1]?.[0]).not.toHaveProperty('md5');
  });

  it('refuses a part number beyond the last part, signing nothing', async () => {
    // Arrange
    const store = storeHolding([]);

    // Act
    const signing = signUploadParts({ store, clock: testClock } as never, ALICE, FILE_ID, [
      { partNumber: 1 },
      { partNumber: 4 },
    ]);

    // Assert
    await expect(signing).rejects.toMatchObject({
      statusCode: 400,
      message: 'parts: part 4 is beyond the last part, 3',
    });
    expect(store.presignPart).not.toHaveBeenCalled();
  });
});

describe('incompletePartsReason', () => {
  const complete = held(5 * MiB, 5 * MiB, 2 * MiB);

  it('has no reason when every part is held at its exact size and named by its ETag', () => {
    // Assert
    expect(incompletePartsReason(UPLOAD, complete, named(complete))).toBeUndefined();
    // Quoted or not, an ETag names the same bytes.
    const unquoted = named(complete).map((part) => ({ ...part, etag: part.etag.replaceAll('"', '') }));
    expect(incompletePartsReason(UPLOAD, complete, unquoted)).toBeUndefined();
  });

  it.each([
    ['a part S3 does not hold', held(5 * MiB, 5 * MiB), named(complete), 'part 3 is missing'],
    [
      'a short part',
      held(5 * MiB, 4 * MiB, 2 * MiB),
      named(complete),
      `part 2 is ${4 * MiB} bytes, not ${5 * MiB}`,
    ],
    [
      'a long last part',
      held(5 * MiB, 5 * MiB, 3 * MiB),
      named(complete),
      `part 3 is ${3 * MiB} bytes, not ${2 * MiB}`,
    ],
    ['a part the client left out', complete, named(complete).slice(1), 'part 1 is not in the list'],
    [
      'a part uploaded again since the client sent it',
      complete,
      named(complete).map((part) => (part.partNumber === 2 ? { ...part, etag: 'f'.repeat(32) } : part)),
      'part 2 is not the bytes its ETag names',
    ],
    [
      'a part beyond the last',
      complete,
      [...named(complete), { partNumber: 4, etag: 'a'.repeat(32) }],
      'part 4 is beyond the last part, 3',
    ],
  ])('names %s', (_, parts, list, reason) => {
    // Assert
    expect(incompletePartsReason(UPLOAD, parts, list)).toBe(reason);
  });
});

describe('signUploadParts of a closed upload', () => {
  it.each(['complete', 'abort'] as const)(
    'answers 409 upload_closed once a %s has claimed the upload, signing nothing',
    async (action) => {
      // Arrange
      const store = storeHolding([]);
      store.readClosing.mockResolvedValue(action);

      // Act
      const signing = signUploadParts(
        { store, clock: fixedClock('2026-11-27T10:00:00.000Z') } as never,
        ALICE,
        FILE_ID,
        [{ partNumber: 1 }],
      );

      // Assert
      await expect(signing).rejects.toMatchObject({ statusCode: 409, code: 'upload_closed' });
      expect(store.readClosing).toHaveBeenCalledWith(ALICE, FILE_ID);
      expect(store.presignPart).not.toHaveBeenCalled();
    },
  );

  it('answers 409 upload_closed once the upload is as old as its reservation, signing nothing', async () => {
    // Arrange
    const store = storeHolding([]);
    const expired = fixedClock(Date.parse(UPLOAD.startedAt) + MULTIPART_RESERVATION_MS);

    // Act
    const signing = signUploadParts({ store, clock: expired } as never, ALICE, FILE_ID, [{ partNumber: 1 }]);

    // Assert
    await expect(signing).rejects.toMatchObject({ statusCode: 409, code: 'upload_closed' });
    expect(store.presignPart).not.toHaveBeenCalled();
  });
});

describe('completeUpload', () => {
  /** An hour after {@link UPLOAD} started. */
  const AN_HOUR_IN = new Date(Date.parse(UPLOAD.startedAt) + 60 * 60 * 1000);

  it('answers 409 upload_closed once the upload is as old as its reservation, and completes nothing', async () => {
    // Arrange
    const parts = held(5 * MiB, 5 * MiB, 2 * MiB);
    const store = storeHolding(parts);
    const expired = new Date(Date.parse(UPLOAD.startedAt) + MULTIPART_RESERVATION_MS);

    // Act
    const completing = completeUpload(
      { store, clock: fixedClock(expired) } as never,
      ALICE,
      FILE_ID,
      named(parts),
    );

    // Assert
    await expect(completing).rejects.toMatchObject({ statusCode: 409, code: 'upload_closed' });
    expect(store.claimClosing).not.toHaveBeenCalled();
    expect(store.completeMultipartUpload).not.toHaveBeenCalled();
  });

  it('completes from the parts S3 holds, 1 to the last, ignoring any other part', async () => {
    // Arrange
    const parts = [...held(5 * MiB, 5 * MiB, 2 * MiB), { partNumber: 9, size: 5, eTag: '"9"' }];
    const store = storeHolding(parts);

    // Act
    const completed = await completeUpload(
      { store, clock: fixedClock(AN_HOUR_IN) } as never,
      ALICE,
      FILE_ID,
      named(parts.slice(0, 3)),
    );

    // Assert
    expect(completed).toEqual({ fileId: FILE_ID, status: 'pending' });
    expect(store.claimClosing).toHaveBeenCalledWith(UPLOAD, 'complete');
    expect(store.completeMultipartUpload).toHaveBeenCalledWith(UPLOAD, parts.slice(0, 3));
  });

  it('gives its closing claim back when S3 refuses the completion (422), so the upload can be aborted', async () => {
    // Arrange: S3 refuses the parts (one changed since they were listed)
    const parts = held(5 * MiB, 5 * MiB, 2 * MiB);
    const store = storeHolding(parts);
    store.completeMultipartUpload.mockRejectedValue(new UploadIncomplete('a part changed'));

    // Act
    const completing = completeUpload(
      { store, clock: fixedClock(AN_HOUR_IN) } as never,
      ALICE,
      FILE_ID,
      named(parts),
    );

    // Assert
    await expect(completing).rejects.toBeInstanceOf(UploadIncomplete);
    expect(store.claimClosing).toHaveBeenCalledWith(UPLOAD, 'complete');
    expect(store.releaseClosing).toHaveBeenCalledWith(UPLOAD);
  });

  it('keeps its closing claim when the completion fails otherwise (it may have completed)', async () => {
    // Arrange
    const parts = held(5 * MiB, 5 * MiB, 2 * MiB);
    const store = storeHolding(parts);
    store.completeMultipartUpload.mockRejectedValue(new Error('connection reset'));

    // Act
    const completing = completeUpload(
      { store, clock: fixedClock(AN_HOUR_IN) } as never,
      ALICE,
      FILE_ID,
      named(parts),
    );

    // Assert
    await expect(completing).rejects.toThrow('connection reset');
    expect(store.releaseClosing).not.toHaveBeenCalled();
  });

  it('answers 422 incomplete_upload naming the part, and leaves the upload open', async () => {
    // Arrange
    const parts = held(5 * MiB, 5 * MiB);
    const store = storeHolding(parts);

    // Act
    const completing = completeUpload(
      { store, clock: fixedClock(AN_HOUR_IN) } as never,
      ALICE,
      FILE_ID,
      named(parts),
    );

    // Assert
    await expect(completing).rejects.toThrow(ApiError);
    await expect(completing).rejects.toMatchObject({
      statusCode: 422,
      code: 'incomplete_upload',
      message: 'part 3 is missing',
    });
    expect(store.completeMultipartUpload).not.toHaveBeenCalled();
    expect(store.abortMultipartUpload).not.toHaveBeenCalled();
    expect(store.claimClosing).not.toHaveBeenCalled();
  });
});
