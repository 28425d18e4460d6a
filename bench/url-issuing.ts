/**
 * Section `upload` / `download`: the per-request cost of issuing URLs in
 * process, through the handlers' whole middleware chain (JWT included),
 * against the AWS samples' way and the bare signature computation.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  type Figure,
  median,
  percentile,
  round,
  type SectionResult,
  type TimedCase,
  timeInterleaved,
} from './stats.js';

// Configuration the lib modules read at import: a Lambda in AWS (virtual-hosted
// S3, role credentials with a session token that expire in an hour).
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'ASIABENCHEXAMPLEKEY1';
process.env.AWS_SECRET_ACCESS_KEY = 'benchSecretAccessKey/0123456789abcdefghijkl';
process.env.AWS_SESSION_TOKEN = `IQoJb3JpZ2luX2VjE${'x'.repeat(600)}`;
process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() + 3600_000).toISOString();
process.env.UPLOADS_BUCKET = 'presign-bench-uploads';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
delete process.env.S3_ENDPOINT;
delete process.env.AUTH_JWKS_URL;

const tokens = await import('../test/support/tokens.js');
process.env.AUTH_ISSUER = tokens.TEST_ISSUER;
process.env.AUTH_AUDIENCE = tokens.TEST_AUDIENCE;
process.env.AUTH_JWKS = JSON.stringify(tokens.testJwks);

const { apiEvent, lambdaContext } = await import('../test/support/api-event.js');
const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
const { getSignedUrl, S3RequestPresigner } = await import('@aws-sdk/s3-request-presigner');
const { s3, bucket } = await import('../lib/store/s3-client.js');
const { encodeMetaValue } = await import('../lib/store/file-metadata.js');
const { newFileId, objectKey } = await import('../lib/store/object-key.js');
const { ownerFromSubject } = await import('../lib/core/owner.js');
const { verifyBearer } = await import('../lib/http/owner-route.js');
const { issueUpload } = await import('../lib/uploads/upload-issuer.js');
const { presignDownload } = await import('../lib/downloads/presign-download.js');
const createUpload = (await import('../handlers/create-upload.js')).handler;
const createDownloadUrl = (await import('../handlers/create-download-url.js')).handler;
const health = (await import('../handlers/health.js')).handler;

const SUB = 'auth0|bench-user';
const owner = ownerFromSubject(SUB);
const authorization = `Bearer ${await tokens.signTestToken(SUB, { expiresIn: '1h' })}`;
const uploadBody = { filename: 'holiday photo.png', contentType: 'image/png', size: 48213 };
const fileId = newFileId();
const key = objectKey(owner, fileId);
const disposition = `attachment; filename="holiday photo.png"; filename*=UTF-8''holiday%20photo.png`;

// The download-url handler reads the object's HEAD and tags: answer them in
// process, as S3 would for a validated file, so only signing is measured.
const realSend = s3.send.bind(s3);
const passedObject = {
  HeadObjectCommand: {
    ContentType: 'image/png',
    ContentLength: 48213,
    ETag: '"5d41402abc4b2a76b9719d911017c592"',
    LastModified: new Date('2026-11-23T10:00:00Z'),
    Metadata: {
      filename: encodeMetaValue('holiday photo.png'),
      'declared-type': 'image/png',
      'declared-size': '48213',
      owner: owner.segment,
    },
    $metadata: { httpStatusCode: 200 },
  },
  GetObjectTaggingCommand: {
    TagSet: [
      { Key: 'validation-status', Value: 'passed' },
      { Key: 'validated-etag', Value: '5d41402abc4b2a76b9719d911017c592' },
      { Key: 'detected-type', Value: 'image/png' },
    ],
    $metadata: { httpStatusCode: 200 },
  },
} as Record<string, unknown>;
(s3 as unknown as { send: (command: object) => Promise<unknown> }).send = async (command) => {
  const answer = passedObject[command.constructor.name];
  if (answer === undefined) throw new Error(`bench: unexpected S3 call ${command.constructor.name}`);
  return structuredClone(answer);
};
void realSend;

/**
 * Tokens never seen before, one per operation: the verified-token cache in
 * lib/auth.ts cannot help these, so they show the full ES256 verification.
 */
const freshTokens: string[] = [];
async function mintFreshTokens(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    freshTokens.push(
      `Bearer ${await tokens.signTestToken(SUB, { expiresIn: '1h', claims: { jti: `bench-${i}` } })}`,
    );
  }
}
const freshAuthorization = (): string => {
  const next = freshTokens.pop();
  if (!next) throw new Error('ran out of first-seen tokens');
  return next;
};

const uploadEvent = (auth = authorization) =>
  apiEvent({
    method: 'POST',
    path: '/uploads',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify(uploadBody),
  });
