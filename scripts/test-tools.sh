#!/usr/bin/env bash
# Installs the non-Debian tools the integration tests use: s3rver (npm), a
# third-party S3 server that mrapfs's plain-bucket mode is also tested against.
# Versions are pinned by tests/npm/package-lock.json; `npm ci` reinstalls only
# when the lock changed, so repeated runs are fast and work offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/tests/npm
if ! command -v npm >/dev/null; then
  echo "test-tools.sh: installing Debian's npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends npm
fi
stamp=$dir/node_modules/.installed-lock
if [ -x "$dir/node_modules/.bin/s3rver" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
echo "test-tools.sh: npm ci in tests/npm (s3rver)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
