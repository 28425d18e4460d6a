// The local GuardDuty emulator: an emulator of GuardDuty Malware Protection for S3's tagging
// contract, NOT a malware scanner. For each object created under uploads/ it reads the version,
// decides by a fixed rule (the EICAR test string: THREATS_FOUND; a configurable marker:
// UNSUPPORTED; anything else: NO_THREATS_FOUND), waits, then does what GuardDuty does: tags that
// version GuardDutyMalwareScanStatus=<result>, keeping its other tags, and sends the
// "Object Scan Result" event to the validator (as EventBridge would). It runs beside the
// validator, so either verdict may land first; tests force an order by holding either one.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { GUARDDUTY_SCAN_TAG, type GuardDutyScanResult } from '../lib/core/file-checks.js';
import { TAG_LIMITS, withScanResult } from '../lib/store/object-encoding.js';
import { SCAN_RESULT_DETAIL_TYPE } from '../lib/validation/scan-result-event.js';
import type { CreatedObject } from './ceph-event-bridge.js';

/** The EICAR anti-virus test string (not a virus: every scanner reports it as one, by agreement). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** What makes the emulator answer UNSUPPORTED, unless GUARDDUTY_EMULATOR_UNSUPPORTED_MARKER says otherwise. */
export const DEFAULT_UNSUPPORTED_MARKER = 'PRESIGN-GUARDDUTY-EMULATOR-UNSUPPORTED';
/** How long a scan takes unless GUARDDUTY_EMULATOR_DELAY_MS says otherwise. */
export const DEFAULT_DELAY_MS = 1500;
/** Versions larger than this are not read: UNSUPPORTED, as GuardDuty answers for what it cannot scan. */
export const MAX_SCANNED_BYTES = 16 * 1024 * 1024;
/** A hold nobody releases ends by itself, so a failed test never wedges the stack. */
const HOLD_MS = 120_000;
const CONTROL_PREFIX = '/guardduty-emulator/';

/** The emulator's rule: not a scan, a fixed reading of the bytes. */
export function emulatedVerdict(
  bytes: Uint8Array,
  unsupportedMarker = DEFAULT_UNSUPPORTED_MARKER,
): GuardDutyScanResult {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.includes(EICAR)) return 'THREATS_FOUND';
  if (unsupportedMarker && buffer.includes(unsupportedMarker)) return 'UNSUPPORTED';
  return 'NO_THREATS_FOUND';
}

/** The tag set GuardDuty writes: the version's own tags with its key set to the result (none past S3's ten). */
export function withScanTag(tags: Tag[], result: GuardDutyScanResult): Tag[] | undefined {
  const others = tags.filter((tag) => tag.Key !== GUARDDUTY_SCAN_TAG);
  if (others.length >= TAG_LIMITS.maxTags) return undefined;
  return withScanResult(tags, result);
}

/** GuardDuty's "Object Scan Result" event as EventBridge delivers it to a Lambda target. */
export function scanResultEvent(scan: {
  bucket: string;
  key: string;
  versionId: string;
  eTag: string;
  result: GuardDutyScanResult;
  region: string;
}) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': SCAN_RESULT_DETAIL_TYPE,
    source: 'aws.guardduty',
    account: '000000000000',
    time: new Date().toISOString(),
    region: scan.region,
    resources: [`arn:aws:guardduty:${scan.region}:000000000000:malware-protection-plan/local-emulator`],
    detail: {
      schemaVersion: '1.0',
      scanStatus: 'COMPLETED',
      resourceType: 'S3_OBJECT',
      s3ObjectDetails: {
        bucketName: scan.bucket,
        objectKey: scan.key,
        eTag: scan.eTag.replaceAll('"', ''),
        versionId: scan.versionId,
        s3Throttled: false,
      },
      scanResultDetails: {
        scanResultStatus: scan.result,
        threats: scan.result === 'THREATS_FOUND' ? [{ name: 'EICAR-Test-File (not a virus)' }] : null,
      },
    },
  };
}

/** Which verdict a hold keeps back: the emulator's scan, or the validator's content check. */
export type HeldCheck = 'malware' | 'content';
const HELD_CHECKS: readonly HeldCheck[] = ['malware', 'content'];

/** One scan the emulator finished: what tests ask of it. */
export interface EmulatedScan {
  key: string;
  versionId: string;
  result: GuardDutyScanResult;
  tagged: boolean;
}

export interface EmulatorSettings {
  bucket: string;
  region: string;
  /** Reads and tags with the emulator's own role (GuardDuty's S3 permissions). */
  scanner: S3Client;
  /** The bucket owner's client: finds the version of a form POST, whose event names none. */
  admin: S3Client;
  /** Delivers the scan-result event to the validator (the bridge's invocation, with retries). */
  deliver: (event: unknown) => Promise<void>;
  delayMs: number;
  unsupportedMarker: string;
  log: (line: string) => void;
}

