import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCallerRuntime } from '../../lib/caller-runtime.js';
import { ApiError } from '../../lib/core/errors.js';
import { createRuntime } from '../../lib/runtime.js';
import { gatheringClaimKey, usageKey } from '../../lib/store/object-key.js';
import { classifyS3Error } from '../../lib/store/s3-errors.js';
import { apiEvent, lambdaContext } from '../support/api-event.js';
import { TEST_LIMITS } from '../support/limits.js';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import {
  adminS3,
  api,
  apiHonouringRetryAfter,
  assumeFunctionRole,
  functionEnvironment,
  newOwner,
  ownerOf,
  postForm,
  requestUpload,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * Per-owner limits on the real local stack: the quota and the hourly rate
 * the integration stack runs with (test/support/limits.ts), the usage object
 * of each owner in the real state bucket changed by compare-and-swap on Ceph
 * RGW, and what gives bytes back. Every test has an owner of its own.
 */

const QUOTA = TEST_LIMITS.QUOTA_BYTES_PER_OWNER;
const RATE = TEST_LIMITS.UPLOADS_PER_HOUR_PER_OWNER;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Usage {
  usedBytes: number;
  reservedBytes: number;
  quotaBytes: number | null;
  uploadsThisHour: number;
  uploadsPerHour: number | null;
}

async function usage(token: string): Promise<Usage> {
  const answer = await api<Usage>('GET', '/usage', { token });
  expect(answer.status).toBe(200);
  return answer.body;
}

/** Polls GET /usage until `done` holds (or `seconds` pass): a verdict settles a moment after its tags. */
async function usageWhen(token: string, done: (usage: Usage) => boolean, seconds = 20): Promise<Usage> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const current = await usage(token);
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`usage still ${JSON.stringify(current)} after ${seconds} s`);
    await sleep(200);
  }
}

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const HANDLER_MODULES = {
  createUpload: () => import('../../handlers/create-upload.js'),
  getUsage: () => import('../../handlers/get-usage.js'),
};

/**
 * A function of the stack run in this process as the stack runs it (its
 * handler module, built from the environment at import), signing with its
 * own role's credentials, with `variables` on top. The environment is restored after.
 */
async function inProcess(
  fn: keyof typeof HANDLER_MODULES,
  variables: Record<string, string>,
): Promise<Handler> {
  const session = await assumeFunctionRole(fn, `limits-${fn}`);
  const settings: Record<string, string> = { ...(await functionEnvironment(session)), ...variables };
  const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    vi.resetModules();
    const { createHandler } = await HANDLER_MODULES[fn]();
    // Its clients sign with the session itself, not with the environment restored below.
    const runtime = await createCallerRuntime(settings, { s3: roleS3Client(session) });
    return createHandler(runtime) as unknown as Handler;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const call = (handler: Handler, token: string, init: NonNullable<Parameters<typeof apiEvent>[0]>) =>
  handler(
    apiEvent({ ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } }),
    lambdaContext(),
  );

/** {@link call} with the time a function of the local stack has to answer (30 s, as `npm start` sets it). */
const callWithLocalTimeout = (
  handler: Handler,
  token: string,
  init: NonNullable<Parameters<typeof apiEvent>[0]>,
) =>
  handler(apiEvent({ ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } }), {
    ...lambdaContext(),
    getRemainingTimeInMillis: () => 30_000,
  });

const uploadRequest = (size: number, contentType = 'image/png') => ({
  method: 'POST',
  path: '/uploads',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ filename: 'f.png', contentType, size }),
});

beforeAll(() => {
  // Fail, never skip: these tests are designed around the limits of the stack the tests start.
  const running = stack.limits ?? { quotaBytesPerOwner: null, uploadsPerHourPerOwner: null };
  if (running.quotaBytesPerOwner !== QUOTA || running.uploadsPerHourPerOwner !== RATE) {
    throw new Error(
      `the running stack has limits ${JSON.stringify(running)}, not the tests': stop it (npm test then starts ` +
        `its own), or start it with QUOTA_BYTES_PER_OWNER=${QUOTA} UPLOADS_PER_HOUR_PER_OWNER=${RATE} ` +
        '(and the webhook settings the README names) npm start',
    );
  }
});

