#!/usr/bin/env bash
# Installs Debian's chromium for the browser test when missing (never a browser download).
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
echo "[test] installing Debian's chromium for the browser test…" >&2
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
