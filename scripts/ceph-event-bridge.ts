import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { S3Event } from 'aws-lambda';
import type { EventFaults } from './event-faults.js';

/**
 * Encodes an object key as AWS writes it into S3 event notifications:
 * form-style URL encoding (`+` for a space, `%2B` for a plus), slashes kept.
 */
export function awsEventKey(key: string): string {
  return encodeURIComponent(key).replaceAll('%20', '+').replaceAll('%2F', '/');
}

/** Where every upload to the local stack comes from. */
const LOOPBACK = '127.0.0.1';

interface CephRecord {
  s3?: {
    bucket?: { name?: string; [field: string]: unknown };
    object?: { key?: string; metadata?: unknown; tags?: unknown; [field: string]: unknown };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/**
 * Turns the body Ceph RGW pushes (`{"Records":[…]}` with `eventSource`
 * `ceph:s3`, no region and raw keys) into the event AWS would deliver, so the
 * validator only ever sees AWS's shape. Ceph's extra `metadata` (which holds
 * the uploader's request headers, session token included) and `tags` are
 * dropped, and the empty `sourceIPAddress` becomes the loopback address the
 * upload came from. Throws when the body has no records.
 */
export function toAwsS3Event(pushed: unknown, region: string): S3Event {
  const records = (pushed as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) throw new Error('push body has no Records array');
  return {
    Records: records.map((record: CephRecord) => {
      const { metadata: _headers, tags: _tags, ...object } = record.s3?.object ?? {};
      return {
        ...record,
        eventSource: 'aws:s3',
        awsRegion: region,
        // RGW leaves it empty; AWS always names the uploader's address, and every client here is local.
        requestParameters: { sourceIPAddress: LOOPBACK },
        s3: { ...record.s3, object: { ...object, key: awsEventKey(record.s3?.object?.key ?? '') } },
      };
    }),
  } as unknown as S3Event;
}

/** How events reach the validator: in batches, a bounded number at a time, as a queue in front of it hands them. */
export interface BatchSettings {
  /** Records per invocation at most (the queue's batch size). */
  batchSize: number;
  /** Invocations in flight at most (the validator's concurrency). */
  concurrency: number;
}

/**
 * Work waiting in lanes, served in turn: each run takes up to `batchSize`
 * items of one lane, at most one run per lane is in flight and at most
 * `concurrency` in all, and a lane served goes to the back of the line. So a
 * flood in one lane holds one slot at a time, and every other lane's items
 * take the next free one: they wait behind one batch of the flood, never
 * behind the flood.
 */
export function laneScheduler<T>(
  settings: BatchSettings & {
    laneOf: (item: T) => string;
    run: (batch: T[]) => Promise<void>;
  },
) {
  const lanes = new Map<string, T[]>();
  const busy = new Set<string>();
  let running = 0;
  let settled: (() => void)[] = [];
  function pump(): void {
    while (running < settings.concurrency) {
      const lane = [...lanes.keys()].find((name) => !busy.has(name));
      if (lane === undefined) break;
      const waiting = lanes.get(lane) ?? [];
      const batch = waiting.splice(0, settings.batchSize);
      lanes.delete(lane);
      if (waiting.length > 0) lanes.set(lane, waiting);
      busy.add(lane);
      running += 1;
      void settings
        .run(batch)
        .catch(() => undefined)
        .finally(() => {
          busy.delete(lane);
          running -= 1;
          pump();
        });
    }
    if (running === 0 && lanes.size === 0) {
      for (const done of settled) done();
      settled = [];
    }
  }
  return {
    push(items: T[]): void {
      for (const item of items) {
        const lane = settings.laneOf(item);
        const waiting = lanes.get(lane);
        if (waiting) waiting.push(item);
        else lanes.set(lane, [item]);
      }
      pump();
    },
    /** Resolves once nothing waits and nothing runs. */
    drained(): Promise<void> {
      if (running === 0 && lanes.size === 0) return Promise.resolve();
      return new Promise((done) => settled.push(done));
    },
  };
}

/** The lane of an event: its object key, so that a form posted again and again is one lane. */
export const keyLane = (record: { s3?: { object?: { key?: string } } }): string =>
  record.s3?.object?.key ?? '';

export interface BridgeSettings {
  port: number;
  region: string;
  /** serverless-offline's Lambda Invoke URL of the validator function. */
  invokeUrl: string;
  log: (line: string) => void;
  /** Called with each pushed record as RGW sent it, and awaited, before it is handed to the validator. */
  record?: (created: CreatedObject) => void | Promise<void>;
  /**
   * Serves Lambda Invoke calls on the same port (scripts/async-invocations.ts):
   * answers a request it takes and returns true; anything else is a push.
   */
  invocations?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  /**
   * Told of each created object once recorded, and not awaited: another consumer of the same
   * event, running beside the validator (the local GuardDuty emulator).
   */
  created?: (created: CreatedObject) => void;
  /** Awaited before the validator gets a push (a test holding the content check of a key). */
  beforeValidation?: (created: CreatedObject[]) => Promise<void>;
  /** How events are batched to the validator (default: one invocation per push, none waiting). */
  batches?: BatchSettings;
  /** The fault tests' controls (scripts/event-faults.ts): events lost, duplicated or held. */
  faults?: EventFaults;
  /**
   * A bucket whose events only show that RGW pushes the topic's queue (see
   * {@link isReadinessProbe}): each such push calls `seen`, and is neither
   * recorded nor handed to the validator.
   */
  readinessProbe?: { bucket: string; seen: () => void };
}

/**
 * Whether a push is only of objects created in `bucket`: the local stack
 * attaches a bucket of its own to the uploads' topic, so an object put there
 * travels the uploads' event queue, and its push shows that RGW pushes that
 * queue (RGW 16 takes up a new persistent topic's queue on a periodic tick, not at once).
 */
export function isReadinessProbe(pushed: unknown, bucket: string): boolean {
  const records = (pushed as { Records?: unknown })?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((record: CephRecord) => record?.s3?.bucket?.name === bucket)
  );
}

/**
 * What RGW says of one created object. Its tags are the ones it was created
 * with, except after a form POST into a versioned bucket, whose event carries
 * neither tags nor version id.
 */
export interface CreatedObject {
  eventName: string;
  key: string;
  versionId?: string;
  eTag?: string;
  tags: { key: string; val: string }[];
  /** When the bridge received the push (ms since the epoch), as the local stack records it. */
  receivedAt?: number;
}

/** The created-object facts of a push, without the request headers RGW echoes (a session token among them). */
export function createdObjects(pushed: unknown): CreatedObject[] {
  const records = (pushed as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) return [];
  return records.map((record: CephRecord & { eventName?: string }) => {
    const object = record.s3?.object ?? {};
    return {
      eventName: String(record.eventName ?? ''),
      key: String(object.key ?? ''),
      ...(typeof object.versionId === 'string' && object.versionId ? { versionId: object.versionId } : {}),
      ...(typeof object.eTag === 'string' ? { eTag: object.eTag } : {}),
      tags: Array.isArray(object.tags) ? (object.tags as { key: string; val: string }[]) : [],
    };
  });
}

const MAX_PUSH_BYTES = 1024 * 1024;
/** Like Lambda's asynchronous invocation: the first try and two retries, with backoff. */
const RETRY_DELAYS_MS = [1000, 2000];

/**
 * Invokes a function through serverless offline's Lambda Invoke URL the way AWS
 * invokes it asynchronously for S3 and EventBridge: retried twice, then dropped.
 */
export async function invokeWithRetries(
  settings: { invokeUrl: string; log: (line: string) => void },
  event: unknown,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const invoked = await fetch(settings.invokeUrl, { method: 'POST', body: JSON.stringify(event) });
      const detail = await invoked.text();
      if (invoked.ok && !invoked.headers.has('x-amz-function-error')) return;
      settings.log(`validator failed (attempt ${attempt + 1}, ${invoked.status}): ${detail.slice(0, 300)}`);
    } catch (error) {
      settings.log(`validator unreachable (attempt ${attempt + 1}): ${(error as Error).message}`);
    }
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined) {
      settings.log('event dropped after retries (in AWS it would go to the on-failure queue)');
      return;
    }
    await new Promise((done) => setTimeout(done, delay));
  }
}

