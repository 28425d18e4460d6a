/**
 * Section `validator`: bytes read from S3 and time per object when the
 * validator judges a 1 KiB and a 512 MiB upload on the local stack (real Ceph
 * RGW), signing as the validateUpload role.
 */

import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ulid } from 'ulid';
import { PNG_1x1, pngOfSize } from '../test/support/sample-files.js';
import { type Figure, median, round, type SectionResult } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const KiB = 1024;
const MiB = 1024 * KiB;
const BIG = 512 * MiB;
const PART = 64 * MiB;
const GOAL_TIME_RATIO = 1.5;

interface Stack {
  s3Endpoint: string;
  bucket: string;
  region: string;
}
interface Admin {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** An http.Agent that remembers its sockets, so bytes read off the wire can be summed. */
class CountingAgent extends Agent {
  readonly sockets_: Socket[] = [];
  override createConnection(...args: Parameters<Agent['createConnection']>) {
    const socket = super.createConnection(...args) as Socket;
    this.sockets_.push(socket);
    return socket;
  }
  bytesRead(): number {
    return this.sockets_.reduce((sum, socket) => sum + socket.bytesRead, 0);
  }
}

async function roleCredentials(stack: Stack, admin: Admin) {
  const keys = { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey };
  const iam = new IAMClient({ endpoint: admin.endpoint, region: stack.region, credentials: keys });
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'presign-local-validateUpload' }));
  if (!Role?.Arn) throw new Error('role presign-local-validateUpload not found');
  const sts = new STSClient({ endpoint: admin.endpoint, region: stack.region, credentials: keys });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: Role.Arn, RoleSessionName: 'bench-validator', DurationSeconds: 3600 }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('AssumeRole returned no credentials');
  return c;
}

