#!/usr/bin/env bash
# Set up, build (Release) and run the main job on a sample image: an FFS (UFS2) image made by
# our newfs, filled and read back with fsu (no mount, no root needed), judged by our checker
# and read back by an independent reader (The Sleuth Kit); then the same on ext4, judged by
# e2fsck; then the tmpfs demo of the NetBSD-compatible C API.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target fsu ukfs_demo

fsu=./build/release/tools/fsu/fsu
work=$(mktemp -d /tmp/ukfs-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Fill an image through fsu and read it back: docs/ copied in, a file written from standard
# input, a symbolic link, a mode change.
fill_and_read() {
    local img=$1
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
}

echo "== an empty FFS (UFS2) image made by fsu mkfs -t ffs (our newfs), filled through fsu"
ffs=$work/ffs.img
"$fsu" mkfs -t ffs -s 64m -L demo -o version=2 "$ffs"
fill_and_read "$ffs"
echo "== fsu fsck (fsck_ffs' five phases)"
"$fsu" fsck "$ffs"
echo "== The Sleuth Kit reads the same tree"
fls -r -p -f ufs2 "$ffs" | sort -k2
motd=$(icat -f ufs2 "$ffs" "$(ifind -f ufs2 -n /etc/ukfs/motd "$ffs")")
if [[ "$motd" != "hello from ukfs" ]]; then
    echo "icat read '$motd' from /etc/ukfs/motd" >&2
    exit 1
fi
echo "icat: /etc/ukfs/motd says hello"

echo "== an empty ext4 image (mke2fs), filled through fsu"
img=$work/disk.img
truncate -s 32M "$img"
mke2fs -q -F -t ext4 -E root_owner=0:0 "$img"
fill_and_read "$img"
echo "== e2fsck -fn"
e2fsck -fn "$img"

echo "== the tmpfs demo through the C API"
./build/release/examples/ukfs_demo
