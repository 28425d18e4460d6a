/**
 * Section `limits`: what the reservation costs POST /uploads. The
 * createUpload function runs in this process twice, configured alike and
 * signing as its role on the stack's RGW, once with limits set (every request
 * reserves its size in its owner's usage object by compare-and-swap) and once
 * with them unset (the baseline: nothing is read or written). Each round sends
 * 50 requests at once to both, interleaved: from one owner (50 changes of one
 * usage object) and from 50 owners (one change each). Ratios are of the
 * per-request latency percentiles, limits set over unset.
 */
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { apiEvent, lambdaContext } from '../test/support/api-event.js';
import { assumeLocalRole, functionNamed, localFunctionEnvironment } from './serverless-config.js';
import { type Figure, percentile, round, type SectionResult } from './stats.js';

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

const CONCURRENCY = 50;
const BODY = JSON.stringify({ filename: 'holiday photo.png', contentType: 'image/png', size: 48213 });

interface Sample {
  ms: number;
  status: number;
}

/** 50 requests at once to `handler`, one token per request (one owner's 50 times, or 50 owners'). */
async function burst(handler: ApiHandler, tokens: readonly string[], context: Context): Promise<Sample[]> {
  return Promise.all(
    tokens.map(async (token) => {
      const event = apiEvent({
        method: 'POST',
        path: '/uploads',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: BODY,
      });
      const start = process.hrtime.bigint();
      const response = (await handler(event, context)) as { statusCode?: number };
      return { ms: Number(process.hrtime.bigint() - start) / 1e6, status: response.statusCode ?? 0 };
    }),
  );
}

