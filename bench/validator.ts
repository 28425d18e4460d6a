/**
 * Section `validator`: bytes read from S3 and time per object when the
 * validator judges a 1 KiB and a 512 MiB upload on the local stack (real Ceph
 * RGW). The validateUpload function's exported `handler` runs in this process,
 * signing as its role (presign-local-validateUpload), and is handed the S3
 * event the local event bridge would hand it for each object (RGW's push,
 * turned into AWS's shape by scripts/ceph-event-bridge.ts). Its S3 traffic
 * goes through a counting HTTP relay on loopback, so bytes are counted off the
 * wire without reaching into the function.
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Context, S3Event } from 'aws-lambda';
import { ulid } from 'ulid';
import type { StackInfo } from '../scripts/stack-settings.js';
import { lambdaContext } from '../test/support/api-event.js';
import { PNG_1x1, pngOfSize } from '../test/support/sample-files.js';
import { deleteAllVersions } from './multipart.js';
import { rgwCreatedEvent } from './rgw-push.js';
import { assumeLocalRole, functionNamed, localAdmin, localFunctionEnvironment } from './serverless-config.js';
import { type Figure, median, round, type SectionResult } from './stats.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BIG = 512 * MiB;
const PART = 64 * MiB;
const GOAL_TIME_RATIO = 1.5;
/** The goal's bound on what the validator may read of any object: a bounded prefix, whatever the size. */
const GOAL_MAX_BODY_BYTES = 64 * KiB;

/**
 * A loopback HTTP relay to RGW that counts what it sends back: bytes on the
 * wire (headers included) and GET body bytes (tagging reads excluded). The
 * request goes on unchanged (Host too), so SigV4 signatures stay valid.
 */
async function countingRelay(target: string): Promise<{
  url: string;
  wireBytes: () => number;
  getBodyBytes: () => number;
  close: () => Promise<void>;
}> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let closedWire = 0;
  let getBody = 0;
  const server: Server = createServer((request, response) => {
    const query = new URL(request.url ?? '/', 'http://relay').searchParams;
    const isBodyGet = request.method === 'GET' && !query.has('tagging');
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.on('data', (chunk: Buffer) => {
          if (isBodyGet) getBody += chunk.length;
        });
        answer.pipe(response);
      },
    );
    forward.on('error', (error) => response.destroy(error));
    request.pipe(forward);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      closedWire += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wireBytes: () => [...sockets].reduce((sum, socket) => sum + socket.bytesWritten, closedWire),
    getBodyBytes: () => getBody,
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      agent.destroy();
    },
  };
}

const uploadHeaders = (size: number) => ({
  ContentType: 'image/png',
  Metadata: { 'declared-type': 'image/png', 'declared-size': String(size), owner: 'b'.repeat(32) },
  Tagging: 'validation-status=pending',
});

async function putBig(admin: S3Client, bucket: string, key: string): Promise<string> {
  const { UploadId } = await admin.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...uploadHeaders(BIG) }),
  );
  try {
    const zeros = Buffer.alloc(PART);
    const first = Buffer.concat([PNG_1x1, zeros.subarray(PNG_1x1.length)]);
    const parts = [];
    for (let n = 1; n <= BIG / PART; n++) {
      const { ETag } = await admin.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: n,
          Body: n === 1 ? first : zeros,
        }),
      );
      parts.push({ ETag, PartNumber: n });
    }
    const done = await admin.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return (done.ETag ?? '').replace(/"/g, '');
  } catch (error) {
    await admin
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
}

interface TestObject {
  key: string;
  size: number;
  eTag: string;
  eventName: string;
}

/** The event the local bridge hands the validator for `object`: RGW's push body, in AWS's shape. */
const bridgeEvent = (object: TestObject, stack: StackInfo): S3Event =>
  rgwCreatedEvent({
    bucket: stack.bucket,
    key: object.key,
    size: object.size,
    eTag: object.eTag,
    eventName: object.eventName,
    tags: [{ key: 'validation-status', val: 'pending' }],
    region: stack.region,
  });

