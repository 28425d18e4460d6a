import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3EventRecord } from 'aws-lambda';
import { answer } from './async-invocations.js';

/**
 * What the local event bridge can be made to do to the next event of one key,
 * as a queue in AWS may: lose it (its retries exhausted, so it sits in the
 * on-failure queue), deliver it twice at once, or hold it until released (a
 * late, out-of-order delivery).
 */
export const EVENT_FAULTS = ['drop', 'duplicate', 'hold'] as const;
export type EventFault = (typeof EVENT_FAULTS)[number];

/** The fault controls' path on the bridge's loopback port. */
const CONTROL_PREFIX = '/faults/';
const MAX_CONTROL_BYTES = 4096;

/** Where the records of a push go once the faults armed for their keys are applied. */
export interface FaultRouting {
  /** Queued for the validator now, as usual. */
  queued: S3EventRecord[];
  /** Delivered a second time at once, outside the queue's lanes (a duplicate delivery). */
  duplicated: S3EventRecord[];
}

const keyOf = (record: S3EventRecord): string => record.s3?.object?.key ?? '';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_CONTROL_BYTES) throw new Error('control body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The local stack's event faults, for the fault tests only: armed per key over
 * the bridge's loopback port (`POST /faults/events {"key","fault"}`; `POST
 * /faults/releases {"key"}` delivers what was held), each applied to the next
 * event of that key once; and S3 writes failed (`POST /faults/writes
 * {"prefix","failing"}`: every PUT under the path prefix answers 500 until
 * turned off), so a function dies between two of its writes. Nothing like it
 * exists in AWS, where the queue's own losses, duplicates and reorderings, and
 * a Lambda that dies mid-run, are what these stand for.
 */
export function eventFaults(settings: { log: (line: string) => void }) {
  const armed = new Map<string, EventFault>();
  const held = new Map<string, S3EventRecord[]>();
  /** Path prefixes (path-style: `/<bucket>/<key prefix>`) whose writes the S3 front door fails. */
  const failedWrites = new Set<string>();

  /** Whether the S3 front door fails this request (a PUT under an armed prefix) as S3 fails one: 500. */
  function failsWrite(request: Pick<IncomingMessage, 'method' | 'url'>): boolean {
    if (request.method !== 'PUT') return false;
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    return [...failedWrites].some((prefix) => path.startsWith(prefix));
  }

  /** Applies the faults armed for the records' keys (each fault once). */
  function route(records: S3EventRecord[]): FaultRouting {
    const routing: FaultRouting = { queued: [], duplicated: [] };
    for (const record of records) {
      const key = keyOf(record);
      const fault = armed.get(key);
      armed.delete(key);
      if (fault === 'drop') {
        settings.log(`event faults: dropped the event of ${key}`);
        continue;
      }
      if (fault === 'hold') {
        held.set(key, [...(held.get(key) ?? []), record]);
        settings.log(`event faults: holding the event of ${key}`);
        continue;
      }
      routing.queued.push(record);
      if (fault === 'duplicate') routing.duplicated.push(record);
    }
    return routing;
  }

  /** Serves the controls; `release` gets the records held for a key. False for any other request. */
  async function control(
    request: IncomingMessage,
    response: ServerResponse,
    release: (records: S3EventRecord[]) => void,
  ): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(CONTROL_PREFIX)) return false;
    const reply = (status: number, body?: unknown) => {
      answer(response, status, body);
      return true;
    };
    const action = url.pathname.slice(CONTROL_PREFIX.length);
    if (request.method !== 'POST' || !['events', 'releases', 'writes'].includes(action)) {
      return reply(404, { message: 'no such control' });
    }
    let parsed: { key?: unknown; fault?: unknown; prefix?: unknown; failing?: unknown };
    try {
      parsed = JSON.parse(await readBody(request)) as typeof parsed;
    } catch {
      return reply(400, { message: 'the body must be JSON: {"key", "fault"}' });
    }
    if (action === 'writes') {
      if (typeof parsed.prefix !== 'string' || !parsed.prefix.startsWith('/') || parsed.prefix.length < 3) {
        return reply(400, { message: 'prefix must be a path prefix: /<bucket>/<key prefix>' });
      }
      if (parsed.failing === true) failedWrites.add(parsed.prefix);
      else failedWrites.delete(parsed.prefix);
      settings.log(
        `event faults: writes under ${parsed.prefix} ${parsed.failing === true ? 'fail' : 'pass'}`,
      );
      return reply(204);
    }
    if (typeof parsed.key !== 'string' || parsed.key.length === 0) {
      return reply(400, { message: 'key must be an object key' });
    }
    if (action === 'releases') {
      const records = held.get(parsed.key) ?? [];
      held.delete(parsed.key);
      release(records);
      return reply(200, { released: records.length });
    }
    const fault = EVENT_FAULTS.find((known) => known === parsed.fault);
    if (!fault) return reply(400, { message: `fault must be one of ${EVENT_FAULTS.join(', ')}` });
    armed.set(parsed.key, fault);
    return reply(204);
  }

  return { route, control, failsWrite };
}

export type EventFaults = ReturnType<typeof eventFaults>;
