import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';
import * as z from 'zod';
import type { Owner } from '../core/owner.js';

/** Every upload lives under this prefix; the validator and the bucket policy key on it. */
export const UPLOADS_PREFIX = 'uploads/';

const FILE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const KEY_PATTERN = /^uploads\/([0-9a-f]{32})\/([0-9A-HJKMNP-TV-Z]{26})$/;

/** A file id as it appears in a path: a ULID (Crockford base32, 26 characters). */
export const fileIdSchema = z.string().regex(FILE_ID_PATTERN, 'must be a file id');

// ulid's default source makes one getRandomValues call per character: draw
// CSPRNG bytes 4 KiB at a time instead, one byte per character as ulid does.
const randomPool = new Uint8Array(4096);
let randomUsed = randomPool.length;
function pooledRandom(): number {
  if (randomUsed === randomPool.length) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  return (randomPool[randomUsed++] as number) / 256;
}

/**
 * A new server-chosen file id: a ULID, sortable by creation time, with 80 bits
 * from the platform's CSPRNG, so ids cannot be guessed.
 */
export function newFileId(): string {
  return ulid(undefined, pooledRandom);
}

/** The object key for an owner's file: `uploads/<owner-segment>/<fileId>`. */
export function objectKey(owner: Pick<Owner, 'segment'>, fileId: string): string {
  return `${UPLOADS_PREFIX}${owner.segment}/${fileId}`;
}

/** Splits a key made by {@link objectKey}; `undefined` for any other key. */
export function parseObjectKey(key: string): { segment: string; fileId: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { segment: match[1], fileId: match[2] } : undefined;
}