describe('the quota under a burst', () => {
  it('100 concurrent POST /uploads from one owner against a quota that fits 10: exactly 10 succeed (in process)', async () => {
    // Arrange: ten tenths of the quota fit, an eleventh never does; each is gathered from 7 shards.
    // In process: 100 emulator workers, each gathering alone, mostly time out on this machine
    // (docs/limits.md says what a burst of such large requests costs across instances).
    const createUpload = await inProcess('createUpload', {
      QUOTA_BYTES_PER_OWNER: String(QUOTA),
      UPLOADS_PER_HOUR_PER_OWNER: String(RATE),
    });
    const { token } = await newOwner('quota-burst');
    const size = QUOTA / 10;

    // Act
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        callWithLocalTimeout(createUpload, token, uploadRequest(size, 'video/mp4')),
      ),
    );
    const answers = replies.map((reply) => ({
      status: reply.statusCode ?? 0,
      body: JSON.parse(reply.body ?? '{}') as unknown,
    }));

    // Assert
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 403)).toHaveLength(90);
    for (const refused of answers.filter((answer) => answer.status === 403)) {
      expect(refused.body).toMatchObject({ error: { code: 'quota_exceeded' } });
    }
    expect(await usage(token)).toEqual({
      usedBytes: 0,
      reservedBytes: QUOTA,
      quotaBytes: QUOTA,
      uploadsThisHour: 10,
      uploadsPerHour: RATE,
    });
  }, 180_000);

  it('multipart starts reserve too, and an abort gives the bytes back at once', async () => {
    // Arrange
    const { token } = await newOwner('quota-mp');
    const size = QUOTA / 2;
    const first = await api<{ fileId: string }>('POST', '/uploads/multipart', {
      token,
      body: { filename: 'a.mp4', contentType: 'video/mp4', size },
    });
    const second = await api('POST', '/uploads/multipart', {
      token,
      body: { filename: 'b.mp4', contentType: 'video/mp4', size },
    });
    const third = await api('POST', '/uploads', {
      token,
      body: { filename: 'c.png', contentType: 'image/png', size: 1 },
    });

    // Act
    const aborted = await api('DELETE', `/uploads/${first.body.fileId}`, { token });
    const afterAbort = await usage(token);
    const again = await api('DELETE', `/uploads/${first.body.fileId}`, { token });

    // Assert
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(third).toMatchObject({ status: 403, body: { error: { code: 'quota_exceeded' } } });
    expect(aborted.status).toBe(204);
    expect(afterAbort.reservedBytes).toBe(size);
    expect(again.status).toBe(409);
    expect((await usage(token)).reservedBytes).toBe(size);
  });
});

/** One POST /uploads, answered as it is: a 429 is a result here, never retried (a reset connection is). */
const postUpload = (token: string, size: number, contentType = 'image/png') =>
  apiHonouringRetryAfter('POST', '/uploads', { token, body: { filename: 'f.bin', contentType, size } }, 1);

const tally = (statuses: number[]) =>
  Object.fromEntries(
    [...new Set(statuses)].sort().map((status) => [status, statuses.filter((s) => s === status).length]),
  );

describe('one owner’s burst, answered by the limits alone', () => {
  it('200 concurrent POST /uploads with neither the quota nor the rate spent: all 201, no 429 (in process)', async () => {
    // Arrange: the stack's quota and rate (250 an hour, so 200 spend neither). In process: 200
    // emulator workers cold-starting at once on this machine would time the machine, not the ledger.
    const createUpload = await inProcess('createUpload', {
      QUOTA_BYTES_PER_OWNER: String(QUOTA),
      UPLOADS_PER_HOUR_PER_OWNER: String(RATE),
    });
    const { token } = await newOwner('burst-200');
    const size = 1024 * 1024;

    // Act
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => callWithLocalTimeout(createUpload, token, uploadRequest(size))),
    );

    // Assert
    expect(tally(answers.map((answer) => answer.statusCode ?? 0))).toEqual({ 201: 200 });
    expect(await usage(token)).toMatchObject({
      usedBytes: 0,
      reservedBytes: 200 * size,
      uploadsThisHour: 200,
    });
  }, 180_000);

  it('100 concurrent 1 MiB requests against a 64 MiB quota: exactly 64 granted, 36 × 403 (in process)', async () => {
    // Arrange: the createUpload function in process with the quota and rate of the measurement.
    const quota = 64 * 1024 * 1024;
    const createUpload = await inProcess('createUpload', {
      QUOTA_BYTES_PER_OWNER: String(quota),
      UPLOADS_PER_HOUR_PER_OWNER: '5000',
    });
    const { token } = await newOwner('burst-64mib');

    // Act
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        callWithLocalTimeout(createUpload, token, uploadRequest(1024 * 1024)),
      ),
    );

    // Assert
    const statuses = answers.map((answer) => answer.statusCode ?? 0);
    expect(tally(statuses)).toEqual({ 201: 64, 403: 36 });
    for (const refused of answers.filter((answer) => answer.statusCode === 403)) {
      expect(JSON.parse(refused.body ?? '{}')).toMatchObject({ error: { code: 'quota_exceeded' } });
    }
    const granted = answers.filter((answer) => answer.statusCode === 201).length * 1024 * 1024;
    expect(granted).toBeLessThanOrEqual(quota);
  }, 120_000);
});

