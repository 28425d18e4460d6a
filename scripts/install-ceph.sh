#!/usr/bin/env bash
# Installs Ceph's RADOS Gateway, monitor and OSD from the distribution when missing.
set -euo pipefail
missing=()
for tool in radosgw ceph-mon ceph-osd ceph radosgw-admin monmaptool; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
(( ${#missing[@]} == 0 )) && exit 0

echo "[start] installing Ceph (radosgw, ceph-mon, ceph-osd) for the local S3: missing ${missing[*]}…" >&2
sudo_cmd=()
if (( EUID != 0 )); then
  command -v sudo >/dev/null 2>&1 || { echo "[start] need root or sudo to apt-get install Ceph" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common curl >/dev/null
