#!/usr/bin/env bash
# Installs the Debian 12 packages mrapfs needs to build, test and demo.
# Runs `apt-get update` once, then one `apt-get install`; skips both when every
# package is already installed, so repeated runs are fast and work offline.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev libxml2-dev
  python3 python3-pytest python3-cryptography python3-awscrt awscli
  attr curl ca-certificates
  rsync cpio zstd restic duplicity rclone
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
