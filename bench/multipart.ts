/**
 * Section `multipart`: 1 GiB (256 MiB with --quick) uploaded by
 * `@presign/client` through the API's multipart routes (POST
 * /uploads/multipart, part URLs signed in batches, parts PUT straight to S3 in
 * parallel, POST …/complete), against the
 * same bytes uploaded by `@aws-sdk/lib-storage`'s `Upload` straight to the same
 * S3 endpoint, with the same part size and parallelism, in alternating order, in the
 * same run. Everything it creates is deleted afterwards (every version), and
 * the local RGW's garbage collector is run so the space comes back at once.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  createClient,
  memoryResumeStore,
  type StorageResponse,
  type StorageTransport,
} from '@presign/client';
import { ulid } from 'ulid';
import { devToken } from '../scripts/dev-keys.js';
import { adminS3Client } from '../scripts/provision.js';
import { ADMIN_FILE, type StackInfo } from '../scripts/stack-settings.js';
import { waitForApi } from './load.js';
import { localAdmin } from './serverless-config.js';
import { type Figure, median, round, type SectionResult } from './stats.js';

const MiB = 1024 * 1024;
const GOAL_RATIO = 0.9;
/** A part PUT with no socket activity this long fails the run instead of hanging it. */
const PUT_IDLE_TIMEOUT_MS = 120_000;
/** Where the baseline's objects go: outside uploads/, so the stack's validator never sees them. */
const BASELINE_PREFIX = 'bench/multipart/';

/** What bench/run.ts hands the section: the running stack, and sizes a caller may change. */
export interface MultipartOptions {
  stack: StackInfo;
  quick?: boolean;
  /** Bytes uploaded per run, in MiB (default 1024, 256 with --quick). */
  sizeMiB?: number;
  partSizeMiB?: number;
  /** Parts in flight at once, on both sides. */
  parallelism?: number;
  /** Timed runs of each side, alternating which goes first (default 5, 2 with --quick). */
  rounds?: number;
}

/**
 * `size` deterministic, incompressible bytes (AES-128-CTR keystream of a fixed
 * key) in one buffer that both sides read views of, starting with an MP4
 * `ftyp` box (brand isom) so the stack's validator passes what the API uploads.
 */
export function benchBytes(size: number): Buffer<ArrayBuffer> {
  const data = Buffer.allocUnsafe(size);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 0x6d), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(Math.min(size, 16 * MiB));
  for (let offset = 0; offset < size; offset += zeros.length) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - offset)));
    chunk.copy(data, offset);
  }
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(32, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isomiso2avc1mp41', 16, 'latin1');
  ftyp.copy(data, 0);
  return data;
}

interface Timed {
  ms: number;
}

/** What one upload through the API spent where, client side. */
interface ApiRun extends Timed {
  fileId: string;
  key: string;
  createMs: number;
  signMs: number[];
  putMs: number[];
  /** From the first part PUT sent to the last one answered. */
  putPhaseMs: number;
  completeMs: number;
}

/** What one lib-storage upload spent per S3 command (a middleware on its client records them). */
interface BaselineRun extends Timed {
  key: string;
  createMs: number;
  putMs: number[];
  completeMs: number;
}

class RouteError extends Error {
  override name = 'RouteError';
}

/**
 * PUTs `body` to a presigned part URL with the headers it was signed with and
 * exactly its length, and resolves with S3's answer. Plain node:http on a
 * keep-alive agent: Node 20's fetch took 5 to 10 times its CPU per byte sent,
 * CPU the local RGW needs on 2 cores.
 */
