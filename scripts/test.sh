#!/usr/bin/env bash
# Set up, build and run the whole test suite: the g++ Debug build with ASan and UBSan (unit,
# integration and C-client tests), then the clang libFuzzer build's smoke runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

jobs=$(nproc)
# Tests run two to a core: much of their time is spent waiting on the reference tools and on
# I/O, and the fuzz smoke runs last a fixed time, however many run at once.
test_jobs=$((jobs * 2))
cmake --preset debug-asan >/dev/null
cmake --build --preset debug-asan -j "$jobs"
ctest --preset debug-asan -j "$test_jobs" --timeout 600

if command -v clang++ >/dev/null; then
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$jobs"
    ctest --preset fuzz -L fuzz -j "$test_jobs" --timeout 600
fi
