#!/usr/bin/env bash
# Set up, build (Release) and run the main job on a sample image: an ext4 image made by mke2fs,
# filled and read back with fsu (no mount, no root needed for this part), judged by e2fsck;
# then the tmpfs demo of the NetBSD-compatible C API.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target fsu ukfs_demo

fsu=./build/release/tools/fsu/fsu
work=$(mktemp -d /tmp/ukfs-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
img=$work/disk.img

echo "== an empty ext4 image (mke2fs), filled through fsu"
truncate -s 32M "$img"
mke2fs -q -F -t ext4 -E root_owner=0:0 "$img"
"$fsu" cp "$img" -R host:docs /docs
"$fsu" mkdir "$img" -p /etc/ukfs
echo "hello from ukfs" | "$fsu" write "$img" /etc/ukfs/motd
"$fsu" ln "$img" -s /etc/ukfs/motd /motd
"$fsu" chmod "$img" 0640 /etc/ukfs/motd

echo "== read back"
"$fsu" ls "$img" -lR /
"$fsu" cat "$img" /motd
"$fsu" df "$img" -h
"$fsu" diff "$img" -r host:docs /docs && echo "docs/ and /docs are the same"

echo "== e2fsck -fn"
e2fsck -fn "$img"

echo "== the tmpfs demo through the C API"
./build/release/examples/ukfs_demo