const downloadEvent = (auth = authorization) =>
  apiEvent({
    method: 'POST',
    path: `/files/${fileId}/download-url`,
    routeKey: 'POST /files/{fileId}/download-url',
    pathParameters: { fileId },
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ expiresIn: 300, disposition: 'attachment' }),
  });
const context = lambdaContext('presign-bench');

async function expectStatus(promise: Promise<{ statusCode?: number; body?: string }>, status: number) {
  const response = await promise;
  if (response.statusCode !== status) throw new Error(`bench: got ${response.statusCode}: ${response.body}`);
}

const postInput = {
  Bucket: bucket,
  Key: key,
  Expires: 300,
  Conditions: [['content-length-range', 48213, 48213] as ['content-length-range', number, number]],
  Fields: {
    'Content-Type': 'image/png',
    tagging:
      '<Tagging><TagSet><Tag><Key>validation-status</Key><Value>pending</Value></Tag></TagSet></Tagging>',
    'x-amz-meta-filename': encodeMetaValue('holiday photo.png'),
    'x-amz-meta-owner': owner.segment,
    'x-amz-meta-declared-type': 'image/png',
    'x-amz-meta-declared-size': '48213',
  },
};
const getInput = {
  Bucket: bucket,
  Key: key,
  ResponseContentDisposition: disposition,
  ResponseContentType: 'image/png',
};
const sharedClient = new S3Client({ region: 'us-east-1' });
const requestPresigner = new S3RequestPresigner({ ...sharedClient.config });
const preparedRequest = () => ({
  method: 'GET',
  protocol: 'https:',
  hostname: `${bucket}.s3.us-east-1.amazonaws.com`,
  path: `/${key}`,
  query: {
    'response-content-disposition': disposition,
    'response-content-type': 'image/png',
    'x-id': 'GetObject',
  },
  headers: { host: `${bucket}.s3.us-east-1.amazonaws.com` },
});

/** The SigV4 query-presign computation by hand (baseline only): key derivation, canonical request, signature. */
function rawSigV4(now: Date): string {
  const secret = process.env.AWS_SECRET_ACCESS_KEY as string;
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const query = [
    'X-Amz-Algorithm=AWS4-HMAC-SHA256',
    `X-Amz-Credential=${encodeURIComponent(`${process.env.AWS_ACCESS_KEY_ID}/${scope}`)}`,
    `X-Amz-Date=${amzDate}`,
    'X-Amz-Expires=300',
    `X-Amz-Security-Token=${encodeURIComponent(process.env.AWS_SESSION_TOKEN as string)}`,
    'X-Amz-SignedHeaders=host',
    `response-content-disposition=${encodeURIComponent(disposition)}`,
    'response-content-type=image%2Fpng',
    'x-id=GetObject',
  ].join('&');
  const host = `${bucket}.s3.us-east-1.amazonaws.com`;
  const canonical = `GET\n/${key}\n${query}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
  let signing: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of ['us-east-1', 's3', 'aws4_request'])
    signing = createHmac('sha256', signing).update(part).digest();
  return `https://${host}/${key}?${query}&X-Amz-Signature=${createHmac('sha256', signing).update(toSign).digest('hex')}`;
}

export interface UrlIssuingOptions {
  upload: boolean;
  download: boolean;
  quick?: boolean;
}

