#!/usr/bin/env bash
# Set up, build (Release) and run the main job on a sample image. Until a disk driver lands this
# is a tmpfs demo through the NetBSD-compatible C API.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ukfs_demo
./build/release/examples/ukfs_demo
