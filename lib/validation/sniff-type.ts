import { GetObjectCommand } from '@aws-sdk/client-s3';
import { fileTypeFromBuffer } from 'file-type';
import { bucket, s3 } from '../store/s3-client.js';

/**
 * How many leading bytes are read: file-type's recommended sample
 * (`reasonableDetectionSizeInBytes`), enough for every type it detects from a
 * buffer. The validator never reads more of an object than this.
 */
export const SNIFF_BYTES = 4100;

/** Declared types that carry no magic number and are confirmed by {@link looksLikeText}. */
export const TEXT_TYPES: ReadonlySet<string> = new Set(['text/plain', 'text/csv']);

/** What the first bytes of an object show. */
export interface Sniffed {
  /** The MIME type file-type detected from magic bytes, if any. */
  detectedType?: string;
  /** Whether the sample passes {@link looksLikeText} (only meaningful when nothing was detected). */
  text: boolean;
}

/** Which object (and which version of it) to read. */
export interface ObjectRef {
  key: string;
  /** Quoted or bare ETag; the read fails with 412 if the object changed since. */
  eTag?: string;
  versionId?: string;
}

/** Quotes a bare ETag for `If-Match` (S3 event ETags come without quotes). */
export const quoteETag = (eTag: string): string => (eTag.startsWith('"') ? eTag : `"${eTag}"`);

async function readAtMost(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  // Leaving the loop early destroys the stream: even a server that ignored the
  // Range header could not make this read more than `limit` bytes.
  for await (const chunk of body) {
    chunks.push(chunk.subarray(0, limit - length));
    length += Math.min(chunk.length, limit - length);
    if (length >= limit) break;
  }
  return Buffer.concat(chunks, length);
}

/**
 * Reads at most {@link SNIFF_BYTES} leading bytes of an object with a ranged
 * GET (`Range: bytes=0-4099`), conditioned on the ETag and version when given.
 * Throws the SDK's error as is (404 gone, 412 replaced, anything else).
 */
export async function readLeadingBytes(ref: ObjectRef): Promise<Uint8Array> {
  const response = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: ref.key,
      Range: `bytes=0-${SNIFF_BYTES - 1}`,
      ...(ref.eTag ? { IfMatch: quoteETag(ref.eTag) } : {}),
      ...(ref.versionId ? { VersionId: ref.versionId } : {}),
    }),
  );
  if (!response.Body) return new Uint8Array(0);
  return readAtMost(response.Body as AsyncIterable<Uint8Array>, SNIFF_BYTES);
}

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
 * Reads the first bytes of an object of `size` bytes (none when it is empty:
 * a range on an empty object is a 416) and sniffs them.
 */
export async function sniffObject(ref: ObjectRef, size: number): Promise<Sniffed> {
  const sample = size > 0 ? await readLeadingBytes(ref) : new Uint8Array(0);
  return sniffSample(sample, sample.length >= size);
}
