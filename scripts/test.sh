#!/usr/bin/env bash
# Installs what the tests need, builds mrapfs, and runs every test:
# the C unit tests through CTest, then the integration tests through pytest
# (Debian's /usr/bin/python3, mounting for real against the local emulator).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
bash scripts/test-tools.sh
bash scripts/build.sh
export MRAP_BUILD_DIR=${MRAP_BUILD_DIR:-$root/build}

echo "== unit tests (ctest)"
(cd "$MRAP_BUILD_DIR" && ctest --output-on-failure --timeout 300)

echo "== integration tests (pytest)"
# The first python3 on PATH may be a separate install without Debian's packages.
/usr/bin/python3 -m pytest -p no:cacheprovider -q tests/integration "$@"
