import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncInvocations, type DeadLetterRecord } from '../../../scripts/async-invocations.js';
import { loopbackServers } from '../../support/loopback-servers.js';
import { until } from '../../support/until.js';

const FUNCTION = 'presign-local-deliverWebhook';
const loopback = loopbackServers();
const scratchDirs: string[] = [];

/** serverless offline's Invoke API as the stand-in sees it: fails the first `failures` runs (or `hang`s). */
async function offline(failures: number | 'hang') {
  const runs: unknown[] = [];
  const url = await loopback.listen(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    runs.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (failures === 'hang') return;
    if (runs.length <= failures) {
      response.writeHead(200, { 'x-amz-function-error': 'Unhandled' });
      response.end(JSON.stringify({ errorType: 'Error', errorMessage: `run ${runs.length} failed` }));
    } else response.writeHead(200).end('null');
  });
  return { url, runs };
}

/** The stand-in on a port of its own, with retries 10 and 20 ms apart. */
async function standIn(offlineUrl: string, invokeTimeoutMs?: number) {
  const scratch = mkdtempSync(join(tmpdir(), 'presign-dlq-'));
  scratchDirs.push(scratch);
  const deadLetters = join(scratch, 'webhook-dlq.jsonl');
  const handle = asyncInvocations({
    deadLetterFiles: { [FUNCTION]: deadLetters },
    invokeUrl: (name) => `${offlineUrl}/2015-03-31/functions/${name}/invocations`,
    region: 'us-east-1',
    log: () => undefined,
    retryDelaysMs: [10, 20],
    ...(invokeTimeoutMs ? { invokeTimeoutMs } : {}),
  });
  const url = await loopback.listen(async (request, response) => {
    if (!(await handle(request, response))) response.writeHead(418).end();
  });
  const invoke = (name: string, payload: unknown, type = 'Event') =>
    fetch(`${url}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      headers: { 'x-amz-invocation-type': type },
      body: JSON.stringify(payload),
    });
  const records = () =>
    readFileSync(deadLetters, { encoding: 'utf8', flag: 'a+' })
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as DeadLetterRecord);
  return { invoke, records, url };
}

afterEach(async () => {
  await loopback.closeAll();
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the local asynchronous invocation', () => {
  it('answers 202 at once and runs the function once when it succeeds', async () => {
    // Arrange
    const lambda = await offline(0);
    const { invoke, records } = await standIn(lambda.url);

    // Act
    const answer = await invoke(FUNCTION, { id: 'msg_1' });
    await until(() => lambda.runs.length === 1);
    await new Promise((done) => setTimeout(done, 60));

    // Assert
    expect(answer.status).toBe(202);
    expect(lambda.runs).toEqual([{ id: 'msg_1' }]);
    expect(records()).toEqual([]);
  });

  it('retries a failed run twice and stops at the first success', async () => {
    // Arrange
    const lambda = await offline(2);
    const { invoke, records } = await standIn(lambda.url);

    // Act
    await invoke(FUNCTION, { id: 'msg_2' });
    await until(() => lambda.runs.length === 3);
    await new Promise((done) => setTimeout(done, 60));

    // Assert
    expect(lambda.runs).toHaveLength(3);
    expect(records()).toEqual([]);
  });

  it('after three failed runs appends Lambda’s on-failure record, the payload and the last error', async () => {
    // Arrange
    const lambda = await offline(3);
    const { invoke, records } = await standIn(lambda.url);

    // Act
    await invoke(FUNCTION, { id: 'msg_3' });
    await until(() => records().length === 1);

    // Assert
    expect(lambda.runs).toHaveLength(3);
    expect(records()).toEqual([
      {
        version: '1.0',
        timestamp: expect.any(String),
        requestContext: {
          requestId: expect.any(String),
          functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${FUNCTION}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: { id: 'msg_3' },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'Error', errorMessage: 'run 3 failed' },
      },
    ]);
  });

  it('counts a run that never answers as failed after its timeout', async () => {
    // Arrange
    const lambda = await offline('hang');
    const { invoke, records } = await standIn(lambda.url, 50);

    // Act
    await invoke(FUNCTION, { id: 'msg_4' });
    await until(() => records().length === 1);

    // Assert
    expect(lambda.runs).toHaveLength(3);
    expect(records()[0]?.responsePayload).toEqual({
      errorType: 'Timeout',
      errorMessage: 'no answer within 50 ms',
    });
  });

  it.each([
    ['another function', 'presign-local-validateUpload', 'Event', 404],
    ['a synchronous invocation', FUNCTION, 'RequestResponse', 400],
  ])('refuses %s and runs nothing', async (_, name, type, status) => {
    // Arrange
    const lambda = await offline(0);
    const { invoke } = await standIn(lambda.url);

    // Act
    const answer = await invoke(name, { id: 'msg_5' }, type);
    await new Promise((done) => setTimeout(done, 60));

    // Assert
    expect(answer.status).toBe(status);
    expect(lambda.runs).toEqual([]);
  });

  it('leaves any other request to the event bridge', async () => {
    // Arrange
    const lambda = await offline(0);
    const { url } = await standIn(lambda.url);

    // Act
    const answer = await fetch(`${url}/events`, { method: 'POST', body: '{}' });

    // Assert
    expect(answer.status).toBe(418);
  });
});
