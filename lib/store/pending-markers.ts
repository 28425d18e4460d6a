import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { decodeTime } from 'ulid';
import type { Owner } from '../core/owner.js';
import * as z from '../core/zod.js';
import { objectKey, parseObjectKey } from './object-key.js';
import { readStateObject } from './state-object.js';

type OwnerRef = Pick<Owner, 'segment'>;

/**
 * Where the uploads not judged yet are remembered: an object per issued
 * upload, `pending/<due time>/<owner-segment>/<fileId>`, in the state bucket.
 * The time leads the key, so S3's ascending listing is oldest first and a
 * sweep reads only what is due, however many files the owners store.
 */
export const PENDING_PREFIX = 'pending/';

const MARKER_PATTERN =
  /^pending\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\/([0-9a-f]{32})\/([0-9A-HJKMNP-TV-Z]{26})$/;

/** When a file id was issued: the time its ULID carries. */
export const issuedAt = (fileId: string): Date => new Date(decodeTime(fileId));

/**
 * The key of a file's pending marker, due at `dueAt`: by default when its id
 * was issued, the one place both the issuer and the validator can name
 * without reading anything.
 */
export function pendingMarkerKey(owner: OwnerRef, fileId: string, dueAt: Date = issuedAt(fileId)): string {
  return `${PENDING_PREFIX}${dueAt.toISOString()}/${owner.segment}/${fileId}`;
}

/** One pending marker as a listing names it. */
export interface PendingMarker {
  /** The marker's own key in the state bucket. */
  markerKey: string;
  /** The upload's key in the uploads bucket. */
  key: string;
  segment: string;
  fileId: string;
  dueAt: Date;
  /** Whether it is the marker written when the upload was issued (else one a sweep moved on). */
  issued: boolean;
}

/** Splits a marker's key; `undefined` for any other key. */
export function parsePendingMarkerKey(markerKey: string): PendingMarker | undefined {
  const match = MARKER_PATTERN.exec(markerKey);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  const dueAt = new Date(match[1]);
  const [segment, fileId] = [match[2], match[3]];
  const key = objectKey({ segment }, fileId);
  if (Number.isNaN(dueAt.getTime()) || !parseObjectKey(key)) return undefined;
  return { markerKey, key, segment, fileId, dueAt, issued: dueAt.getTime() === decodeTime(fileId) };
}

const markerBodySchema = z.object({ until: z.iso.datetime() });

/** What a marker keeps: until when something may still land under the file's key (its reservation's end). */
export interface PendingTerms {
  until: Date;
}

/** One sweep's view of the markers due: up to its pages, oldest first. */
export interface DueMarkers {
  markers: PendingMarker[];
  /** Whether more were due than the pages held (the next sweep goes on). */
  more: boolean;
}

export interface PendingMarkerSettings {
  s3: S3Client;
  stateBucket: string;
}

/** The markers of the state bucket: written at issue, deleted once judged, listed by the sweep only while due. */
export function createPendingMarkers({ s3, stateBucket }: PendingMarkerSettings) {
  /**
   * Writes an upload's marker at `markerKey` (by default where it was issued),
   * with the time until which bytes may land under its key. Throws the S3 error.
   */
  async function markPending(
    owner: OwnerRef,
    fileId: string,
    terms: PendingTerms,
    markerKey = pendingMarkerKey(owner, fileId),
  ): Promise<void> {
    await s3.send(
      new PutObjectCommand({
        Bucket: stateBucket,
        Key: markerKey,
        Body: JSON.stringify({ until: terms.until.toISOString() }),
        ContentType: 'application/json',
      }),
    );
  }

  /** Deletes a marker (none there is fine): by default the one written when the upload at `key` was issued. */
  async function clearPending(key: string, markerKey?: string): Promise<void> {
    const file = parseObjectKey(key);
    if (!file) return;
    await s3.send(
      new DeleteObjectCommand({
        Bucket: stateBucket,
        Key: markerKey ?? pendingMarkerKey(file, file.fileId),
      }),
    );
  }

  /** A marker's terms, in one GET; `undefined` when it is gone or unreadable. */
  async function readPendingTerms(markerKey: string): Promise<PendingTerms | undefined> {
    const object = await readStateObject(s3, stateBucket, markerKey);
    if (!object) return undefined;
    try {
      const parsed = markerBodySchema.safeParse(JSON.parse(object.text));
      return parsed.success ? { until: new Date(parsed.data.until) } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The markers due at `dueBy`, oldest first, from at most `maxPages` listings
   * of `pageSize` keys: the listing stops at the first marker not yet due, so
   * what a sweep reads is what is stuck, never what is stored.
   */
  async function listDueMarkers(
    dueBy: Date,
    { maxPages, pageSize }: { maxPages: number; pageSize: number },
  ): Promise<DueMarkers> {
    const markers: PendingMarker[] = [];
    let token: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const listed = await s3.send(
        new ListObjectsV2Command({
          Bucket: stateBucket,
          Prefix: PENDING_PREFIX,
          MaxKeys: pageSize,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of listed.Contents ?? []) {
        const marker = parsePendingMarkerKey(object.Key ?? '');
        if (!marker) continue;
        if (marker.dueAt > dueBy) return { markers, more: false };
        markers.push(marker);
      }
      if (!listed.IsTruncated || !listed.NextContinuationToken) return { markers, more: false };
      token = listed.NextContinuationToken;
    }
    return { markers, more: true };
  }

  return { markPending, clearPending, readPendingTerms, listDueMarkers };
}

export type PendingMarkers = ReturnType<typeof createPendingMarkers>;
