import { fileTypeFromBuffer } from 'file-type';

/**
 * How many leading bytes are read: file-type's recommended sample
 * (`reasonableDetectionSizeInBytes`), enough for every type it detects from a
 * buffer. The validator never reads more of an object than this.
 */
export const SNIFF_BYTES = 4100;

/** What the first bytes of an object show. */
export interface Sniffed {
  /** The MIME type file-type detected from magic bytes, if any. */
  detectedType?: string;
  /** Whether the sample passes {@link looksLikeText} (only meaningful when nothing was detected). */
  text: boolean;
}

/** Reads at most `limit` leading bytes of the object being judged. */
export type LeadingBytesReader = (limit: number) => Promise<Uint8Array>;

/**
 * The check for content types without magic numbers: the sample is valid UTF-8
 * and holds no NUL byte. When the sample is only the start of a larger object
 * (`complete` false), a multi-byte sequence cut at its end is accepted.
 */
export function looksLikeText(sample: Uint8Array, complete: boolean): boolean {
  if (sample.includes(0)) return false;
  try {
    // `stream: true` holds back an incomplete trailing sequence instead of failing on it.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects the real type of a sample with file-type's magic-byte signatures and
 * runs the text check. `complete` says whether the sample is the whole object.
 */
export async function sniffSample(sample: Uint8Array, complete: boolean): Promise<Sniffed> {
  const detected = await fileTypeFromBuffer(sample);
  if (detected) return { detectedType: detected.mime, text: false };
  return { text: sample.length > 0 && looksLikeText(sample, complete) };
}

/**
 * Reads the first {@link SNIFF_BYTES} bytes of an object of `size` bytes (none
 * when it is empty: a range on an empty object is a 416) and sniffs them.
 */
export async function sniffObject(readLeadingBytes: LeadingBytesReader, size: number): Promise<Sniffed> {
  const sample = size > 0 ? await readLeadingBytes(SNIFF_BYTES) : new Uint8Array(0);
  return sniffSample(sample, sample.length >= size);
}
