import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The Lambda Invoke API's path, as the SDK's LambdaClient sends it. */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Lambda's limit on an asynchronous invocation's payload. */
const MAX_PAYLOAD_BYTES = 256 * 1024;
/**
 * Lambda retries a failed asynchronous invocation twice, about 1 and 2 minutes
 * later; the local stack waits as many seconds.
 */
export const LOCAL_RETRY_DELAYS_MS: readonly number[] = [1000, 2000];

export interface AsyncInvocationSettings {
  /** The functions that may be invoked this way, with the file their dead letters are appended to. */
  deadLetterFiles: Readonly<Record<string, string>>;
  /** serverless offline's Invoke URL of a function (run synchronously there, its error read). */
  invokeUrl: (functionName: string) => string;
  region: string;
  log: (line: string) => void;
  /** The waits before each retry (tests shorten them). */
  retryDelaysMs?: readonly number[];
  /**
   * How long one run may take before it counts as failed, as Lambda's timeout does (default 60 s:
   * the deliverer's 30 s and a cold start). serverless offline never answers for a worker it ends
   * while the function runs (it does so whenever serverless-esbuild rebuilds on a source change).
   */
  invokeTimeoutMs?: number;
}

/**
 * The record Lambda sends an on-failure destination once an asynchronous
 * invocation's retries are exhausted: the payload as invoked, and the last error.
 */
export interface DeadLetterRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: unknown;
}

type Attempt = { ok: true } | { ok: false; status: number; error: unknown };

async function invokeOnce(url: string, payload: string, timeoutMs: number): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const answer = await fetch(url, { method: 'POST', body: payload, signal: controller.signal });
    const text = await answer.text();
    if (answer.ok && !answer.headers.has('x-amz-function-error')) return { ok: true };
    let error: unknown = text;
    try {
      error = JSON.parse(text);
    } catch {}
    return { ok: false, status: answer.status, error };
  } catch (error) {
    const errorType = controller.signal.aborted ? 'Timeout' : 'Unreachable';
    const errorMessage = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : (error as Error).message;
    return { ok: false, status: 0, error: { errorType, errorMessage } };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one accepted invocation as Lambda does: tries, retries, then the dead-letter record. */
async function run(
  settings: AsyncInvocationSettings,
  functionName: string,
  payload: string,
  requestId: string,
): Promise<void> {
  const delays = settings.retryDelaysMs ?? LOCAL_RETRY_DELAYS_MS;
  let last: Attempt = { ok: true };
  for (let invocation = 1; invocation <= delays.length + 1; invocation++) {
    last = await invokeOnce(settings.invokeUrl(functionName), payload, settings.invokeTimeoutMs ?? 60_000);
    if (last.ok) return;
    settings.log(`${functionName} failed (invocation ${invocation}, ${requestId})`);
    const delay = delays[invocation - 1];
    if (delay !== undefined) await new Promise((done) => setTimeout(done, delay));
  }
  const failed = last as Extract<Attempt, { ok: false }>;
  const record: DeadLetterRecord = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId,
      functionArn: `arn:aws:lambda:${settings.region}:000000000000:function:${functionName}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: delays.length + 1,
    },
    requestPayload: JSON.parse(payload),
    responseContext: { statusCode: failed.status, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: failed.error,
  };
  const file = settings.deadLetterFiles[functionName] as string;
  appendFileSync(file, `${JSON.stringify(record)}\n`);
  settings.log(`${functionName}: retries exhausted, dead letter appended to ${file}`);
}

/** Answers a request of the local stack's control ports: a status, and a JSON body if any. */
export const answer = (response: ServerResponse, status: number, body?: unknown) => {
  response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  response.end(body === undefined ? undefined : JSON.stringify(body));
};

/**
 * The local stand-in for Lambda's asynchronous invocation (`InvocationType:
 * Event`), which serverless offline runs once and forgets: accepts the event
 * with 202 at once, runs the function through serverless offline's Invoke API,
 * retries a failure after {@link LOCAL_RETRY_DELAYS_MS}, and once retries are
 * exhausted appends Lambda's on-failure record to the function's dead-letter
 * file (JSON lines). Only the functions given a dead-letter file may be
 * invoked. Returns false for a request that is not an Invoke call, to leave it
 * to the caller.
 */
export function asyncInvocations(settings: AsyncInvocationSettings) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const match = INVOKE_PATH.exec(request.url ?? '');
    if (!match || request.method !== 'POST') return false;
    const functionName = decodeURIComponent(match[1] ?? '');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) break;
      chunks.push(chunk as Buffer);
    }
    if (size > MAX_PAYLOAD_BYTES) {
      answer(response, 413, { Type: 'User', message: 'RequestEntityTooLargeException' });
      return true;
    }
    if (!(functionName in settings.deadLetterFiles)) {
      answer(response, 404, { Type: 'User', message: `Function not found: ${functionName}` });
      return true;
    }
    if (request.headers['x-amz-invocation-type'] !== 'Event') {
      answer(response, 400, { Type: 'User', message: 'only InvocationType Event is served here' });
      return true;
    }
    const payload = Buffer.concat(chunks).toString('utf8');
    try {
      JSON.parse(payload);
    } catch {
      answer(response, 400, { Type: 'User', message: 'InvalidRequestContentException' });
      return true;
    }
    const requestId = randomUUID();
    response.writeHead(202, { 'x-amzn-requestid': requestId }).end();
    void run(settings, functionName, payload, requestId);
    return true;
  };
}
