#!/usr/bin/env bash
# Runs every test. Usage: scripts/test.sh [BUILD_DIR]   (set up with scripts/setup.sh first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
