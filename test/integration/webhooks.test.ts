import { existsSync, readFileSync } from 'node:fs';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { webhookId } from '../../lib/webhooks/file-validated-event.js';
import type { DeadLetterRecord } from '../../scripts/async-invocations.js';
import { stackSettings, WEBHOOK_DLQ_FILE } from '../../scripts/stack-settings.js';
import { HTML_PAGE, pngOfSize } from '../support/sample-files.js';
import { TEST_WEBHOOK_PATH, TEST_WEBHOOK_SECRET } from '../support/webhooks.js';
import { adminS3, newOwner, postForm, requestUpload, stack, waitForVerdict } from './stack.js';
import type { Behavior, Delivery } from './webhook-receiver.js';

/**
 * End to end on the local stack: RGW → bridge → validator (serverless
 * offline) → the bridge's asynchronous invoke → deliverer (serverless
 * offline) → the tests' receiver, which the global setup runs on loopback
 * and which verifies every signature with the test secret.
 */

const RECEIVER = `http://127.0.0.1:${stackSettings().webhookTestPort}`;
const WEBHOOK_URL = `${RECEIVER}${TEST_WEBHOOK_PATH}`;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function control(fileId: string, behavior: Behavior): Promise<void> {
  const answer = await fetch(`${RECEIVER}/control`, {
    method: 'POST',
    body: JSON.stringify({ fileId, behavior }),
  });
  expect(answer.status).toBe(204);
}

async function deliveries(fileId?: string): Promise<Delivery[]> {
  const answer = await fetch(`${RECEIVER}/deliveries${fileId ? `?fileId=${fileId}` : ''}`);
  return (await answer.json()) as Delivery[];
}

/** Polls the receiver until `done` holds for a file's deliveries (or `seconds` pass). */
async function waitForDeliveries(
  fileId: string,
  done: (found: Delivery[]) => boolean,
  seconds = 30,
): Promise<Delivery[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await deliveries(fileId);
    if (done(found)) return found;
    if (Date.now() > deadline) {
      throw new Error(`deliveries of ${fileId} after ${seconds} s: ${JSON.stringify(found)}`);
    }
    await sleep(250);
  }
}

/** The dead-letter records of the local stack for one file. */
function deadLetters(fileId: string): DeadLetterRecord[] {
  if (!existsSync(WEBHOOK_DLQ_FILE)) return [];
  return readFileSync(WEBHOOK_DLQ_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DeadLetterRecord)
    .filter(
      (record) =>
        (record.requestPayload as { event?: { data?: { fileId?: string } } }).event?.data?.fileId === fileId,
    );
}

/** The webhook-id the stack must send for a verdict on the file under `key`. */
async function expectedId(key: string, status: 'passed' | 'failed', reason?: string): Promise<string> {
  const { Versions = [] } = await adminS3.send(
    new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
  );
  const first = Versions.filter((version) => version.Key === key).at(-1);
  return webhookId({ bucket: stack.bucket, key, versionId: first?.VersionId ?? '', status, reason });
}

async function upload(
  token: string,
  bytes: Buffer,
  filename: string,
  before?: (fileId: string) => Promise<void>,
  clientMetadata?: Record<string, unknown>,
) {
  const issued = await requestUpload(token, {
    filename,
    contentType: 'image/png',
    size: bytes.length,
    ...(clientMetadata ? { clientMetadata } : {}),
  });
  await before?.(issued.fileId);
  const posted = await postForm(issued.upload, bytes);
  expect(posted.status).toBe(204);
  return issued;
}

beforeAll(async () => {
  // Fail, never skip: these tests need the stack to post to the receiver the global setup runs.
  if (stack.webhookUrl !== WEBHOOK_URL) {
    throw new Error(
      `the running stack sends webhooks to ${stack.webhookUrl ?? 'nowhere'}, not to the tests' receiver: ` +
        `stop it (npm test then starts its own), or start it with WEBHOOK_URL=${WEBHOOK_URL} ` +
        `WEBHOOK_SECRET=${TEST_WEBHOOK_SECRET} npm start`,
    );
  }
  const probe = await fetch(`${RECEIVER}/deliveries`).catch(() => undefined);
  if (probe?.status !== 200) throw new Error(`the tests' webhook receiver does not answer at ${RECEIVER}`);
});