describe('what gives bytes back', () => {
  it('a failed validation gives its reservation back, and a re-post of its form moves nothing', async () => {
    // Arrange: a "PNG" that is an HTML page fails (type_mismatch).
    const { token } = await newOwner('quota-failed');
    const issued = await requestUpload(token, {
      filename: 'x.png',
      contentType: 'image/png',
      size: HTML_PAGE.length,
    });
    const reserved = await usage(token);

    // Act
    expect((await postForm(issued.upload, HTML_PAGE)).status).toBeLessThan(300);
    const verdict = await waitForVerdict(token, issued.fileId);
    const settled = await usageWhen(token, (current) => current.reservedBytes === 0);
    expect((await postForm(issued.upload, HTML_PAGE)).status).toBeLessThan(300);
    await sleep(3000);

    // Assert
    expect(reserved).toMatchObject({ usedBytes: 0, reservedBytes: HTML_PAGE.length, uploadsThisHour: 1 });
    expect(verdict).toMatchObject({ status: 'failed' });
    expect(settled).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    expect(await usage(token)).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
  });

  it('a passed file is used; a re-post counts nothing twice; a delete (even two at once) gives it back once', async () => {
    // Arrange: two passed files, then one deleted by two requests at once.
    const { token } = await newOwner('quota-delete');
    const sizes = [3000, 5000];
    const files = [];
    for (const size of sizes) {
      const issued = await requestUpload(token, { filename: 'p.png', contentType: 'image/png', size });
      expect((await postForm(issued.upload, pngOfSize(size))).status).toBeLessThan(300);
      expect(await waitForVerdict(token, issued.fileId)).toMatchObject({ status: 'passed' });
      files.push(issued);
    }
    const used = await usageWhen(token, (current) => current.usedBytes === 8000);
    const [first] = files as [(typeof files)[number]];
    expect((await postForm(first.upload, pngOfSize(3000))).status).toBeLessThan(300);
    await sleep(3000);
    const afterRepost = await usage(token);

    // Act
    const deletes = await Promise.all([
      api('DELETE', `/files/${first.fileId}`, { token }),
      api('DELETE', `/files/${first.fileId}`, { token }),
    ]);
    const afterDelete = await usage(token);
    const again = await api('DELETE', `/files/${first.fileId}`, { token });

    // Assert
    expect(used).toMatchObject({ usedBytes: 8000, reservedBytes: 0, uploadsThisHour: 2 });
    expect(afterRepost).toMatchObject({ usedBytes: 8000, reservedBytes: 0 });
    expect(deletes.map((answer) => answer.status)).toContain(204);
    expect(deletes.every((answer) => answer.status === 204 || answer.status === 404)).toBe(true);
    expect(afterDelete).toMatchObject({ usedBytes: 5000, reservedBytes: 0 });
    expect(again.status).toBe(404);
    expect(await usage(token)).toMatchObject({ usedBytes: 5000 });
  });

  it('a delete of a pending file gives its reservation back, and its verdict later moves nothing', async () => {
    // Arrange: the delete lands while the file may still be pending.
    const { token } = await newOwner('quota-del-pending');
    const issued = await requestUpload(token, { filename: 'p.png', contentType: 'image/png', size: 4000 });
    expect((await postForm(issued.upload, pngOfSize(4000))).status).toBeLessThan(300);

    // Act
    const deleted = await api('DELETE', `/files/${issued.fileId}`, { token });
    await sleep(4000);

    // Assert: whatever came first, nothing of the file is counted.
    expect([204, 404]).toContain(deleted.status);
    expect(await usage(token)).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
  });

  it('a delete before the form is posted gives nothing back: the file posted after it is counted', async () => {
    // Arrange: a form issued, its file deleted before anything landed.
    const { token } = await newOwner('quota-del-early');
    const issued = await requestUpload(token, { filename: 'e.png', contentType: 'image/png', size: 6000 });
    const early = await api('DELETE', `/files/${issued.fileId}`, { token });
    const afterDelete = await usage(token);

    // Act: the still-valid form is posted after the delete.
    expect((await postForm(issued.upload, pngOfSize(6000))).status).toBeLessThan(300);
    const verdict = await waitForVerdict(token, issued.fileId);

    // Assert: the delete moved nothing, and the file that landed is counted.
    expect(early.status).toBe(404);
    expect(afterDelete).toMatchObject({ usedBytes: 0, reservedBytes: 6000 });
    expect(verdict).toMatchObject({ status: 'passed' });
    expect(await usageWhen(token, (current) => current.reservedBytes === 0)).toMatchObject({
      usedBytes: 6000,
      reservedBytes: 0,
    });
  });

  it('an expired form with nothing landed gives its bytes back at the next read, with no job', async () => {
    // Arrange: createUpload and getUsage in process with the stack's roles and state bucket,
    // forms that live 1 s, and a grace of 1 s after it (the stack's own is an hour).
    const short = { UPLOAD_URL_TTL_SECONDS: '1', RESERVATION_GRACE_SECONDS: '1' };
    const limits = {
      QUOTA_BYTES_PER_OWNER: String(QUOTA),
      UPLOADS_PER_HOUR_PER_OWNER: String(RATE),
      ...short,
    };
    const createUpload = await inProcess('createUpload', limits);
    const getUsage = await inProcess('getUsage', limits);
    const { token } = await newOwner('quota-lapse');
    const issued = await call(createUpload, token, uploadRequest(QUOTA, 'video/mp4'));
    const full = await call(createUpload, token, uploadRequest(1));
    const before = await usage(token);

    // Act
    await sleep(2500);
    const read = await call(getUsage, token, { method: 'GET', path: '/usage' });
    const after = await usage(token);
    const next = await call(createUpload, token, uploadRequest(QUOTA, 'video/mp4'));

    // Assert
    expect(issued.statusCode).toBe(201);
    expect(full.statusCode).toBe(403);
    expect(before.reservedBytes).toBe(QUOTA);
    expect(JSON.parse(read.body ?? '{}')).toMatchObject({ reservedBytes: 0, usedBytes: 0 });
    // Written back: the stack's own GET /usage (grace of an hour) reads it released.
    expect(after).toMatchObject({ reservedBytes: 0, usedBytes: 0, uploadsThisHour: 1 });
    expect(next.statusCode).toBe(201);
  });

  it('an expired form whose bytes landed keeps its reservation until the verdict settles it', async () => {
    // Arrange: a form that lives 2 s, posted at once; its lapse is checked against what S3 holds.
    const variables = {
      QUOTA_BYTES_PER_OWNER: String(QUOTA),
      UPLOAD_URL_TTL_SECONDS: '2',
      RESERVATION_GRACE_SECONDS: '0',
    };
    const createUpload = await inProcess('createUpload', variables);
    const getUsage = await inProcess('getUsage', variables);
    const { token } = await newOwner('quota-landed');
    const issued = JSON.parse((await call(createUpload, token, uploadRequest(2500))).body ?? '{}');

    // Act
    expect((await postForm(issued.upload, pngOfSize(2500))).status).toBeLessThan(300);
    await sleep(2500);
    const read = JSON.parse((await call(getUsage, token, { method: 'GET', path: '/usage' })).body ?? '{}');
    await waitForVerdict(token, issued.fileId);
    const settled = await usageWhen(token, (current) => current.usedBytes === 2500);

    // Assert: held (reserved, or already used if the verdict came first), never dropped.
    expect(read.reservedBytes + read.usedBytes).toBe(2500);
    expect(settled).toMatchObject({ usedBytes: 2500, reservedBytes: 0 });
  });
});