export async function run({ upload, download, quick }: UrlIssuingOptions): Promise<SectionResult> {
  const cases: TimedCase[] = [
    { name: 'jwt.verify, repeat token (ES256, jose, cached)', op: () => verifyBearer(authorization) },
    { name: 'jwt.verify, first-seen token (ES256, jose)', op: () => verifyBearer(freshAuthorization()) },
    { name: 'sigv4.raw-hmac-chain', op: () => rawSigV4(new Date()) },
    {
      name: 'chain.health (middleware chain only, no auth)',
      op: () => expectStatus(health(apiEvent({ method: 'GET', path: '/health' }), context), 200),
    },
    { name: 'lib.newFileId (ulid)', op: () => newFileId() },
  ];
  if (upload) {
    cases.push(
      { name: 'upload.handler', op: () => expectStatus(createUpload(uploadEvent(), context), 201) },
      {
        name: 'upload.handler, first-seen token',
        op: () => expectStatus(createUpload(uploadEvent(freshAuthorization()), context), 201),
      },
      { name: 'upload.issueUpload (lib, no middleware)', op: () => issueUpload(owner, uploadBody) },
      {
        name: 'baseline.createPresignedPost (shared client)',
        op: () => createPresignedPost(sharedClient, postInput),
      },
      {
        name: 'baseline.createPresignedPost (client per call)',
        op: () => createPresignedPost(new S3Client({ region: 'us-east-1' }), postInput),
      },
    );
  }
  if (download) {
    cases.push(
      { name: 'download.handler', op: () => expectStatus(createDownloadUrl(downloadEvent(), context), 200) },
      {
        name: 'download.handler, first-seen token',
        op: () => expectStatus(createDownloadUrl(downloadEvent(freshAuthorization()), context), 200),
      },
      {
        name: 'download.presignDownload (lib)',
        op: () =>
          presignDownload({
            key,
            ttlSeconds: 300,
            contentDisposition: disposition,
            contentType: 'image/png',
          }),
      },
      {
        name: 'baseline.getSignedUrl (shared client)',
        op: () => getSignedUrl(sharedClient, new GetObjectCommand(getInput), { expiresIn: 300 }),
      },
      {
        name: 'baseline.getSignedUrl (client per call)',
        op: () =>
          getSignedUrl(new S3Client({ region: 'us-east-1' }), new GetObjectCommand(getInput), {
            expiresIn: 300,
          }),
      },
      {
        name: 'baseline.S3RequestPresigner.presign (prepared request)',
        op: () => requestPresigner.presign(preparedRequest(), { expiresIn: 300 }),
      },
    );
  }
  const plan = quick ? { warmup: 200, rounds: 20, batch: 20 } : { warmup: 500, rounds: 60, batch: 25 };
  const freshCases = cases.filter(({ name }) => name.includes('first-seen')).length;
  await mintFreshTokens(freshCases * (plan.warmup + plan.rounds * plan.batch));
  const samples = await timeInterleaved(cases, plan);
  const med = (name: string) => median(samples[name] ?? []);

  const figures: Record<string, Figure> = {};
  const rows: string[][] = [];
  const ref: Record<string, string> = {
    'upload.handler': 'baseline.createPresignedPost (shared client)',
    'upload.handler, first-seen token': 'baseline.createPresignedPost (shared client)',
    'upload.issueUpload (lib, no middleware)': 'baseline.createPresignedPost (shared client)',
    'download.handler': 'baseline.getSignedUrl (shared client)',
    'download.handler, first-seen token': 'baseline.getSignedUrl (shared client)',
    'download.presignDownload (lib)': 'baseline.getSignedUrl (shared client)',
  };
  for (const { name } of cases) {
    const us = med(name);
    const p99 = percentile(samples[name] ?? [], 99);
    figures[`${name} median µs`] = round(us);
    figures[`${name} p99 µs`] = round(p99);
    const against = ref[name];
    let vs = '';
    if (against) {
      const ratio = us / med(against);
      figures[`${name} ratio vs ${against}`] = round(ratio, 3);
      vs = `${round(ratio, 2)}× ${against.replace('baseline.', '')}`;
    }
    rows.push([name, `${round(us)} µs (p99 ${round(p99)})`, vs]);
  }
  /** A goal row: the handler against the bare SDK call on a shared client (the per-call ratio beside it). */
  const goal = (handler: string, baseline: string, limit: number) => {
    const ratio = med(handler) / med(`baseline.${baseline} (shared client)`);
    const perCall = med(handler) / med(`baseline.${baseline} (client per call)`);
    figures[`goal ${handler} ≤ ${limit}× ${baseline}`] = ratio <= limit;
    figures[`${handler} ratio vs ${baseline} (client per call)`] = round(perCall, 3);
    rows.push([
      `GOAL ${handler} ≤ ${limit.toFixed(1)}× ${baseline}`,
      ratio <= limit ? 'HOLDS' : 'MISSED',
      `${round(ratio, 2)}×`,
    ]);
  };
  if (upload) goal('upload.handler', 'createPresignedPost', 1);
  if (download) goal('download.handler', 'getSignedUrl', 0.5);
  return {
    section: 'url-issuing',
    figures,
    rows,
    notes: [
      `In process, ${plan.rounds} interleaved rounds × ${plan.batch} ops per case after ${plan.warmup} warm-up ops; median (p99) per op, process.hrtime.bigint().`,
      'Handlers get full API Gateway v2 events with an ES256 JWT. "upload.handler"/"download.handler" repeat one token, as a signed-in web app does: after its first use lib/auth.ts answers it from its verified-token cache (for up to 60 s, never past exp). The "first-seen token" rows use a new token per call, so jose verifies the signature every time; the goals are judged on the repeat-token rows, the first-seen ratios are shown beside them.',
      'download-url: s3.send of lib/s3-client.ts is monkeypatched in this process to answer HeadObject/GetObjectTagging with a validated (passed) file; nothing goes to the network. Signing is real.',
      'Goal ratios use the bare SDK call on a client built once (stricter than the AWS samples, which build an S3Client per call; that ratio is in --json too).',
      'sigv4.raw-hmac-chain is a hand-written node:crypto SigV4 query presign (baseline only; product code signs with the SDK).',
    ],
  };
}