async function statusTag(admin: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const { TagSet } = await admin.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return TagSet?.find((tag) => tag.Key === 'validation-status')?.Value;
}

/** Waits until the stack's own validator (fired by the object's creation) has tagged it, so it never runs alongside. */
async function stackVerdict(admin: S3Client, bucket: string, key: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await statusTag(admin, bucket, key);
    if (status && status !== 'pending') return status;
    if (Date.now() > deadline) return 'still pending after 60 s';
    await new Promise((done) => setTimeout(done, 250));
  }
}

export interface ValidatorOptions {
  stack: StackInfo;
  iterations?: number;
  quick?: boolean;
}

export async function run({ stack, iterations = 15, quick }: ValidatorOptions): Promise<SectionResult> {
  const adminKeys = localAdmin();
  const session = await assumeLocalRole('validateUpload');
  const relay = await countingRelay(stack.s3Endpoint);
  Object.assign(
    process.env,
    await localFunctionEnvironment('validateUpload', stack, session, {
      S3_ENDPOINT: relay.url,
      // A deployment that accepts large PNGs, so the big object passes like a real accepted upload.
      UPLOAD_RULES: JSON.stringify({ 'image/png': 1024 * MiB }),
    }),
  );
  const { source } = functionNamed('validateUpload');
  const { handler } = (await import(pathToFileURL(source).href)) as {
    handler: (event: S3Event, context: Context) => Promise<unknown>;
  };
  const context = lambdaContext('presign-local-validateUpload');

  const admin = new S3Client({
    endpoint: adminKeys.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: { accessKeyId: adminKeys.accessKeyId, secretAccessKey: adminKeys.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const segment = 'b'.repeat(32);
  const small: TestObject = {
    key: `uploads/${segment}/${ulid()}`,
    size: KiB,
    eTag: '',
    eventName: 'ObjectCreated:Put',
  };
  const big: TestObject = {
    key: `uploads/${segment}/${ulid()}`,
    size: BIG,
    eTag: '',
    eventName: 'ObjectCreated:CompleteMultipartUpload',
  };
  const figures: Record<string, Figure> = {};
  try {
    const put = await admin.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: small.key,
        Body: pngOfSize(KiB),
        ...uploadHeaders(KiB),
      }),
    );
    small.eTag = (put.ETag ?? '').replace(/"/g, '');
    const started = Date.now();
    big.eTag = await putBig(admin, stack.bucket, big.key);
    figures['big object upload s'] = round((Date.now() - started) / 1000, 1);
    const stackVerdicts = {
      small: await stackVerdict(admin, stack.bucket, small.key),
      big: await stackVerdict(admin, stack.bucket, big.key),
    };

    const measure = async (object: TestObject) => {
      await admin.send(
        new PutObjectTaggingCommand({
          Bucket: stack.bucket,
          Key: object.key,
          Tagging: { TagSet: [{ Key: 'validation-status', Value: 'pending' }] },
        }),
      );
      const event = bridgeEvent(object, stack);
      const wire = relay.wireBytes();
      const body = relay.getBodyBytes();
      const start = process.hrtime.bigint();
      await handler(event, context);
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      return {
        micros,
        wire: relay.wireBytes() - wire,
        body: relay.getBodyBytes() - body,
        status: (await statusTag(admin, stack.bucket, object.key)) ?? '(no tag)',
      };
    };
    const results: Record<'small' | 'big', Awaited<ReturnType<typeof measure>>[]> = { small: [], big: [] };
    await measure(small);
    await measure(big);
    const count = quick ? Math.min(iterations, 5) : iterations;
    for (let i = 0; i < count; i++) {
      for (const which of i % 2 ? (['big', 'small'] as const) : (['small', 'big'] as const)) {
        results[which].push(await measure(which === 'small' ? small : big));
      }
    }

    const rows: string[][] = [];
    const ms = (which: 'small' | 'big') => median(results[which].map((r) => r.micros)) / 1000;
    for (const [which, label] of [
      ['small', '1 KiB'],
      ['big', '512 MiB'],
    ] as const) {
      const r = results[which];
      const wire = median(r.map((x) => x.wire));
      const body = median(r.map((x) => x.body));
      const verdicts = [...new Set(r.map((x) => x.status))].join(', ');
      figures[`validator ${label} ms`] = round(ms(which), 2);
      figures[`validator ${label} GET body bytes`] = body;
      figures[`validator ${label} wire bytes read`] = wire;
      figures[`validator ${label} verdict`] = verdicts;
      rows.push([
        `validator ${label}`,
        `${round(ms(which), 2)} ms`,
        `GET body ${body} B, ${wire} B off the wire`,
        verdicts,
      ]);
    }
    const ratio = ms('big') / ms('small');
    const bigBody = figures['validator 512 MiB GET body bytes'] as number;
    const smallBody = figures['validator 1 KiB GET body bytes'] as number;
    const passed =
      results.big.every((r) => r.status === 'passed') && results.small.every((r) => r.status === 'passed');
    const bounded = bigBody <= GOAL_MAX_BODY_BYTES && smallBody <= GOAL_MAX_BODY_BYTES && passed;
    figures['validator time ratio 512 MiB / 1 KiB'] = round(ratio, 3);
    figures['goal validator time ratio ≤ 1.5'] = ratio <= GOAL_TIME_RATIO;
    figures[`goal validator reads at most ${GOAL_MAX_BODY_BYTES} B of either object`] = bounded;
    rows.push([
      `GOAL validator time 512 MiB ≤ ${GOAL_TIME_RATIO}× 1 KiB`,
      ratio <= GOAL_TIME_RATIO ? 'HOLDS' : 'MISSED',
      `${round(ratio, 2)}×`,
    ]);
    rows.push([
      `GOAL validator bytes independent of size (≤ ${GOAL_MAX_BODY_BYTES / KiB} KiB body, both pass)`,
      bounded ? 'HOLDS' : 'MISSED',
      `1 KiB: ${smallBody} B, 512 MiB: ${bigBody} B`,
    ]);
    return {
      section: 'validator',
      figures,
      rows,
      notes: [
        `The \`handler\` of ${source.slice(source.indexOf('handlers/'))} in process, as presign-local-validateUpload (STS AssumeRole on RGW), given the S3 event the local bridge delivers for each object (RGW push → scripts/ceph-event-bridge.ts toAwsS3Event); ${count} interleaved runs per object after one warm-up, median; tags reset to pending (admin, untimed) before each run, verdict read from the tags after it.`,
        'Bytes: "GET body" is what RGW sent for object GETs (tagging reads excluded); "off the wire" is every byte sent back to the function\'s S3 client (HEAD, tagging GET, ranged GET, tagging PUT: headers included). Both are counted by a loopback HTTP relay in front of RGW that the function\'s S3_ENDPOINT points at (one extra loopback hop per call, in both cases alike).',
        `Objects: PNG header + zeros, Content-Type image/png, metadata declared-type/declared-size, tagged pending; 1 KiB by PutObject, 512 MiB by multipart (${BIG / PART} × ${PART / MiB} MiB, took ${figures['big object upload s']} s), deleted afterwards. UPLOAD_RULES allows image/png up to 1 GiB in this process. The stack's own validator judged each object once on creation before timing began (1 KiB: ${stackVerdicts.small}, 512 MiB: ${stackVerdicts.big}, under the stack's rules).`,
      ],
    };
  } finally {
    for (const { key } of [big, small]) {
      // Every version: the bucket is versioned, and a plain delete would only hide 512 MiB behind a marker.
      await deleteAllVersions(admin, stack.bucket, key).catch(() => undefined);
    }
    await relay.close();
  }
}
