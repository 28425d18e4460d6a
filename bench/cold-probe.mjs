// Runs in a fresh `node` process: imports one bundle, serves one request, and
// prints how long each took (ms since the process's time origin).
import { pathToFileURL } from 'node:url';

const [bundle, eventJson] = process.argv.slice(2);
const started = performance.now();
const module = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'presign-bench-cold',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:presign-bench-cold',
  memoryLimitInMB: '512',
  awsRequestId: 'cold-1',
  logGroupName: '/aws/lambda/presign-bench-cold',
  logStreamName: 'cold',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
let status;
try {
  const response = await module.handler(JSON.parse(eventJson), context);
  status = response?.statusCode ?? 'ok';
} catch (error) {
  status = `threw ${error?.name ?? error}`;
}
const served = performance.now();
process.stdout.write(
  `@@cold@@${JSON.stringify({ started, importMs: imported - started, firstRequestMs: served - imported, totalMs: served, status })}\n`,
);
process.exit(0);
