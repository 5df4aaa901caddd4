#!/usr/bin/env bash
# Install the built project into a scratch prefix, then build tests/c_client/netbsd_client.c
# against the installed copy twice: with pkg-config, and with CMake's find_package(ukfs).
# Usage: run.sh BUILD_DIR C_COMPILER "C_FLAGS"
set -euo pipefail
build=$1 cc=$2 cflags=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ukfs-client-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
libdir=$(pkg-config --variable=libdir ukfs)

# pkg-config, shared library
# shellcheck disable=SC2046,SC2086
"$cc" $cflags -o "$work/client_pc" "$here/netbsd_client.c" $(pkg-config --cflags --libs ukfs) -lstdc++
LD_LIBRARY_PATH="$libdir" "$work/client_pc"

# find_package(ukfs), static library
cmake -S "$here/cmake_consumer" -B "$work/consumer" -G Ninja -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCLIENT_SOURCE="$here/netbsd_client.c" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/netbsd_client"
