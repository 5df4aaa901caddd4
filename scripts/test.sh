#!/usr/bin/env bash
# Set up, build and run the whole test suite: the g++ Debug build with ASan and UBSan (unit,
# integration and C-client tests), then the clang libFuzzer build's smoke runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

jobs=$(nproc)
cmake --preset debug-asan >/dev/null
cmake --build --preset debug-asan -j "$jobs"
ctest --preset debug-asan -j "$jobs" --timeout 600

if command -v clang++ >/dev/null; then
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$jobs"
    ctest --preset fuzz -L fuzz -j "$jobs" --timeout 600
fi
