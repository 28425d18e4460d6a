import * as z from '../core/zod.js';
import { parseObjectKey } from '../store/object-key.js';

/** The `source` of the event the sweep hands the validator: the uploads found pending too long. */
export const PENDING_UPLOADS_SOURCE = 'presign.pending-sweep';

/** Uploads one event names at most: a queue's batch. */
export const MAX_PENDING_KEYS = 10;

const pendingUploadsEventSchema = z.object({
  source: z.literal(PENDING_UPLOADS_SOURCE),
  keys: z
    .array(z.string().check(z.refine((key) => parseObjectKey(key) !== undefined, 'must be an upload key')))
    .check(z.minLength(1), z.maxLength(MAX_PENDING_KEYS)),
});

/** The event that asks the validator to judge uploads whose own events may be lost. */
export interface PendingUploadsEvent {
  source: typeof PENDING_UPLOADS_SOURCE;
  keys: string[];
}

/** The event for `keys` (upload keys, {@link MAX_PENDING_KEYS} at most). */
export const pendingUploadsEvent = (keys: string[]): PendingUploadsEvent => ({
  source: PENDING_UPLOADS_SOURCE,
  keys,
});

/** The upload keys of a pending-uploads event; `undefined` for any other event. */
export function parsePendingUploadsEvent(event: unknown): string[] | undefined {
  const parsed = pendingUploadsEventSchema.safeParse(event);
  return parsed.success ? parsed.data.keys : undefined;
}
