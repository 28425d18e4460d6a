/**
 * S3's limits on objects and parts, and how this API cuts a file into parts:
 * declared once here, exported by `@presign/client` for the packages built on
 * it (`@presign/uppy`) and for anything else that must agree with the server.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The largest body one form POST may carry: 5 GiB. */
export const MAX_FORM_BYTES = 5 * GiB;
/** Every part of a multipart upload but the last is at least this large: 5 MiB. */
export const MIN_PART_SIZE = 5 * MiB;
/** No part of a multipart upload is larger: 5 GiB. */
export const MAX_PART_SIZE = 5 * GiB;
/** A multipart upload has at most this many parts, numbered from 1. */
export const MAX_PARTS = 10_000;
/** The most part URLs one `POST /uploads/{fileId}/parts` may ask for. */
export const MAX_PARTS_PER_SIGNING = 100;
/** The part size the API picks when asked for none (grown for a file that needs more than 10,000 parts). */
export const DEFAULT_PART_SIZE = 16 * MiB;
/** Above this many bytes a file goes multipart by default (the client's, Uppy's and the upload page's threshold). */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * MiB;

/**
 * The part size for a file of `size` bytes: `preferred`, grown to the next
 * whole MiB when the file would otherwise need more than 10,000 parts.
 * @throws RangeError when `preferred` is outside 5 MiB..5 GiB or the file
 * needs parts over 5 GiB (it is over S3's 5 TiB object limit).
 */
export function partSizeFor(size: number, preferred = DEFAULT_PART_SIZE): number {
  if (!Number.isInteger(preferred) || preferred < MIN_PART_SIZE || preferred > MAX_PART_SIZE)
    throw new RangeError(`partSize must be a whole number of bytes from 5 MiB to 5 GiB, not ${preferred}`);
  const fewEnough = Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB;
  const chosen = Math.max(preferred, fewEnough);
  if (chosen > MAX_PART_SIZE) throw new RangeError(`a file of ${size} bytes needs parts over 5 GiB`);
  return chosen;
}

/** The byte range `[start, end)` of part `partNumber` (from 1). */
export function partRange(partNumber: number, partSize: number, size: number): [number, number] {
  const start = (partNumber - 1) * partSize;
  return [start, Math.min(size, start + partSize)];
}