describe('file.validated webhooks from the local stack', () => {
  it('a passed file and a failed file each get exactly one signed event, with the documented payload', async () => {
    // Arrange
    const { token } = await newOwner('wh-verdicts');
    const png = pngOfSize(3210);

    // Act
    const passed = await upload(token, png, 'cat.png', undefined, { orderId: 'A-17', tags: ['x'], n: 3 });
    const failed = await upload(token, HTML_PAGE, 'page.png');
    const [passedVerdict, failedVerdict] = await Promise.all([
      waitForVerdict(token, passed.fileId),
      waitForVerdict(token, failed.fileId),
    ]);
    const [passedGot, failedGot] = await Promise.all([
      waitForDeliveries(passed.fileId, (found) => found.length > 0),
      waitForDeliveries(failed.fileId, (found) => found.length > 0),
    ]);
    await sleep(3000); // anything more would have arrived by now

    // Assert
    expect(passedVerdict.status).toBe('passed');
    expect(failedVerdict.status).toBe('failed');
    for (const got of [await deliveries(passed.fileId), await deliveries(failed.fileId)]) {
      expect(got.every((delivery) => delivery.verified && delivery.answer === 204)).toBe(true);
      expect(new Set(got.map((delivery) => delivery.webhookId)).size).toBe(1);
    }
    expect(passedGot[0]?.webhookId).toBe(await expectedId(passed.key, 'passed'));
    expect(failedGot[0]?.webhookId).toBe(
      await expectedId(failed.key, 'failed', String(failedVerdict.reason)),
    );
    expect(passedGot[0]?.event).toEqual({
      type: 'file.validated',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: {
        fileId: passed.fileId,
        status: 'passed',
        reason: null,
        detectedType: 'image/png',
        size: png.length,
        contentType: 'image/png',
        filename: 'cat.png',
        clientMetadata: { orderId: 'A-17', tags: ['x'], n: 3 },
      },
    });
    expect(failedGot[0]?.event?.data).toEqual({
      fileId: failed.fileId,
      status: 'failed',
      reason: failedVerdict.reason,
      detectedType: failedVerdict.detectedType ?? null,
      size: HTML_PAGE.length,
      contentType: 'image/png',
      filename: 'page.png',
      clientMetadata: null,
    });
    expect((await deliveries()).filter((delivery) => !delivery.verified)).toEqual([]);
  });

  it('a receiver that fails twice, then recovers, gets the event on the third try, with the same id', async () => {
    // Arrange
    const { token } = await newOwner('wh-flaky');

    // Act
    const issued = await upload(token, pngOfSize(2222), 'flaky.png', (fileId) =>
      control(fileId, { fail: 2 }),
    );
    const got = await waitForDeliveries(issued.fileId, (found) =>
      found.some((entry) => entry.answer === 204),
    );

    // Assert
    expect(got.map((delivery) => delivery.answer)).toEqual([503, 503, 204]);
    expect(got.every((delivery) => delivery.verified)).toBe(true);
    expect(new Set(got.map((delivery) => delivery.webhookId))).toEqual(
      new Set([await expectedId(issued.key, 'passed')]),
    );
    const gaps = got.slice(1).map((delivery, index) => delivery.receivedAt - (got[index]?.receivedAt ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(3900);
    expect(deadLetters(issued.fileId)).toEqual([]);
  });

  it('a receiver that never answers: verdicts keep landing, and the event ends in the dead-letter file', async () => {
    // Arrange
    const { token } = await newOwner('wh-dead');
    const hung = await upload(token, pngOfSize(1500), 'hung.png', (fileId) => control(fileId, 'hang'));
    await waitForDeliveries(hung.fileId, (found) => found.length > 0);

    // Act: another file, uploaded while the receiver hangs on the first one's deliveries
    const started = Date.now();
    const next = await upload(token, pngOfSize(1600), 'next.png');
    const nextVerdict = await waitForVerdict(token, next.fileId);
    const verdictAfter = Date.now() - started;
    const nextGot = await waitForDeliveries(next.fileId, (found) => found.length > 0);
    const hungGot = await waitForDeliveries(hung.fileId, () => deadLetters(hung.fileId).length > 0, 100);

    // Assert
    expect(nextVerdict.status).toBe('passed');
    expect(verdictAfter).toBeLessThan(10_000);
    expect(nextGot[0]?.answer).toBe(204);
    expect((await waitForVerdict(token, hung.fileId)).status).toBe('passed');
    // Three tries in each of three invocations (Lambda's first and its two retries), one id.
    expect(hungGot.map((delivery) => delivery.answer)).toEqual(Array(9).fill('hang'));
    const id = await expectedId(hung.key, 'passed');
    expect(new Set(hungGot.map((delivery) => delivery.webhookId))).toEqual(new Set([id]));
    const [record, ...more] = deadLetters(hung.fileId);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
        functionArn: expect.stringContaining(`:function:${stack.delivererFunction}:`),
      },
      requestPayload: {
        id,
        event: { type: 'file.validated', data: { fileId: hung.fileId, status: 'passed' } },
      },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: {
        errorMessage: expect.stringMatching(/not delivered after 3 tries: timeout, timeout, timeout/),
      },
    });
  }, 150_000);
});
