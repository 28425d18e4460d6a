import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PART_SIZE,
  MAX_FORM_BYTES,
  MAX_PART_SIZE,
  MAX_PARTS,
  MAX_PARTS_PER_SIGNING,
  MIN_PART_SIZE,
  partSizeFor,
} from '../../../client/src/index.js';
import {
  PART_MAX_BYTES,
  PART_MIN_BYTES,
  POST_OBJECT_MAX_BYTES,
  MAX_PARTS as SERVER_MAX_PARTS,
} from '../../../lib/core/object-limits.js';
import {
  choosePartSize,
  DEFAULT_PART_SIZE as SERVER_DEFAULT_PART_SIZE,
  MAX_PARTS_PER_SIGNING as SERVER_MAX_PARTS_PER_SIGNING,
} from '../../../lib/uploads/multipart-uploads.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("the client's part sizing", () => {
  it("declares S3's limits and the API's defaults as the server applies them", () => {
    expect({
      MIN_PART_SIZE,
      MAX_PART_SIZE,
      MAX_PARTS,
      MAX_FORM_BYTES,
      DEFAULT_PART_SIZE,
      MAX_PARTS_PER_SIGNING,
    }).toEqual({
      MIN_PART_SIZE: PART_MIN_BYTES,
      MAX_PART_SIZE: PART_MAX_BYTES,
      MAX_PARTS: SERVER_MAX_PARTS,
      MAX_FORM_BYTES: POST_OBJECT_MAX_BYTES,
      DEFAULT_PART_SIZE: SERVER_DEFAULT_PART_SIZE,
      MAX_PARTS_PER_SIGNING: SERVER_MAX_PARTS_PER_SIGNING,
    });
  });

  it.each([1, 100 * MiB, 160 * GiB, 500 * GiB, 5 * 1024 * GiB])(
    'picks the part size the server picks when asked for none, for %i bytes',
    (size) => {
      expect(partSizeFor(size)).toBe(choosePartSize(size));
    },
  );

  it('keeps a preferred size that is enough, and the server takes it', () => {
    expect(partSizeFor(64 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(64 * MiB, partSizeFor(64 * MiB, 8 * MiB))).toBe(8 * MiB);
  });

  it('refuses a preferred size outside 5 MiB..5 GiB, and a file that needs parts over 5 GiB', () => {
    expect(() => partSizeFor(10, 4 * MiB)).toThrow(RangeError);
    expect(() => partSizeFor(10, 6 * GiB)).toThrow(RangeError);
    expect(partSizeFor(10_000 * 5 * GiB)).toBe(5 * GiB);
    expect(() => partSizeFor(10_000 * 5 * GiB + 1)).toThrow(RangeError);
  });
});