export async function run({ stack, quick }: { stack: StackInfo; quick?: boolean }): Promise<SectionResult> {
  const session = await assumeLocalRole('createUpload');
  const environment = await localFunctionEnvironment('createUpload', stack, session);
  // The module builds its own handler from the environment when imported: give it one.
  Object.assign(process.env, environment);
  const { createHandler } = (await import(pathToFileURL(functionNamed('createUpload').source).href)) as {
    createHandler: (runtime: unknown) => ApiHandler;
  };
  const { createRuntime } = await import('../lib/runtime.js');
  const { GetObjectCommand, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = () =>
    new S3Client({
      region: stack.region,
      endpoint: stack.s3Endpoint,
      forcePathStyle: true,
      credentials: session,
    });
  const { QUOTA_BYTES_PER_OWNER: _q, UPLOADS_PER_HOUR_PER_OWNER: _r, ...unsetEnvironment } = environment;
  const handlers: Record<'set' | 'unset', ApiHandler> = {
    unset: createHandler(await createRuntime(unsetEnvironment, { s3: client() })),
    // High enough never to refuse: what is measured is the reservation itself.
    set: createHandler(
      await createRuntime(
        {
          ...unsetEnvironment,
          QUOTA_BYTES_PER_OWNER: String(10 ** 15),
          UPLOADS_PER_HOUR_PER_OWNER: '1000000',
        },
        { s3: client() },
      ),
    ),
  };
  const context = lambdaContext('presign-local-createUpload');
  // The floor of any reservation kept in S3: what the usage object's first write costs on this
  // RGW, bare (a GET that finds nothing, then a create-once PUT), 50 at once on distinct keys.
  const reference = client();
  let referenceKeys = 0;
  const referenceBurst = async (): Promise<Sample[]> =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const Key = `usage/bench-reference-${process.pid}-${referenceKeys++}`;
        const start = process.hrtime.bigint();
        await reference.send(new GetObjectCommand({ Bucket: stack.stateBucket, Key })).catch(() => undefined);
        await reference.send(
          new PutObjectCommand({ Bucket: stack.stateBucket, Key, Body: '{}', IfNoneMatch: '*' }),
        );
        return { ms: Number(process.hrtime.bigint() - start) / 1e6, status: 201 };
      }),
    );

  const rounds = quick ? 4 : 12;
  let owners = 0;
  // Fresh owners every round: an owner holds at most 1,000 open reservations (forms live 300 s).
  const newTokens = async (distinct: number) => {
    const subs = Array.from({ length: distinct }, () => `bench|limits-${process.pid}-${owners++}`);
    const tokens = await Promise.all(subs.map((sub) => devToken(sub, 3600)));
    return Array.from({ length: CONCURRENCY }, (_, i) => tokens[i % distinct] as string);
  };
  const samples: Record<string, Sample[]> = {};
  const cases = [
    { owners: 1, label: 'one owner' },
    { owners: CONCURRENCY, label: '50 owners' },
  ];
  // One warm-up round of each, not counted.
  for (const { owners: distinct } of cases) {
    for (const mode of ['unset', 'set'] as const)
      await burst(handlers[mode], await newTokens(distinct), context);
  }
  await referenceBurst();
  for (let round = 0; round < rounds; round++) {
    const floor = 'reference: GET (missing) + PUT If-None-Match, SDK, 50 distinct keys';
    samples[floor] = [...(samples[floor] ?? []), ...(await referenceBurst())];
    for (const { owners: distinct, label } of cases) {
      const order = round % 2 === 0 ? (['unset', 'set'] as const) : (['set', 'unset'] as const);
      for (const mode of order) {
        const name = `${label}, limits ${mode}`;
        samples[name] = [
          ...(samples[name] ?? []),
          ...(await burst(handlers[mode], await newTokens(distinct), context)),
        ];
      }
    }
  }

  const figures: Record<string, Figure> = {};
  const rows: string[][] = [];
  const at = (name: string, p: number) =>
    percentile(
      (samples[name] ?? []).map((s) => s.ms),
      p,
    );
  for (const [name, list] of Object.entries(samples)) {
    const statuses: Record<number, number> = {};
    for (const sample of list) statuses[sample.status] = (statuses[sample.status] ?? 0) + 1;
    figures[`${name} p50 ms`] = round(at(name, 50), 2);
    figures[`${name} p99 ms`] = round(at(name, 99), 2);
    figures[`${name} answers`] = JSON.stringify(statuses);
    rows.push([
      name.startsWith('reference') ? name : `POST /uploads handler, ${name}`,
      `p50 ${round(at(name, 50), 2)} ms, p99 ${round(at(name, 99), 2)} ms`,
      '',
      `${list.length} requests: ${Object.entries(statuses)
        .map(([status, count]) => `${count} × ${status}`)
        .join(', ')}`,
    ]);
  }
  for (const { label } of cases) {
    const p50 = at(`${label}, limits set`, 50) / at(`${label}, limits unset`, 50);
    const p99 = at(`${label}, limits set`, 99) / at(`${label}, limits unset`, 99);
    figures[`${label} ratio p50`] = round(p50, 2);
    figures[`${label} ratio p99`] = round(p99, 2);
    const goal = label === '50 owners';
    rows.push([
      goal
        ? 'GOAL reservation cost at 50 concurrent, 50 owners: p99 ≤ 1.5× limits unset'
        : `reservation cost at 50 concurrent, ${label}`,
      goal ? (p99 <= 1.5 ? 'MET' : 'MISSED') : 'REPORTED',
      `p50 ${round(p50, 2)}×, p99 ${round(p99, 2)}×`,
      `limits set / unset, ${label}`,
    ]);
  }
  const floorName = 'reference: GET (missing) + PUT If-None-Match, SDK, 50 distinct keys';
  const overFloor = at('50 owners, limits set', 99) / (at('50 owners, limits unset', 99) + at(floorName, 99));
  figures['50 owners p99 over unset + bare S3 floor'] = round(overFloor, 2);
  rows.push([
    '50 owners, limits set, against limits unset plus the bare GET + conditional PUT',
    'REPORTED',
    `p99 ${round(overFloor, 2)}×`,
    'what the reservation adds beyond the two S3 calls it cannot do without',
  ]);
  return {
    section: 'limits (reservation on POST /uploads)',
    figures,
    rows,
    notes: [
      `${rounds} rounds after a warm-up round; each round sends ${CONCURRENCY} requests at once to each case, set and unset alternating first; latency per request with process.hrtime.bigint(), from the handler call to its answer (the whole middy chain and JWT check, then for limits set the usage object's GET and conditional PUT on the stack's RGW, retried on conflict).`,
      `In process: the createUpload \`createHandler\` of ${functionNamed('createUpload').handler.replace(/\.handler$/, '.ts')}, configured with serverless.yml's environment as \`npm start\` resolves it and signing as presign-local-createUpload (STS on RGW); limits set means QUOTA_BYTES_PER_OWNER=10^15 and UPLOADS_PER_HOUR_PER_OWNER=1,000,000 (never refused), unset means neither. Fresh owners every round.`,
      'The reference row is the floor of any reservation kept in S3: the same two calls bare, 50 at once on distinct keys of the state bucket, with the same role. On this machine the local RGW (one memstore OSD on 2 shared CPUs) takes its writes largely one at a time, so that floor is far above what the handler alone costs; in AWS S3 a conditional PUT takes tens of milliseconds whatever the concurrency across keys.',
      'One owner: the 50 reservations are 50 changes of one object, applied one after another (a loser reads again after a jittered backoff), so its tail is the queue; a request that loses for 3 s answers 429 (counted above). 50 owners: one read and one conditional write each.',
    ],
  };
}
