import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureLocalStack } from '../../scripts/local-stack.js';
import { stackSettings } from '../../scripts/stack-settings.js';
import { TEST_LIMITS, TEST_STS, TEST_SWEEP } from '../support/limits.js';
import { TEST_WEBHOOK_PATH, TEST_WEBHOOK_SECRET } from '../support/webhooks.js';
import { startWebhookReceiver, stopWebhookReceiver } from './webhook-receiver.js';

/**
 * Integration tests drive the real local stack: reuse one that `npm start`
 * already runs, or start it (Ceph RGW + serverless offline, quietly: its
 * output stays in .local/) and stop it after. When the real S3 cannot be
 * started the run fails; it never skips. A stack started here sends its
 * webhooks to the tests' receiver, which runs for the whole run, and runs
 * with the per-owner limits the limit tests are designed around, on a gateway
 * that issues role sessions short enough for the fault tests to see one expire.
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
  const port = stackSettings().webhookTestPort;
  const receiver = await startWebhookReceiver(port, TEST_WEBHOOK_SECRET);
  try {
    const stack = await ensureLocalStack({
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
