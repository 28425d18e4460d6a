/**
 * Section `upload` / `download`: what share of a URL-issuing request's time is
 * the handler's. The function's exported `handler` (its whole middy chain, JWT
 * check included) runs in this process, configured and signing as the local
 * stack runs it (same serverless.yml environment, same role, same RGW); the
 * same request goes through the running local stack (serverless offline on
 * loopback) in the same run, interleaved. Share = handler time / request time,
 * at p50 and at p99. Bare SDK calls on a shared client are reference rows.
 */
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { apiEvent, lambdaContext } from '../test/support/api-event.js';
import { pngOfSize } from '../test/support/sample-files.js';
import { assumeLocalRole, functionNamed, localFunctionEnvironment } from './serverless-config.js';
import {
  type Figure,
  percentile,
  round,
  type SectionResult,
  type TimedCase,
  timeInterleaved,
} from './stats.js';

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface UrlIssuingOptions {
  kind: 'upload' | 'download';
  stack: StackInfo;
  quick?: boolean;
}

const FUNCTION = { upload: 'createUpload', download: 'createDownloadUrl' } as const;
const UPLOAD_BODY = { filename: 'holiday photo.png', contentType: 'image/png', size: 48213 };

async function importHandler(fn: string): Promise<ApiHandler> {
  const { source } = functionNamed(fn);
  const module = (await import(pathToFileURL(source).href)) as { handler?: ApiHandler };
  if (typeof module.handler !== 'function') throw new Error(`${source} exports no handler`);
  return module.handler;
}

function expectStatus(response: APIGatewayProxyResultV2, status: number): void {
  const { statusCode, body } = response as { statusCode?: number; body?: string };
  if (statusCode !== status) throw new Error(`bench: handler answered ${statusCode}: ${body}`);
}

/** One request through the stack, timed by the caller; throws unless it answers `status`. */
async function request(url: string, init: RequestInit, status: number): Promise<string> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status !== status) throw new Error(`bench: ${url} answered ${response.status}: ${text}`);
  return text;
}