/**
 * Receives RGW's HTTP pushes and hands them to the validator the way a queue
 * hands S3's events to Lambda in AWS: in batches of up to `batches.batchSize`
 * records, `batches.concurrency` invocations at a time, each retried twice
 * (then dropped, logged); one key's events are one lane of
 * {@link laneScheduler}, so a form posted thousands of times holds one
 * invocation at a time. With `invocations`, the same port also takes the
 * functions' own asynchronous Lambda invocations. It always answers RGW at
 * once with 200: RGW retries a persistent topic's 5xx in a tight loop and may
 * then stop delivering that topic altogether (docs/rgw-notes.md).
 */
export function startEventBridge(settings: BridgeSettings): Promise<Server> {
  const batches = settings.batches ?? {
    batchSize: Number.MAX_SAFE_INTEGER,
    concurrency: Number.MAX_SAFE_INTEGER,
  };
  const queue = laneScheduler<S3Event['Records'][number]>({
    ...batches,
    laneOf: keyLane,
    run: (records) => invokeWithRetries(settings, { Records: records }),
  });
  const deliver = (records: S3Event['Records']) => {
    if (records.length > 0) void invokeWithRetries(settings, { Records: records });
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (settings.faults && (await settings.faults.control(request, response, deliver))) return;
    if (settings.invocations && (await settings.invocations(request, response))) return;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_PUSH_BYTES) break;
      chunks.push(chunk as Buffer);
    }
    response.writeHead(200).end();
    if (size > MAX_PUSH_BYTES) {
      settings.log(`event bridge: push of over ${MAX_PUSH_BYTES} bytes ignored`);
      return;
    }
    let event: S3Event;
    let created: CreatedObject[];
    try {
      const pushed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (settings.readinessProbe && isReadinessProbe(pushed, settings.readinessProbe.bucket)) {
        settings.readinessProbe.seen();
        return;
      }
      created = createdObjects(pushed);
      event = toAwsS3Event(pushed, settings.region);
    } catch (error) {
      settings.log(`event bridge: unreadable push: ${(error as Error).message}`);
      return;
    }
    // A record that fails (its tags unreadable meanwhile) never keeps the event from the validator.
    for (const object of created) {
      try {
        await settings.record?.(object);
      } catch (error) {
        settings.log(`event bridge: could not record ${object.key}: ${(error as Error).message}`);
      }
    }
    for (const object of created) settings.created?.(object);
    await settings.beforeValidation?.(created);
    if (!settings.faults) {
      queue.push(event.Records);
      return;
    }
    const { queued, duplicated } = settings.faults.route(event.Records);
    queue.push(queued);
    deliver(duplicated);
  };
  // A request that fails (its sender gone mid-body, as RGW killed while it pushes) is that request's
  // end, never the bridge's: it is logged, and answered 400 when it still can be.
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      settings.log(`event bridge: ${request.method} ${request.url} failed: ${error.message}`);
      if (!response.headersSent && !response.destroyed) response.writeHead(400).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, '127.0.0.1', () => resolve(server));
  });
}