describe('the upload rate', () => {
  it(`spending the hourly budget 50 at a time: all 201 up to ${RATE}, then 429 with Retry-After`, async () => {
    // Arrange: no request is retried; a 429 before the budget is spent fails the test.
    const { token } = await newOwner('rate-hour');
    for (let wave = 0; wave < RATE / 50; wave++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => postUpload(token, 10)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(201));
    }

    // Act
    const spent = await Promise.all(Array.from({ length: 50 }, () => postUpload(token, 10)));
    const refused = await api('POST', '/uploads', {
      token,
      body: { filename: 'r.png', contentType: 'image/png', size: 10 },
    });
    const multipart = await api('POST', '/uploads/multipart', {
      token,
      body: { filename: 'r.mp4', contentType: 'video/mp4', size: 10 },
    });

    // Assert
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(3600 - 120);
    expect(retryAfter).toBeLessThanOrEqual(3600 + 60);
    expect(multipart.status).toBe(429);
    expect(spent.map((answer) => answer.status)).toEqual(Array(50).fill(429));
    expect(await usage(token)).toMatchObject({ uploadsThisHour: RATE, uploadsPerHour: RATE });
  }, 300_000);

  it('a client that waits Retry-After seconds is then issued its upload (a 4 s window, in process)', async () => {
    // Arrange: the createUpload function in process with 3 uploads per 4 s window.
    const createUpload = await inProcess('createUpload', {
      UPLOADS_PER_HOUR_PER_OWNER: '3',
      UPLOAD_RATE_WINDOW_SECONDS: '4',
    });
    const { token } = await newOwner('rate-window');
    const issued = [];
    for (let i = 0; i < 3; i++) issued.push(await call(createUpload, token, uploadRequest(100)));

    // Act
    const refused = await call(createUpload, token, uploadRequest(100));
    const retryAfter = Number(refused.headers?.['retry-after']);
    await sleep(retryAfter * 1000);
    const honoured = await call(createUpload, token, uploadRequest(100));

    // Assert
    expect(issued.map((answer) => answer.statusCode)).toEqual([201, 201, 201]);
    expect(refused.statusCode).toBe(429);
    expect(JSON.parse(refused.body ?? '{}')).toMatchObject({ error: { code: 'rate_limited' } });
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    expect(honoured.statusCode).toBe(201);
  }, 30_000);
});