function putPart(
  target: string,
  signedHeaders: Record<string, string>,
  body: Buffer,
  agent: Agent,
): Promise<StorageResponse> {
  const signed = Object.entries(signedHeaders);
  const signedLength = signed.find(([name]) => name.toLowerCase() === 'content-length');
  if (signedLength && Number(signedLength[1]) !== body.length)
    throw new RouteError(`signed Content-Length ${signedLength[1]}, part is ${body.length} B`);
  const headers = {
    ...Object.fromEntries(
      signed.filter(([name]) => !['host', 'content-length'].includes(name.toLowerCase())),
    ),
    'content-length': String(body.length),
  };
  return new Promise((done, fail) => {
    const request = httpRequest(new URL(target), { method: 'PUT', headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () =>
        done({
          status: response.statusCode ?? 0,
          etag: response.headers.etag ?? null,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', fail);
    request.setTimeout(PUT_IDLE_TIMEOUT_MS, () =>
      request.destroy(new RouteError(`part PUT: no progress for ${PUT_IDLE_TIMEOUT_MS / 1000} s`)),
    );
    request.end(body);
  });
}

/**
 * The client's way to S3 for the bench: {@link putPart} (node:http), timing
 * each part PUT and the span from the first sent to the last answered. The
 * client hands it a slice of the Blob it uploads; it sends the same bytes as a
 * view of `data`, the buffer that Blob was made of (at the part's offset),
 * instead of copying the slice out of the Blob: lib-storage, the baseline, is
 * given that buffer too.
 */
function timedPartTransport(agent: Agent, data: Buffer<ArrayBuffer>, partSize: number) {
  const timings = { putMs: [] as number[], first: Number.POSITIVE_INFINITY, last: 0 };
  const transport: StorageTransport = async (request) => {
    const url = new URL(request.url);
    const partNumber = Number(url.searchParams.get('partNumber'));
    if (request.method !== 'PUT' || !(request.body instanceof Blob) || !(partNumber >= 1))
      throw new RouteError('the bench uploads in parts only');
    const start = (partNumber - 1) * partSize;
    const body = data.subarray(start, start + request.body.size);
    const started = performance.now();
    timings.first = Math.min(timings.first, started);
    const answer = await putPart(request.url, request.headers ?? {}, body, agent);
    const ended = performance.now();
    timings.last = Math.max(timings.last, ended);
    timings.putMs.push(ended - started);
    request.onProgress?.(body.length, body.length);
    return answer;
  };
  return { transport, timings };
}

interface ApiUploadOptions {
  apiUrl: string;
  /** What the client uploads. */
  data: Blob;
  /** The buffer `data` was made of, or its start: what the part PUTs send views of. */
  bytes: Buffer<ArrayBuffer>;
  partSize: number;
  parallelism: number;
  /** The keep-alive agent part PUTs go through. */
  agent: Agent;
  /** Called once the upload exists, so a failed run can abort it. */
  onCreated: (fileId: string, authorization: string) => void;
}

/**
 * Uploads `data` with `@presign/client` (the one upload engine: part URLs
 * signed in batches ahead of need, `parallelism` parts in flight), its API
 * calls timed by the fetch it is given and its part PUTs sent by
 * {@link timedPartTransport}. No retries: a failure fails the run.
 */
async function uploadThroughApi({
  apiUrl,
  data,
  bytes,
  partSize,
  parallelism,
  agent,
  onCreated,
}: ApiUploadOptions): Promise<ApiRun> {
  const token = await devToken(`bench|multipart|${ulid()}`, 3600);
  const authorization = `Bearer ${token}`;
  const calls = { createMs: 0, signMs: [] as number[], completeMs: 0 };
  let created: { fileId: string; key: string; partSize: number; partCount: number } | undefined;
  let completedStatus: unknown;
  const timedFetch: typeof fetch = async (input, init) => {
    const started = performance.now();
    const response = await fetch(input, init);
    const answer = response.ok ? await response.clone().json() : undefined;
    const ms = performance.now() - started;
    const path = new URL(String(input)).pathname;
    if (path === '/uploads/multipart') {
      calls.createMs = ms;
      if (answer) {
        created = answer;
        onCreated(answer.fileId, authorization);
      }
    } else if (path.endsWith('/parts')) calls.signMs.push(ms);
    else if (path.endsWith('/complete')) {
      calls.completeMs = ms;
      completedStatus = answer?.status;
    }
    return response;
  };
  const { transport, timings } = timedPartTransport(agent, bytes, partSize);
  const client = createClient({
    apiUrl,
    getToken: () => token,
    fetch: timedFetch,
    transport,
    multipartThreshold: 0,
    partSize,
    concurrency: parallelism,
    retry: { retries: 0 },
    resumeStore: memoryResumeStore(),
  });
  const started = performance.now();
  const fileId = await client.upload({ data, name: 'bench.mp4', type: 'video/mp4' });
  const ms = performance.now() - started;
  if (!created || created.partSize !== partSize || created.partCount !== Math.ceil(data.size / partSize))
    throw new RouteError(
      `POST /uploads/multipart chose partSize ${created?.partSize} × ${created?.partCount} for ${partSize} asked`,
    );
  if (completedStatus !== 'pending')
    throw new RouteError(`POST …/complete answered status ${JSON.stringify(completedStatus)}, not pending`);
  return {
    ms,
    fileId,
    key: created.key,
    createMs: calls.createMs,
    signMs: calls.signMs,
    putMs: timings.putMs,
    putPhaseMs: timings.last - timings.first,
    completeMs: calls.completeMs,
  };
}

/** Records how long each S3 command of `client` takes, by command name, into `into` while it is set. */
function commandTimer(client: S3Client) {
  const timings: { into: Map<string, number[]> | undefined } = { into: undefined };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      const result = await next(args);
      const list = timings.into?.get(context.commandName ?? '?') ?? [];
      list.push(performance.now() - started);
      timings.into?.set(context.commandName ?? '?', list);
      return result;
    },
    { step: 'initialize', name: 'benchCommandTimer' },
  );
  return timings;
}

async function uploadWithLibStorage(
  client: S3Client,
  timer: ReturnType<typeof commandTimer>,
  bucket: string,
  data: Buffer<ArrayBuffer>,
  partSize: number,
  parallelism: number,
  onKey: (key: string) => void,
): Promise<BaselineRun> {
  const key = `${BASELINE_PREFIX}${ulid()}`;
  onKey(key);
  const commands = new Map<string, number[]>();
  timer.into = commands;
  const started = performance.now();
  try {
    await new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: data, ContentType: 'video/mp4' },
      partSize,
      queueSize: parallelism,
      leavePartsOnError: false,
    }).done();
  } finally {
    timer.into = undefined;
  }
  const ms = performance.now() - started;
  const putMs = commands.get('UploadPartCommand') ?? [];
  if (putMs.length !== Math.ceil(data.length / partSize))
    throw new Error(`lib-storage sent ${putMs.length} parts, expected ${Math.ceil(data.length / partSize)}`);
  return {
    ms,
    key,
    createMs: commands.get('CreateMultipartUploadCommand')?.[0] ?? Number.NaN,
    putMs,
    completeMs: commands.get('CompleteMultipartUploadCommand')?.[0] ?? Number.NaN,
  };
}

