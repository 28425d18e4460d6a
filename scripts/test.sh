#!/usr/bin/env bash
# npm test: every test, on a fresh Debian/Ubuntu machine too. Installs what the
# tests need when missing (npm dependencies, Ceph for the real S3, Debian's
# chromium for the browser test and faketime), then builds the client package,
# type-checks, lints, runs the unit tests twice (today, and with the clock a year
# ahead, so that a test that only passes on the day it was written fails at
# once), and runs the integration tests against a real local stack of their own
# (started and stopped by the tests, beside any stack `npm start` runs).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/vitest || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
bash scripts/install-ceph.sh
bash scripts/install-test-tools.sh
# The SDK warns every process (each vitest worker) on Node < 22 that future
# releases will need 22; Lambda runs nodejs22.x. Not a test result: silenced.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# The packages' dist/ (ESM and .d.ts): the tests and examples import them as @presign/client, @presign/uppy, @presign/react.
node_modules/.bin/tsc -p client && node_modules/.bin/tsc -p packages/uppy && node_modules/.bin/tsc -p packages/react
node_modules/.bin/tsc --noEmit
node_modules/.bin/biome check .
node_modules/.bin/vitest run --project unit
echo "[test] the unit tests again, with the clock a year ahead (faketime +365d)" >&2
ahead=$(( $(faketime -f '+365d' node -e 'process.stdout.write(String(Math.floor(Date.now() / 1000)))') - $(date +%s) ))
if (( ahead < 364 * 86400 )); then
  echo "[test] faketime did not move Node's clock ahead (${ahead} s): the check would prove nothing" >&2
  exit 1
fi
faketime -f '+365d' node_modules/.bin/vitest run --project unit --reporter=dot
node_modules/.bin/vitest run --project integration