const uploadHeaders = (size: number) => ({
  ContentType: 'image/png',
  Metadata: { 'declared-type': 'image/png', 'declared-size': String(size), owner: '0'.repeat(32) },
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

export interface ValidatorOptions {
  iterations?: number;
  quick?: boolean;
}

export async function run({ iterations = 15, quick }: ValidatorOptions): Promise<SectionResult> {
  const stack = JSON.parse(readFileSync(resolve(ROOT, '.local/stack.json'), 'utf8')) as Stack;
  const adminKeys = JSON.parse(readFileSync(resolve(ROOT, '.local/ceph/admin.json'), 'utf8')) as Admin;
  const role = await roleCredentials(stack, adminKeys);

  // The validator's configuration, set before any lib module is imported.
  Object.assign(process.env, {
    AWS_REGION: stack.region,
    AWS_ACCESS_KEY_ID: role.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: role.SecretAccessKey,
    AWS_SESSION_TOKEN: role.SessionToken,
    S3_ENDPOINT: stack.s3Endpoint,
    UPLOADS_BUCKET: stack.bucket,
    AUTH_ISSUER: 'presign-bench',
    AUTH_AUDIENCE: 'presign-api',
    AUTH_JWKS: JSON.stringify({ keys: [{ kty: 'EC' }] }),
    // A deployment that accepts large PNGs, so the big object passes like a real accepted upload.
    UPLOAD_RULES: JSON.stringify({ 'image/png': 1024 * MiB }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { s3 } = await import('../lib/store/s3-client.js');
  const { validateRecord } = await import('../lib/validation/validator.js');
  const { SNIFF_BYTES } = await import('../lib/validation/sniff-type.js');

  const agent = new CountingAgent({ keepAlive: true, maxSockets: 50 });
  const handler = new NodeHttpHandler({ httpAgent: agent });
  let bodyBytesAnnounced = 0;
  const handle = handler.handle.bind(handler);
  handler.handle = async (request, options) => {
    const response = await handle(request, options);
    if (request.method === 'GET' && !('tagging' in (request.query ?? {}))) {
      bodyBytesAnnounced += Number(response.response.headers['content-length'] ?? 0);
    }
    return response;
  };
  (s3.config as { requestHandler: unknown }).requestHandler = handler;

  const admin = new S3Client({
    endpoint: adminKeys.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: { accessKeyId: adminKeys.accessKeyId, secretAccessKey: adminKeys.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const segment = 'b'.repeat(32);
  const small = { key: `uploads/${segment}/${ulid()}`, size: KiB, eTag: '' };
  const big = { key: `uploads/${segment}/${ulid()}`, size: BIG, eTag: '' };
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

    const measure = async (object: typeof small) => {
      await admin.send(
        new PutObjectTaggingCommand({
          Bucket: stack.bucket,
          Key: object.key,
          Tagging: { TagSet: [{ Key: 'validation-status', Value: 'pending' }] },
        }),
      );
      const wire = agent.bytesRead();
      const body = bodyBytesAnnounced;
      const start = process.hrtime.bigint();
      const outcome = await validateRecord({
        eventName: 'ObjectCreated:Post',
        bucket: stack.bucket,
        key: object.key,
        size: object.size,
        eTag: object.eTag,
      });
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      return {
        micros,
        wire: agent.bytesRead() - wire,
        body: bodyBytesAnnounced - body,
        status: outcome.status,
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
      figures[`validator ${label} ms`] = round(ms(which), 2);
      figures[`validator ${label} GET body bytes`] = body;
      figures[`validator ${label} wire bytes read`] = wire;
      figures[`validator ${label} verdict`] = r[0]?.status ?? '';
      rows.push([
        `validator ${label}`,
        `${round(ms(which), 2)} ms`,
        `GET body ${body} B, ${wire} B off the wire`,
        `${r[0]?.status}`,
      ]);
    }
    const ratio = ms('big') / ms('small');
    const bigBody = figures['validator 512 MiB GET body bytes'] as number;
    const bounded =
      bigBody <= SNIFF_BYTES && (figures['validator 1 KiB GET body bytes'] as number) <= SNIFF_BYTES;
    figures['validator time ratio 512 MiB / 1 KiB'] = round(ratio, 3);
    figures['goal validator time ratio ≤ 1.5'] = ratio <= GOAL_TIME_RATIO;
    figures['goal validator reads at most SNIFF_BYTES of either object'] = bounded;
    rows.push([
      'GOAL validator time 512 MiB ≤ 1.5× 1 KiB',
      ratio <= GOAL_TIME_RATIO ? 'HOLDS' : 'MISSED',
      `${round(ratio, 2)}×`,
    ]);
    rows.push([
      `GOAL validator bytes independent of size (≤ ${SNIFF_BYTES} B body)`,
      bounded ? 'HOLDS' : 'MISSED',
      `1 KiB: ${figures['validator 1 KiB GET body bytes']} B (the whole object), 512 MiB: ${bigBody} B`,
    ]);
    return {
      section: 'validator',
      figures,
      rows,
      notes: [
        `validateRecord (lib/validate-upload.ts) in process as the validateUpload role (STS AssumeRole against RGW), ${count} interleaved runs per object after one warm-up, median; tags reset to pending (admin, untimed) before each run.`,
        'Bytes: "GET body" is the Content-Length of the ranged GET answers; "off the wire" sums socket.bytesRead of the S3 client (HEAD, tagging GET, ranged GET, tagging PUT: headers included).',
        `Objects: PNG header + zeros, Content-Type image/png, metadata declared-type/declared-size, tagged pending; 1 KiB by PutObject, 512 MiB by multipart (${BIG / PART} × ${PART / MiB} MiB, took ${figures['big object upload s']} s), deleted afterwards. UPLOAD_RULES allows image/png up to 1 GiB in this process.`,
      ],
    };
  } finally {
    for (const { key } of [big, small]) {
      await admin.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key })).catch(() => undefined);
    }
    agent.destroy();
  }
}