/** Waits (up to 60 s) until the stack's validator has judged `key`, so deleting it never races the validator. */
async function verdictOf(admin: S3Client, bucket: string, key: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { TagSet } = await admin
      .send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))
      .catch(() => ({ TagSet: undefined }));
    const status = TagSet?.find((tag) => tag.Key === 'validation-status')?.Value;
    if (status && status !== 'pending') return status;
    if (Date.now() > deadline) return status ? `still ${status} after 60 s` : 'no verdict after 60 s';
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** Deletes every version and delete marker of exactly `key`. */
export async function deleteAllVersions(admin: S3Client, bucket: string, key: string): Promise<void> {
  for (;;) {
    const listed = await admin.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]
      .filter((entry) => entry.Key === key)
      .map((entry) => ({ Key: key, VersionId: entry.VersionId }));
    if (objects.length === 0) return;
    const { Errors } = await admin.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    if (Errors?.length) throw new Error(`could not delete ${key}: ${Errors[0]?.Code} ${Errors[0]?.Message}`);
  }
}

/** Aborts every open multipart upload under `prefix` (what a failed run left). */
async function abortOpenUploads(admin: S3Client, bucket: string, prefix: string): Promise<number> {
  const { Uploads } = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const { Key, UploadId } of Uploads ?? [])
    await admin
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }))
      .catch(() => undefined);
  return Uploads?.length ?? 0;
}

