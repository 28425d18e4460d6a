import { ensureLocalStack } from '../../scripts/local-stack.js';

/**
 * Integration tests drive the real local stack: reuse one that `npm start`
 * already runs, or start it (Ceph RGW + serverless offline, quietly: its
 * output stays in .local/) and stop it after. When the real S3 cannot be
 * started the run fails; it never skips.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Test workers start after the global setup and inherit this: the SDK's
  // "future releases need Node 22" warning is no test result (Lambda runs 22).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await ensureLocalStack();
  return stack.stop;
}