describe('GET /usage', () => {
  it('is each owner’s own, starts empty, and needs a token', async () => {
    // Arrange
    const alice = await newOwner('usage-alice');
    const bob = await newOwner('usage-bob');
    await requestUpload(alice.token, { filename: 'a.png', contentType: 'image/png', size: 1234 });

    // Act
    const bobs = await usage(bob.token);
    const alices = await usage(alice.token);
    const anonymous = await api('GET', '/usage');
    const forged = await api('GET', '/usage', { token: `${alice.token.slice(0, -4)}AAAA` });

    // Assert
    expect(bobs).toEqual({
      usedBytes: 0,
      reservedBytes: 0,
      quotaBytes: QUOTA,
      uploadsThisHour: 0,
      uploadsPerHour: RATE,
    });
    expect(alices).toMatchObject({ reservedBytes: 1234, uploadsThisHour: 1 });
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(forged.status).toBe(401);
  });

  it.each([
    ['an unknown query parameter', '/usage?owner=someone'],
    ['another owner named in the query', '/usage?sub=usage-alice'],
  ])('refuses %s with 400', async (_, path) => {
    const { token } = await newOwner('usage-hostile');

    const answer = await api('GET', path, { token });

    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});

describe('the usage object on Ceph RGW', () => {
  it('compare-and-swap: 40 concurrent changes of one shard of an owner’s usage all land, none lost or applied twice', async () => {
    // Arrange: the validator's store (it settles verdicts), in process with its role.
    const session = await assumeFunctionRole('validateUpload', 'limits-cas');
    const { store } = await createRuntime(await functionEnvironment(session), { s3: roleS3Client(session) });
    const owner = ownerOf((await newOwner('cas')).sub);

    // A change that loses for 3 s gives up (429) having written nothing: its caller tries again.
    const change = async (): Promise<number> => {
      for (let tries = 1; ; tries++) {
        try {
          await store.changeUsage(owner, 7, (record) => ({
            record: { ...record, usedBytes: record.usedBytes + 1 },
            result: undefined,
          }));
          return tries;
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'rate_limited') || tries === 10) throw error;
        }
      }
    };

    // Act
    const tries = await Promise.all(Array.from({ length: 40 }, change));

    // Assert
    expect(tries).toHaveLength(40);
    expect((await store.readUsage(owner, 7)).record.usedBytes).toBe(40);
  }, 60_000);

  it('a full read lists the owner’s shards in one page: every one of the 64 and the claim, and nothing else counted', async () => {
    // Arrange: GET /usage's store, with its role; the owner's 64 shards piled up by hand.
    const session = await assumeFunctionRole('getUsage', 'limits-list');
    const { store } = await createRuntime(await functionEnvironment(session), { s3: roleS3Client(session) });
    const { sub, token } = await newOwner('usage-piled');
    const owner = ownerOf(sub);
    const put = (Key: string, usedBytes: number) =>
      adminS3.send(
        new PutObjectCommand({
          Bucket: stack.stateBucket,
          Key,
          Body: JSON.stringify({ usedBytes, open: {}, released: {}, issued: [] }),
        }),
      );
    await Promise.all([put(usageKey(owner, 5), 7), put(usageKey(owner, 63), 11)]);
    await put(gatheringClaimKey(owner), 0);

    // Act + Assert: two shards and the claim, then all 64 and the claim
    expect((await store.listUsageShards(owner, 64))?.sort((a, b) => a - b)).toEqual([5, 63]);
    expect(await usage(token)).toMatchObject({ usedBytes: 18 });
    await Promise.all(Array.from({ length: 64 }, (_, shard) => put(usageKey(owner, shard), 1)));
    expect(await store.listUsageShards(owner, 64)).toHaveLength(64);
    expect(await usage(token)).toMatchObject({ usedBytes: 64 });

    // A key no store writes there makes the page too short: every shard is read instead.
    await put(`${usageKey(owner, 0)}x`, 1000);
    expect(await store.listUsageShards(owner, 64)).toBeUndefined();
    expect(await usage(token)).toMatchObject({ usedBytes: 64 });
  }, 60_000);

  it('RGW takes If-Match unquoted only, and refuses a stale ETag with 412', async () => {
    // Arrange
    const owner = ownerOf((await newOwner('cas-etag')).sub);
    const Key = usageKey(owner, 0);
    const body = JSON.stringify({ usedBytes: 0, open: {}, released: {}, issued: [] });
    await adminS3.send(
      new PutObjectCommand({ Bucket: stack.stateBucket, Key, Body: body, IfNoneMatch: '*' }),
    );
    const { ETag = '' } = await adminS3.send(new GetObjectCommand({ Bucket: stack.stateBucket, Key }));
    const put = async (IfMatch: string, used: number) => {
      try {
        const Body = JSON.stringify({ ...JSON.parse(body), usedBytes: used });
        await adminS3.send(new PutObjectCommand({ Bucket: stack.stateBucket, Key, Body, IfMatch }));
        return 'written';
      } catch (error) {
        return classifyS3Error(error);
      }
    };

    // Act
    const quoted = await put(ETag, 1);
    const unquoted = await put(ETag.replaceAll('"', ''), 2);
    const stale = await put(ETag.replaceAll('"', ''), 3);
    const created = await adminS3
      .send(new PutObjectCommand({ Bucket: stack.stateBucket, Key, Body: body, IfNoneMatch: '*' }))
      .then(() => 'written', classifyS3Error);

    // Assert: the SDK sends ETags as S3 gives them, quoted; RGW matches only the bare value.
    expect(ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(quoted).toBe('replaced');
    expect(unquoted).toBe('written');
    expect(stale).toBe('replaced');
    expect(created).toBe('replaced');
    const { Body } = await adminS3.send(new GetObjectCommand({ Bucket: stack.stateBucket, Key }));
    expect(JSON.parse((await Body?.transformToString()) ?? '{}')).toMatchObject({ usedBytes: 2 });
  });
});