/**
 * Runs the local RGW's garbage collector now: deleted objects' data would
 * otherwise stay in the in-memory OSD for the collector's minimum wait (two
 * hours), and a few 1 GiB runs would fill it. Returns why not, when it could not.
 */
function collectGarbage(): string | undefined {
  const conf = join(dirname(ADMIN_FILE), 'ceph.conf');
  if (!existsSync(conf)) return `no ${conf}`;
  const result = spawnSync(
    'radosgw-admin',
    ['--cluster', 'ceph', '-c', conf, '-n', 'client.admin', 'gc', 'process', '--include-all'],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CEPH_CONF: conf } },
  );
  return result.status === 0
    ? undefined
    : `radosgw-admin gc process: ${result.error?.message ?? result.stderr}`;
}

const mibPerSecond = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);

/**
 * Uploads the same bytes `rounds` times each way (through the API, then by
 * lib-storage, the order alternating per round) after one small untimed
 * upload each, deletes everything after every upload, and returns median
 * throughputs, their ratio and the goal's verdict. Throws when a route answers
 * other than its contract says (the message names the call and the answer).
 */
export async function run({
  stack,
  quick,
  sizeMiB = quick ? 256 : 1024,
  partSizeMiB = 16,
  parallelism = 8,
  rounds = quick ? 2 : 5,
}: MultipartOptions): Promise<SectionResult> {
  const { apiUrl, bucket } = stack;
  await waitForApi(apiUrl);
  const size = sizeMiB * MiB;
  const partSize = partSizeMiB * MiB;
  const adminKeys = localAdmin();
  // The bucket owner's client as the local stack builds it (SDK defaults): cleanup and the reference run.
  const admin = adminS3Client({ ...adminKeys, region: stack.region });
  // The baseline: the same keys, no checksum computed unless S3 requires one (the part URLs carry none).
  const baseline = new S3Client({
    // The stack's S3 endpoint, which the API's part URLs name too (locally the front door before RGW).
    endpoint: stack.s3Endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: { accessKeyId: adminKeys.accessKeyId, secretAccessKey: adminKeys.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const timer = commandTimer(baseline);
  const partAgent = new Agent({ keepAlive: true });

  const generated = performance.now();
  const data = benchBytes(size);
  // The client's side reads the same bytes as a Blob (one copy, made once, before any timing).
  const blob = new Blob([data]);
  const generateMs = performance.now() - generated;

  const apiKeys: string[] = [];
  const baselineKeys: string[] = [];
  const openFiles = new Map<string, string>();
  const verdicts = new Map<string, number>();
  const gcProblems = new Set<string>();
  const cleanUp = async () => {
    for (const key of apiKeys.splice(0)) {
      const verdict = await verdictOf(admin, bucket, key);
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      await deleteAllVersions(admin, bucket, key);
    }
    for (const key of baselineKeys.splice(0)) await deleteAllVersions(admin, bucket, key);
    const problem = collectGarbage();
    if (problem) gcProblems.add(problem);
  };
  const runApi = async (blobOfData: Blob) => {
    let fileId: string | undefined;
    try {
      const result = await uploadThroughApi({
        apiUrl,
        data: blobOfData,
        bytes: data,
        partSize,
        parallelism,
        agent: partAgent,
        onCreated: (id, authorization) => {
          fileId = id;
          openFiles.set(id, authorization);
        },
      });
      openFiles.delete(result.fileId);
      apiKeys.push(result.key);
      return result;
    } catch (error) {
      if (fileId) {
        const authorization = openFiles.get(fileId) as string;
        openFiles.delete(fileId);
        await fetch(`${apiUrl}/uploads/${fileId}`, { method: 'DELETE', headers: { authorization } }).catch(
          () => undefined,
        );
      }
      throw error;
    }
  };
  const runBaseline = (bytes: Buffer<ArrayBuffer>) =>
    uploadWithLibStorage(baseline, timer, bucket, bytes, partSize, parallelism, (key) =>
      baselineKeys.push(key),
    );

  const api: ApiRun[] = [];
  const lib: BaselineRun[] = [];
  let defaultChecksums: BaselineRun | undefined;
  try {
    // Warm-up, untimed: serverless offline loads each route's function once, both sides open connections.
    const warm = data.subarray(0, Math.min(size, 2 * partSize));
    await runApi(blob.slice(0, warm.length));
    await runBaseline(warm);
    await cleanUp();
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? ['api', 'lib'] : ['lib', 'api']) {
        if (side === 'api') api.push(await runApi(blob));
        else lib.push(await runBaseline(data));
        await cleanUp();
      }
    }
    if (!quick) {
      // Reference, once: lib-storage as a client built with the SDK's defaults sends it (a CRC32 per part).
      const key = `${BASELINE_PREFIX}${ulid()}`;
      baselineKeys.push(key);
      const started = performance.now();
      await new Upload({
        client: admin,
        params: { Bucket: bucket, Key: key, Body: data, ContentType: 'video/mp4' },
        partSize,
        queueSize: parallelism,
        leavePartsOnError: false,
      }).done();
      defaultChecksums = { ms: performance.now() - started, key, createMs: 0, putMs: [], completeMs: 0 };
      await cleanUp();
    }
  } finally {
    for (const [fileId, authorization] of openFiles)
      await fetch(`${apiUrl}/uploads/${fileId}`, { method: 'DELETE', headers: { authorization } }).catch(
        () => undefined,
      );
    await cleanUp().catch(() => undefined);
    await abortOpenUploads(admin, bucket, BASELINE_PREFIX).catch(() => undefined);
    partAgent.destroy();
  }

  const throughput = (runs: Timed[], bytes = size) => runs.map((r) => mibPerSecond(bytes, r.ms));
  const oursMiBs = median(throughput(api));
  const libMiBs = median(throughput(lib));
  const ratio = oursMiBs / libMiBs;
  const holds = ratio >= GOAL_RATIO;
  const list = (values: number[]) => values.map((v) => round(v, 0)).join(', ');
  const ms = (value: number) => `${round(value, 1)} ms`;
  const allSign = api.flatMap((r) => r.signMs);
  const figures: Record<string, Figure> = {
    'multipart bytes': size,
    'multipart part size MiB': partSizeMiB,
    'multipart parts': Math.ceil(size / partSize),
    'multipart parallelism': parallelism,
    'multipart rounds': rounds,
    'multipart ours MiB/s': round(oursMiBs, 1),
    'multipart lib-storage MiB/s': round(libMiBs, 1),
    'multipart ratio ours / lib-storage': round(ratio, 3),
    'multipart ours runs MiB/s': list(throughput(api)),
    'multipart lib-storage runs MiB/s': list(throughput(lib)),
    'multipart ratio per round': api
      .map((r, i) => round(r.ms === 0 ? 0 : (lib[i]?.ms ?? 0) / r.ms, 2))
      .join(', '),
    'multipart ours create ms': round(median(api.map((r) => r.createMs)), 1),
    'multipart ours sign call ms': round(median(allSign), 1),
    'multipart ours sign calls per upload': api[0]?.signMs.length ?? 0,
    'multipart ours part PUT p50 ms': round(median(api.flatMap((r) => r.putMs)), 1),
    'multipart ours PUT phase MiB/s': round(median(api.map((r) => mibPerSecond(size, r.putPhaseMs))), 1),
    'multipart ours complete ms': round(median(api.map((r) => r.completeMs)), 1),
    'multipart lib-storage create ms': round(median(lib.map((r) => r.createMs)), 1),
    'multipart lib-storage part PUT p50 ms': round(median(lib.flatMap((r) => r.putMs)), 1),
    'multipart lib-storage complete ms': round(median(lib.map((r) => r.completeMs)), 1),
    'multipart data generation ms': round(generateMs, 0),
    [`goal multipart ours ≥ ${GOAL_RATIO}× lib-storage`]: holds,
  };
  if (defaultChecksums)
    figures['multipart lib-storage SDK default checksums MiB/s'] = round(
      mibPerSecond(size, defaultChecksums.ms),
      1,
    );
  const label = `${sizeMiB >= 1024 ? `${sizeMiB / 1024} GiB` : `${sizeMiB} MiB`}, ${Math.ceil(size / partSize)} × ${partSizeMiB} MiB @${parallelism}`;
  const rows: string[][] = [
    [
      `multipart through the API (${label})`,
      `${round(oursMiBs, 1)} MiB/s`,
      `${round(ratio, 2)}× lib-storage`,
      `runs ${list(throughput(api))} MiB/s`,
    ],
    [
      `lib-storage Upload to RGW (${label})`,
      `${round(libMiBs, 1)} MiB/s`,
      'baseline',
      `runs ${list(throughput(lib))} MiB/s`,
    ],
    [
      'multipart through the API: where time goes',
      `create ${ms(figures['multipart ours create ms'] as number)}, sign ${ms(figures['multipart ours sign call ms'] as number)} ×${figures['multipart ours sign calls per upload']}, complete ${ms(figures['multipart ours complete ms'] as number)}`,
      `part PUT p50 ${ms(figures['multipart ours part PUT p50 ms'] as number)}`,
      '',
    ],
    [
      'lib-storage: where time goes',
      `create ${ms(figures['multipart lib-storage create ms'] as number)}, complete ${ms(figures['multipart lib-storage complete ms'] as number)}`,
      `part PUT p50 ${ms(figures['multipart lib-storage part PUT p50 ms'] as number)}`,
      '',
    ],
  ];
  if (defaultChecksums)
    rows.push([
      'reference: lib-storage with the SDK default checksums (CRC32 per part), once',
      `${figures['multipart lib-storage SDK default checksums MiB/s']} MiB/s`,
      '',
      '',
    ]);
  rows.push([
    `GOAL multipart through the API ≥ ${GOAL_RATIO}× lib-storage`,
    holds ? 'HOLDS' : 'MISSED',
    `${round(ratio, 2)}×`,
    `median ${round(oursMiBs, 1)} vs ${round(libMiBs, 1)} MiB/s; per round ${figures['multipart ratio per round']}×`,
  ]);
  return {
    section: 'multipart',
    figures,
    rows,
    notes: [
      `${label}: the same ${sizeMiB} MiB (AES-CTR keystream of a fixed key behind an MP4 ftyp box, generated once in ${round(generateMs, 0)} ms, one buffer both sides send views of) uploaded ${rounds} times by each side, alternating which goes first, median throughput (bytes / time from the first request to the completed upload). One untimed upload of ${Math.min(sizeMiB, 2 * partSizeMiB)} MiB per side first.`,
      `Through the API (${apiUrl}, serverless offline) with @presign/client, the one upload engine (createClient with partSize ${partSizeMiB} MiB, concurrency ${parallelism}, no retries, every file multipart): POST /uploads/multipart, part URLs from POST /uploads/{fileId}/parts in the client's batches (twice the concurrency per call, signed when a part needs one), ${parallelism} parts in flight, each a PUT with node:http (keep-alive agent, the client's transport option) of exactly the part's bytes (a view of the buffer the client's Blob was made of, at the part's offset) and the headers it was signed with (no md5), to the URL as signed (${stack.s3Endpoint}, the stack's S3 endpoint); then POST …/complete. API calls timed by the fetch the client is given. Each upload under a new development token's owner.`,
      `Baseline: \`new Upload({ client, params: { Body: <the same buffer> }, partSize: ${partSizeMiB} MiB, queueSize: ${parallelism} })\` from @aws-sdk/lib-storage to ${stack.s3Endpoint} (the same S3 endpoint) with the local RGW's admin keys, key under ${BASELINE_PREFIX} (the validator ignores it), \`requestChecksumCalculation: 'WHEN_REQUIRED'\` (no CRC32 per part, as the part URLs carry none; SigV4 over plain HTTP still hashes each part's payload). Command timings come from a middleware on its client.`,
      `Afterwards every version of every key is deleted (the API's after its verdict: ${[...verdicts].map(([v, n]) => `${v} ×${n}`).join(', ') || 'none'}), open uploads aborted, and RGW's garbage collector run (radosgw-admin gc process --include-all) so the in-memory OSD gets the space back${gcProblems.size ? `; it could not: ${[...gcProblems].join('; ')}` : ''}.`,
    ],
  };
}
