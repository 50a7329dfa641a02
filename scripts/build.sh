#!/usr/bin/env bash
# Configures and builds mrapfs into build/ (or $MRAP_BUILD_DIR). Extra arguments
# go to the CMake configure step, e.g. -DMRAP_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MRAP_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
