#!/usr/bin/env bash
# npm start: the whole local stack in one command on a fresh Debian/Ubuntu machine.
# Installs what is missing (npm dependencies, Ceph packages), then hands over to
# scripts/start.ts, which starts Ceph RGW, provisions it and runs serverless offline.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/osls || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[start] installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/install-ceph.sh
# The SDK's "future releases need Node 22" warning, once per process; Lambda runs nodejs22.x.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
# Flags: --quiet (errors only on the terminal) or --logs (all of serverless offline's output); see start.ts.
exec node_modules/.bin/tsx scripts/start.ts "$@"