/** A file of `sub`'s that passed validation, made the way a browser and S3 make one, through the stack. */
async function validatedFile(stack: StackInfo, token: string): Promise<{ fileId: string; key: string }> {
  const authorization = `Bearer ${token}`;
  const issued = JSON.parse(
    await request(
      `${stack.apiUrl}/uploads`,
      {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'bench.png', contentType: 'image/png', size: 2048 }),
      },
      201,
    ),
  ) as { fileId: string; key: string; upload: { url: string; fields: Record<string, string> } };
  const form = new FormData();
  for (const [name, value] of Object.entries(issued.upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(pngOfSize(2048))], { type: 'image/png' }), 'bench.png');
  const posted = await fetch(issued.upload.url, { method: 'POST', body: form });
  if (posted.status >= 300)
    throw new Error(`bench: S3 refused the upload: ${posted.status} ${await posted.text()}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const view = JSON.parse(
      await request(`${stack.apiUrl}/files/${issued.fileId}`, { headers: { authorization } }, 200),
    ) as { status?: string };
    if (view.status === 'passed') return { fileId: issued.fileId, key: issued.key };
    if (view.status === 'failed' || Date.now() > deadline)
      throw new Error(`bench: the bench file was not validated (${view.status})`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

export async function run({ kind, stack, quick }: UrlIssuingOptions): Promise<SectionResult> {
  const fn = FUNCTION[kind];
  const session = await assumeLocalRole(fn);
  Object.assign(process.env, await localFunctionEnvironment(fn, stack, session));
  const handler = await importHandler(fn);
  const health = await importHandler('health');
  const {
    GetObjectCommand,
    GetObjectTaggingCommand,
    HeadObjectCommand,
    ListObjectVersionsCommand,
    S3Client,
  } = await import('@aws-sdk/client-s3');
  const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');

  const token = await devToken(`bench|url-${kind}`, 3600);
  const authorization = `Bearer ${token}`;
  const context = lambdaContext(`presign-local-${fn}`);
  // Signing as the function's role, against the stack's RGW: the reference calls.
  const client = new S3Client({
    region: stack.region,
    endpoint: stack.s3Endpoint,
    forcePathStyle: true,
    credentials: session,
  });
  const key = `uploads/${'b'.repeat(32)}/01JBENCH0000000000000000000`;

  const cases: TimedCase[] = [
    {
      name: 'health handler (in process)',
      op: async () => expectStatus(await health(apiEvent({ method: 'GET', path: '/health' }), context), 200),
    },
    {
      name: 'GET /health through the stack',
      op: () => request(`${stack.apiUrl}/health`, {}, 200),
    },
  ];
  let handlerCase: string;
  let requestCase: string;
  if (kind === 'upload') {
    handlerCase = `${fn} handler (in process)`;
    requestCase = 'POST /uploads through the stack';
    const body = JSON.stringify(UPLOAD_BODY);
    cases.push(
      {
        name: handlerCase,
        op: async () =>
          expectStatus(
            await handler(
              apiEvent({
                method: 'POST',
                path: '/uploads',
                headers: { 'content-type': 'application/json', authorization },
                body,
              }),
              context,
            ),
            201,
          ),
      },
      {
        name: requestCase,
        op: () =>
          request(
            `${stack.apiUrl}/uploads`,
            { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body },
            201,
          ),
      },
      {
        name: 'reference: createPresignedPost (SDK, shared client)',
        op: () =>
          createPresignedPost(client, {
            Bucket: stack.bucket,
            Key: key,
            Expires: 300,
            Conditions: [['content-length-range', UPLOAD_BODY.size, UPLOAD_BODY.size]],
            Fields: { 'Content-Type': UPLOAD_BODY.contentType },
          }),
      },
    );
  } else {
    const { fileId, key: fileKey } = await validatedFile(stack, token);
    const path = `/files/${fileId}/download-url`;
    const body = JSON.stringify({ expiresIn: 300, disposition: 'attachment' });
    handlerCase = `${fn} handler (in process)`;
    requestCase = 'POST /files/{fileId}/download-url through the stack';
    cases.push(
      {
        name: handlerCase,
        op: async () =>
          expectStatus(
            await handler(
              apiEvent({
                method: 'POST',
                path,
                routeKey: 'POST /files/{fileId}/download-url',
                pathParameters: { fileId },
                headers: { 'content-type': 'application/json', authorization },
                body,
              }),
              context,
            ),
            200,
          ),
      },
      {
        name: requestCase,
        op: () =>
          request(
            `${stack.apiUrl}${path}`,
            { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body },
            200,
          ),
      },
      {
        name: 'reference: getSignedUrl (SDK, shared client)',
        op: () =>
          getSignedUrl(
            client,
            new GetObjectCommand({ Bucket: stack.bucket, Key: key, ResponseContentType: 'image/png' }),
            { expiresIn: 300 },
          ),
      },
      {
        name: 'reference: the first version listed, then its tags and HEAD (SDK, shared client, RGW)',
        op: async () => {
          const { Versions = [] } = await client.send(
            new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: fileKey }),
          );
          const VersionId = Versions.at(-1)?.VersionId;
          await client.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: fileKey, VersionId }));
          await client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: fileKey, VersionId }));
        },
      },
    );
  }

  // The download cases wait on RGW (tens of ms each): fewer warm-up requests, same sample count.
  const plan = quick
    ? { warmup: 20, rounds: 8, batch: 10 }
    : { warmup: kind === 'upload' ? 100 : 30, rounds: 40, batch: 10 };
  const samples = await timeInterleaved(cases, plan);
  const ms = (name: string, p: number) => percentile(samples[name] ?? [], p) / 1000;

  const figures: Record<string, Figure> = {};
  const rows: string[][] = [];
  for (const { name } of cases) {
    figures[`${name} p50 ms`] = round(ms(name, 50), 3);
    figures[`${name} p99 ms`] = round(ms(name, 99), 3);
    rows.push([name, `p50 ${round(ms(name, 50), 3)} ms, p99 ${round(ms(name, 99), 3)} ms`, '']);
  }
  const share = (handlerName: string, requestName: string, label: string, goal: boolean) => {
    const p50 = ms(handlerName, 50) / ms(requestName, 50);
    const p99 = ms(handlerName, 99) / ms(requestName, 99);
    figures[`${label} handler share p50`] = round(p50, 3);
    figures[`${label} handler share p99`] = round(p99, 3);
    rows.push(
      goal
        ? [
            `GOAL ${label}: handler share of the request`,
            'REPORTED',
            `p50 ${round(p50 * 100, 1)} %, p99 ${round(p99 * 100, 1)} %`,
            `${handlerName} / ${requestName}`,
          ]
        : [
            `${label}: handler share of the request (the floor)`,
            `p50 ${round(p50 * 100, 1)} %, p99 ${round(p99 * 100, 1)} %`,
            `${handlerName} / ${requestName}`,
            'serverless offline and HTTP around a handler that does nothing',
          ],
    );
  };
  share(handlerCase, requestCase, fn, true);
  share('health handler (in process)', 'GET /health through the stack', 'health', false);

  const note =
    kind === 'upload'
      ? 'POST /uploads signs a POST policy and calls nothing over the network.'
      : "The download-url handler reads the file (its versions, then the first version's tags and HEAD) from the local RGW before signing, in process and in the stack alike; the file is a 2 KiB PNG uploaded through the stack and validated by it before timing.";
  return {
    section: `url-issuing (${kind})`,
    figures,
    rows,
    notes: [
      `${kind}: ${plan.rounds} interleaved rounds × ${plan.batch} requests per case after ${plan.warmup} warm-up requests each, one at a time; p50/p99 per request with process.hrtime.bigint(). ${note}`,
      `In process: the \`handler\` exported by ${functionNamed(FUNCTION[kind]).handler.replace(/\.handler$/, '.ts')}, given an API Gateway v2 event with an ES256 development JWT, configured with serverless.yml's environment as \`npm start\` resolves it and signing as presign-local-${fn} (STS on RGW). Through the stack: the same request with fetch (keep-alive) to ${stack.apiUrl}, where serverless offline runs the same function. Both repeat one token, as a signed-in web app does.`,
      'Share = in-process handler time / end-to-end request time, both measured in this run; the rest of a request is the emulator (serverless offline: routing, event building, worker hand-off) and HTTP on loopback. The health row is that floor: a handler that does nothing.',
    ],
  };
}
