import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureLocalStack, healthy, readStackInfo } from '../../scripts/local-stack.js';
import { portsBeside, stackSettings } from '../../scripts/stack-settings.js';
import { TEST_LIMITS, TEST_STS, TEST_SWEEP } from '../support/limits.js';
import { TEST_WEBHOOK_PATH, TEST_WEBHOOK_SECRET } from '../support/webhooks.js';
import { startWebhookReceiver, stopWebhookReceiver } from './webhook-receiver.js';

/** Where the tests keep a stack of their own beside one that `npm start` runs. */
const TEST_STACK_DIR = '.local/test';

/**
 * Integration tests drive the real local stack, with the settings they are
 * written around: the per-owner limits of the limit tests, webhooks to the
 * tests' receiver (which runs for the whole run), a sweep every 10 s, and a
 * gateway that issues role sessions short enough for the fault tests to see
 * one expire. Started here and stopped after (its output stays in the stack's
 * folder). A stack `npm start` runs has the settings its user chose: the tests
 * leave it alone and start theirs beside it, in .local/test on other ports
 * (API 60 above, RGW 30 above), which the test files read from the
 * environment they inherit. When the real S3 cannot be started the run fails;
 * it never skips.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Test workers start after the global setup and inherit this: the SDK's
  // "future releases need Node 22" warning is no test result (Lambda runs 22).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The client, Uppy and React tests use the built packages (@presign/client → client/dist…), as an
  // app would: built here too, so that a run of some integration files alone never tests a stale build.
  const root = resolve(import.meta.dirname, '..', '..');
  for (const project of ['client', 'packages/uppy', 'packages/react'])
    execFileSync(resolve(root, 'node_modules/.bin/tsc'), ['-p', project], { cwd: root, stdio: 'inherit' });
  const running = readStackInfo();
  const beside = running !== undefined && (await healthy(running));
  if (beside) {
    Object.assign(process.env, portsBeside({ api: 60, rgw: 30 }), { PRESIGN_LOCAL_DIR: TEST_STACK_DIR });
    process.stderr.write(
      `[local stack] leaving the stack at ${running.apiUrl} alone: the tests start their own in ${TEST_STACK_DIR} (API on port ${process.env.HTTP_PORT})\n`,
    );
  }
  const port = stackSettings().webhookTestPort;
  const receiver = await startWebhookReceiver(port, TEST_WEBHOOK_SECRET);
  try {
    const stack = await ensureLocalStack({
      ...(beside ? { localDir: TEST_STACK_DIR } : {}),
      malwareScan: 'none',
      environment: {
        WEBHOOK_URL: `http://127.0.0.1:${port}${TEST_WEBHOOK_PATH}`,
        WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        QUOTA_BYTES_PER_OWNER: String(TEST_LIMITS.QUOTA_BYTES_PER_OWNER),
        UPLOADS_PER_HOUR_PER_OWNER: String(TEST_LIMITS.UPLOADS_PER_HOUR_PER_OWNER),
        PRESIGN_LOCAL_SWEEP_SECONDS: String(TEST_SWEEP.PRESIGN_LOCAL_SWEEP_SECONDS),
        PENDING_SWEEP_AFTER_SECONDS: String(TEST_SWEEP.PENDING_SWEEP_AFTER_SECONDS),
        RGW_STS_MIN_SESSION_SECONDS: String(TEST_STS.RGW_STS_MIN_SESSION_SECONDS),
      },
    });
    return async () => {
      await stack.stop();
      await stopWebhookReceiver(receiver);
    };
  } catch (error) {
    await stopWebhookReceiver(receiver);
    throw error;
  }
}
