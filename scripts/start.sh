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
exec node_modules/.bin/tsx scripts/start.ts "$@"