/** The emulator's settings from the environment of `npm start`; throws on a value it cannot use. */
export function emulatorEnvironment(environment: NodeJS.ProcessEnv): {
  delayMs: number;
  unsupportedMarker: string;
} {
  const delayText = environment.GUARDDUTY_EMULATOR_DELAY_MS;
  const delayMs = delayText === undefined || delayText === '' ? DEFAULT_DELAY_MS : Number(delayText);
  if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > 600_000) {
    throw new Error('GUARDDUTY_EMULATOR_DELAY_MS must be a whole number of milliseconds from 0 to 600000');
  }
  const unsupportedMarker = environment.GUARDDUTY_EMULATOR_UNSUPPORTED_MARKER || DEFAULT_UNSUPPORTED_MARKER;
  return { delayMs, unsupportedMarker };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function guardDutyEmulator(settings: EmulatorSettings) {
  const holds = new Map<string, { released: Promise<void>; release: () => void }>();
  const scans: EmulatedScan[] = [];
  const holdName = (check: HeldCheck, key: string) => `${check} ${key}`;

  function hold(check: HeldCheck, key: string): void {
    if (holds.has(holdName(check, key))) return;
    let release = () => {};
    const released = new Promise<void>((done) => {
      release = done;
    });
    const timer = setTimeout(() => releaseHold(check, key), HOLD_MS);
    timer.unref();
    holds.set(holdName(check, key), {
      released,
      release: () => {
        clearTimeout(timer);
        release();
      },
    });
  }

  function releaseHold(check: HeldCheck, key: string): void {
    holds.get(holdName(check, key))?.release();
    holds.delete(holdName(check, key));
  }

  /** Resolves once nothing holds that check of that key. */
  const held = (check: HeldCheck, key: string): Promise<void> =>
    holds.get(holdName(check, key))?.released ?? Promise.resolve();

  /** The version an event is about: its own id, or (form POST) the version with its ETag. */
  async function versionOf(created: CreatedObject): Promise<string | undefined> {
    if (created.versionId) return created.versionId;
    const listed = await settings.admin.send(
      new ListObjectVersionsCommand({ Bucket: settings.bucket, Prefix: created.key }),
    );
    const eTag = created.eTag?.replaceAll('"', '');
    return (listed.Versions ?? []).find(
      (version) => version.Key === created.key && version.ETag?.replaceAll('"', '') === eTag,
    )?.VersionId;
  }

  async function scan(created: CreatedObject): Promise<void> {
    if (!created.eventName.startsWith('ObjectCreated:') || !created.key.startsWith('uploads/')) return;
    await new Promise((done) => setTimeout(done, settings.delayMs));
    await held('malware', created.key);
    const versionId = await versionOf(created);
    if (!versionId) {
      settings.log(`GuardDuty emulator: no version of ${created.key} with ETag ${created.eTag}; not scanned`);
      return;
    }
    const object = { Bucket: settings.bucket, Key: created.key, VersionId: versionId };
    const read = await settings.scanner.send(
      new GetObjectCommand({ ...object, Range: `bytes=0-${MAX_SCANNED_BYTES}` }),
    );
    const bytes = await (read.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array()));
    const result =
      bytes.byteLength > MAX_SCANNED_BYTES
        ? 'UNSUPPORTED'
        : emulatedVerdict(bytes, settings.unsupportedMarker);
    const { TagSet = [] } = await settings.scanner.send(new GetObjectTaggingCommand(object));
    const tags = withScanTag(TagSet, result);
    if (tags)
      await settings.scanner.send(new PutObjectTaggingCommand({ ...object, Tagging: { TagSet: tags } }));
    scans.push({ key: created.key, versionId, result, tagged: tags !== undefined });
    await settings.deliver(
      scanResultEvent({
        bucket: settings.bucket,
        key: created.key,
        versionId,
        eTag: read.ETag ?? created.eTag ?? '',
        result,
        region: settings.region,
      }),
    );
  }

  /**
   * The tests' controls, on the bridge's loopback port:
   *   POST /guardduty-emulator/holds    {"key", "check": "malware"|"content"}  hold that verdict of the key
   *   POST /guardduty-emulator/releases {"key", "check"}                      let it go on
   *   GET  /guardduty-emulator/scans?key=K                                     the scans finished for K
   * Answers a request it takes and returns true; anything else is not its own.
   */
  async function control(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(CONTROL_PREFIX)) return false;
    const answer = (status: number, body?: unknown) => {
      response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      response.end(body === undefined ? undefined : JSON.stringify(body));
      return true;
    };
    const action = url.pathname.slice(CONTROL_PREFIX.length);
    if (request.method === 'GET' && action === 'scans') {
      const key = url.searchParams.get('key');
      return answer(200, key === null ? scans : scans.filter((done) => done.key === key));
    }
    if (request.method !== 'POST' || (action !== 'holds' && action !== 'releases')) {
      return answer(404, { message: 'no such control' });
    }
    let parsed: { key?: unknown; check?: unknown };
    try {
      parsed = JSON.parse(await readBody(request)) as typeof parsed;
    } catch {
      return answer(400, { message: 'the body must be JSON: {"key", "check"}' });
    }
    const { key, check } = parsed ?? {};
    if (typeof key !== 'string' || !key.startsWith('uploads/') || !HELD_CHECKS.includes(check as HeldCheck)) {
      return answer(400, { message: 'key must be an object key under uploads/, check malware or content' });
    }
    if (action === 'holds') hold(check as HeldCheck, key);
    else releaseHold(check as HeldCheck, key);
    return answer(204);
  }

  return {
    /** Scans one created object in the background: never throws, logs what failed. */
    scan: (created: CreatedObject): void => {
      scan(created).catch((error: Error) =>
        settings.log(`GuardDuty emulator: scan of ${created.key} failed: ${error.message}`),
      );
    },
    /** Awaited by the bridge before the validator's invocation: a held content check waits here. */
    contentHeld: async (created: CreatedObject[]): Promise<void> => {
      await Promise.all(created.map((object) => held('content', object.key)));
    },
    control,
  };
}
