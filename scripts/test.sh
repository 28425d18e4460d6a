#!/usr/bin/env bash
# npm test: every test, on a fresh Debian/Ubuntu machine too. Installs what the
# tests need when missing (npm dependencies, Ceph for the real S3, Debian's
# chromium for the browser test), then builds the client package, type-checks, lints, runs the unit tests,
# and runs the integration tests against the real local stack (reused when
# `npm start` already runs it, otherwise started and stopped by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/vitest || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
bash scripts/install-ceph.sh
bash scripts/install-chromium.sh
# The SDK warns every process (each vitest worker) on Node < 22 that future
# releases will need 22; Lambda runs nodejs22.x. Not a test result: silenced.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# The client package's dist/ (ESM and .d.ts): the tests and examples import it as @presign/client.
node_modules/.bin/tsc -p client
node_modules/.bin/tsc --noEmit
node_modules/.bin/biome check .
node_modules/.bin/vitest run --project unit
node_modules/.bin/vitest run --project integration
