/**
 * Section `limits`: what the reservation costs POST /uploads. The goal rows
 * time the reservation itself (the ledger's `reserveUpload`, with the
 * createUpload function's store, signing as its role on the stack's RGW) at
 * 50 at once, from one owner and from 50 owners, against the bare S3 floor
 * measured in the same rounds: one GET and one conditional PUT of a usage
 * shard, 50 at once on distinct keys. The createUpload function also runs in
 * this process twice, limits set and unset, for the whole request's cost.
 * Ratios are of per-request latency percentiles.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { apiEvent, lambdaContext } from '../test/support/api-event.js';
import { assumeLocalRole, functionNamed, localFunctionEnvironment } from './serverless-config.js';
import { type Figure, percentile, round, type SectionResult } from './stats.js';

type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

const CONCURRENCY = 50;
const FLOOR = 'bare S3 floor: GET + PUT If-Match of a usage shard, 50 distinct keys';
const RESERVED_ONE = 'reservation (ledger reserveUpload), one owner';
const RESERVED_MANY = 'reservation (ledger reserveUpload), 50 owners';
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
  const { createCallerRuntime } = await import('../lib/caller-runtime.js');
  const { createRuntime } = await import('../lib/runtime.js');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const client = () =>
    new S3Client({
      region: stack.region,
      endpoint: stack.s3Endpoint,
      forcePathStyle: true,
      credentials: session,
    });
  const { QUOTA_BYTES_PER_OWNER: _q, UPLOADS_PER_HOUR_PER_OWNER: _r, ...unsetEnvironment } = environment;
  const handlers: Record<'set' | 'unset', ApiHandler> = {
    unset: createHandler(await createCallerRuntime(unsetEnvironment, { s3: client() })),
    // High enough never to refuse: what is measured is the reservation itself.
    set: createHandler(
      await createCallerRuntime(
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
  // The reservation alone: the ledger with the function's own store and never-refusing limits.
  const { reserveUpload } = await import('../lib/limits/owner-limits.js');
  const { store, clock } = await createRuntime(
    { ...unsetEnvironment, QUOTA_BYTES_PER_OWNER: String(10 ** 15), UPLOADS_PER_HOUR_PER_OWNER: '1000000' },
    { s3: client() },
  );
  const ledger = {
    store,
    clock,
    limits: {
      quotaBytes: 10 ** 15,
      uploadsPerHour: 1_000_000,
      rateWindowMs: 3_600_000,
      landingGraceMs: 3_600_000,
    },
  };
  const timed = async (work: () => Promise<unknown>): Promise<Sample> => {
    const start = process.hrtime.bigint();
    const status = await work().then(
      () => 201,
      (error: { statusCode?: number }) => error.statusCode ?? 500,
    );
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, status };
  };
  // Owners by key segment alone, as the ledger knows them (fresh per run).
  const newOwner = () => ({ segment: randomBytes(16).toString('hex') });
  // The same owners every round, as a busy owner's shards hold reservations: one owner, and 50.
  const oneOwner = newOwner();
  const manyOwners = Array.from({ length: CONCURRENCY }, newOwner);
  const until = () => new Date(clock().getTime() + 300_000);
  const reservationBurst = (owners: readonly { segment: string }[]): Promise<Sample[]> =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, (_, i) =>
        timed(() =>
          reserveUpload(ledger, owners[i % owners.length] as { segment: string }, {
            bytes: 48213,
            until: until(),
          }),
        ),
      ),
    );
  // The floor of any reservation kept in S3: one GET of a usage shard and one conditional PUT over
  // what it read, bare, 50 at once on distinct keys (written once before, so If-Match as in steady use).
  const floorOwners = Array.from({ length: CONCURRENCY }, newOwner);
  const referenceBurst = (): Promise<Sample[]> =>
    Promise.all(
      floorOwners.map((owner) =>
        timed(async () => {
          const { record, eTag } = await store.readUsage(owner, 0);
          record.usedBytes += 1;
          if (!(await store.tryWriteUsage(owner, 0, record, eTag)))
            throw new Error('the floor key was written by another');
        }),
      ),
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
  await reservationBurst([oneOwner]);
  await reservationBurst(manyOwners);
  const floor = FLOOR;
  const add = (name: string, more: Sample[]) => {
    samples[name] = [...(samples[name] ?? []), ...more];
  };
  for (let round = 0; round < rounds; round++) {
    const reservations: [string, () => Promise<Sample[]>][] = [
      [floor, referenceBurst],
      [RESERVED_ONE, () => reservationBurst([oneOwner])],
      [RESERVED_MANY, () => reservationBurst(manyOwners)],
    ];
    for (const [name, burstOf] of round % 2 === 0 ? reservations : [...reservations].reverse()) {
      add(name, await burstOf());
    }
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
      name === FLOOR || name.startsWith('reservation') ? name : `POST /uploads handler, ${name}`,
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
    rows.push([
      `POST /uploads at 50 concurrent, ${label}: limits set over unset`,
      'REPORTED',
      `p50 ${round(p50, 2)}×, p99 ${round(p99, 2)}×`,
      `limits set / unset, ${label}`,
    ]);
  }
  for (const [name, label] of [
    [RESERVED_ONE, 'one owner'],
    [RESERVED_MANY, '50 owners'],
  ] as const) {
    const p99 = at(name, 99) / at(FLOOR, 99);
    const p50 = at(name, 50) / at(FLOOR, 50);
    figures[`reservation ${label} over floor p99`] = round(p99, 2);
    figures[`reservation ${label} over floor p50`] = round(p50, 2);
    figures[`GOAL reservation ${label}`] = p99 <= 2 ? 'MET' : 'MISSED';
    rows.push([
      `GOAL reservation p99 at 50 concurrent, ${label}: ≤ 2× the bare S3 floor`,
      p99 <= 2 ? 'MET' : 'MISSED',
      `p99 ${round(p99, 2)}× (p50 ${round(p50, 2)}×)`,
      `${round(at(name, 99), 1)} ms against ${round(at(FLOOR, 99), 1)} ms, same rounds`,
    ]);
  }
  return {
    section: 'limits (reservation on POST /uploads)',
    figures,
    rows,
    notes: [
      `${rounds} rounds after a warm-up round; each round sends ${CONCURRENCY} requests at once to each case, the order alternating; latency per request with process.hrtime.bigint().`,
      `Goal rows: the ledger's reserveUpload alone (lib/limits/owner-limits.ts) with the createUpload function's store, signing as its role, never refused (quota 10^15, rate 10^6), 50 at once from one owner (the same owner every round, so its shards hold reservations and writes are If-Match) or from 50 owners; the floor is the store's own readUsage + tryWriteUsage (one GET, one PUT If-Match) of 50 distinct usage shards, each written once before, in the same rounds. Each owner's usage is ${64} shards; 50 requests of one process lease distinct shards, so they do not meet.`,
      `Handler rows: the whole request, from the handler call to its answer (middy chain, JWT check, the reservation, the presign).`,
      `In process: the createUpload \`createHandler\` of ${functionNamed('createUpload').handler.replace(/\.handler$/, '.ts')}, configured with serverless.yml's environment as \`npm start\` resolves it and signing as presign-local-createUpload (STS on RGW); limits set means QUOTA_BYTES_PER_OWNER=10^15 and UPLOADS_PER_HOUR_PER_OWNER=1,000,000 (never refused), unset means neither. Fresh owners every round.`,
      'On this machine the local RGW (one memstore OSD on 2 shared CPUs) takes its writes largely one at a time, so the floor is far above what the handler alone costs; in AWS S3 a conditional PUT takes tens of milliseconds whatever the concurrency across keys.',
    ],
  };
}
