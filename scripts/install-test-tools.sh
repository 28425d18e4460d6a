#!/usr/bin/env bash
# Installs the Debian packages the tests and the bench use beside Ceph, when
# missing: chromium for the browser tests (never a browser download), faketime,
# which runs the unit suite with the clock a year ahead, and unzip, which opens
# the packaged function bundles for the bench's cold section.
set -euo pipefail
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v faketime >/dev/null || missing+=(faketime)
command -v unzip >/dev/null || missing+=(unzip)
(( ${#missing[@]} == 0 )) && exit 0
echo "[test] installing Debian's ${missing[*]} for the tests…" >&2
sudo_cmd=()
if (( EUID != 0 )); then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
