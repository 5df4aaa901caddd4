#!/usr/bin/env bash
# ext2fs_bench.sh FSU: the ext2fs driver through `fsu` against e2fsprogs and the kernel, in the
# same run, on a tmpfs. Jobs, each timed RUNS times (median wall time):
#   populate  a new ext4 image (4 KiB blocks) holding FILES small files with symbolic and hard
#             links: `fsu mkfs -t ext2fs` + `fsu populate -o async` vs `mke2fs -t ext4 -d`.
#             -o async is how an image is built in CI (nothing to keep safe from a crash until
#             the image is done; the device is flushed once at the end); mke2fs -d has no
#             ordering either. Set POPULATE_SYNC=1 to time the ordered writes as well.
#   copy in   the same with `fsu mkfs` + `fsu cp -o async -pR host:` (file by file, as a user
#             adds to an image) vs `mke2fs -t ext4 -d`
#   extract   that tree, keeping modes and times: `fsu ecp -pR` vs `debugfs -R rdump` vs a
#             kernel loop mount (`mount -o loop,ro`) and `cp -a`
#   read      one SIZE_MB file: `fsu cat` vs `debugfs -R dump` vs `cat` on the loop mount vs
#             `cat` of the raw image bytes (the limit: reading the image with no file system)
# and print the ratios (ours / theirs). The loop mount is made afresh for every run, so its
# page cache starts empty (the image itself is on tmpfs: every reader gets its bytes from
# memory). Without root or loop devices the loop-mount rows are left out with a message.
# Both populated images pass `e2fsck -fn`; every extraction and read is compared with the
# source. Not part of CI; no result is judged. Use a Release build of fsu
# (cmake --preset release && cmake --build build/release --target fsu).
#
# Environment: FILES [20000], SMALL_MAX [4096] (bytes, the largest small file), SIZE_MB
# [1024], RUNS [3], POPULATE_SYNC [0], BENCH_DIR [a new dir in /dev/shm], CORPUS
# [/work/shared/bench/corpus.sh or ../shared/bench/corpus.sh]. A quick run:
# FILES=2000 SIZE_MB=128 RUNS=1.
#
# Benchmarks. `FILES=20000 SIZE_MB=1024 RUNS=3 bash bench/ext2fs_bench.sh
# build/release/tools/fsu/fsu`, 2026-11-25, a 2-core VM shared with other jobs (load average
# in brackets: wall times swell with it; compare ratios of the same run only), ours / theirs:
#                                    before (load 8.7)     after (load 13.6)
#   populate  vs mke2fs -d           3.99s / 2.34s  1.71   12.36s / 8.82s   1.40
#   extract   vs debugfs rdump       2.29s / 1.17s  1.95    5.35s / 4.56s   1.17
#   extract   vs loop mount, cp -a   2.29s / 5.64s  0.41    5.35s / 69.7s   0.08
#   read      vs debugfs dump        0.48s / 3.37s  0.14    2.38s / 11.8s   0.20
#   read      vs loop mount, cat     0.48s / 5.22s  0.09    2.38s / 11.4s   0.21
#   read      vs cat image           0.48s / 0.40s  1.20    2.38s / 2.20s   1.08
# CPU time (user + sys, least of 3, /usr/bin/time) is steadier under load: populate 1.40s before,
# 1.20s after, mke2fs -d 0.77s; extract 0.90s before, 0.60s after, debugfs rdump 0.42s.
# "after" is: the last partial block of a file read to its end bypasses the buffer cache (a tree
# of small files no longer fills it), ecp makes a new file with one openat, populate reuses its
# copy buffer, and an empty cache buffer allocates nothing for frozen copies.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init ext2fs_bench.sh "${1:-}"
POPULATE_SYNC=${POPULATE_SYNC:-0}
bench_need mke2fs debugfs e2fsck

bench_dir ext2fs
MNT="$DIR/mnt"
mkdir "$MNT"
cleanup() {
  mountpoint -q "$MNT" && umount "$MNT"
  rm -rf "$DIR"
}
trap cleanup EXIT

# The tree: TREE holds small/ (and the corpus's manifest); the images hold TREE, the
# extractions copy /small back out.
CORPUS_DIR="$DIR/tree" PARTS=small SMALL_FILES=$FILES SMALL_MAX=$SMALL_MAX \
  bash "$CORPUS" >/dev/null
CORPUS_DIR="$DIR/big" PARTS=large LARGE_SIZE=$((SIZE_MB << 20)) bash "$CORPUS" >/dev/null
TREE="$DIR/tree"
SRC="$TREE/small"
BIG="$DIR/big/large/large.bin"
[[ -d "$SRC" && -f "$BIG" ]] || { echo "the corpus has no small/ or large/large.bin" >&2; exit 2; }

# Room for the tree (a block per file, a directory block per 40 files, and slack) and one inode
# per 4 KiB, so that neither blocks nor inodes run out; the same geometry on both sides.
small_mib=$(( FILES * (SMALL_MAX / 4096 + 1) * 4 / 1024 + 64 ))
big_mib=$(( SIZE_MB + SIZE_MB / 16 + 64 ))
GEOM=(-b 4096 -i 4096)
OURS_GEOM=fstype=ext4,blocksize=4096,inode_ratio=4096

ours_populate() {  # IMAGE [MOUNT-OPTIONS]
  rm -f "$1"
  "$FSU" mkfs -t ext2fs -s "${small_mib}m" -o "$OURS_GEOM" "$1"
  "$FSU" populate ${2:+-o "$2"} "$1" "$TREE" /
}
ours_cp() {  # IMAGE: fsu cp -R into a fresh image, the other way to fill one
  rm -f "$1"
  "$FSU" mkfs -t ext2fs -s "${small_mib}m" -o "$OURS_GEOM" "$1"
  "$FSU" cp -o async "$1" -pR "host:$SRC" /
}
ref_populate() {  # IMAGE
  rm -f "$1"
  mke2fs -q -F -t ext4 "${GEOM[@]}" -d "$TREE" "$1" "${small_mib}M"
}

# cp -a or cat from a fresh read-only loop mount of IMAGE; the mount and unmount are not timed.
mounted_cp() { cp -a "$MNT/small" "$1"; }
mounted_cat() { cat "$MNT/large.bin"; }
timed_mounted() {  # IMAGE CMD...
  local img=$1 t
  shift
  mount -o loop,ro "$img" "$MNT"
  t=$(timeit "$@")
  umount "$MNT"
  echo "$t"
}

pop_ours=() pop_sync=() pop_ref=() cp_ours=()
for ((i = 0; i < RUNS; i++)); do
  pop_ours+=("$(timeit ours_populate "$DIR/ours.img" async)")
  cp_ours+=("$(timeit ours_cp "$DIR/cp.img")")
  if ((POPULATE_SYNC)); then pop_sync+=("$(timeit ours_populate "$DIR/ours.img")"); fi
  pop_ref+=("$(timeit ref_populate "$DIR/ref.img")")
done
# Both images are sound, and ours holds the tree.
for img in ours cp ref; do
  e2fsck -fn "$DIR/$img.img" >"$DIR/fsck.out" 2>&1 ||
    { echo "e2fsck -fn: $img.img is not clean" >&2; cat "$DIR/fsck.out" >&2; exit 1; }
done
mkdir "$DIR/x-check"
"$FSU" ecp "$DIR/ours.img" -pR /small "$DIR/x-check" >/dev/null
diff -r --no-dereference "$SRC" "$DIR/x-check/small" >/dev/null ||
  { echo "fsu populate: the tree in the image differs from the source" >&2; exit 1; }
rm -rf "$DIR/x-check"
mkdir "$DIR/x-check"
"$FSU" ecp "$DIR/cp.img" -pR /small "$DIR/x-check" >/dev/null
diff -r --no-dereference "$SRC" "$DIR/x-check/small" >/dev/null ||
  { echo "fsu cp -pR: the tree in the image differs from the source" >&2; exit 1; }
rm -rf "$DIR/x-check" "$DIR/ours.img" "$DIR/cp.img"

# Whether the kernel may mount the image here (root and a loop device are needed).
can_mount=0
if mount -o loop,ro "$DIR/ref.img" "$MNT" 2>"$DIR/mount.err"; then
  umount "$MNT"
  can_mount=1
else
  echo "(no loop mount: $(head -1 "$DIR/mount.err"); its rows are left out)" >&2
fi

ex_ours=() ex_dbg=() ex_cp=()
for ((i = 0; i < RUNS; i++)); do
  for t in ours dbg cp; do rm -rf "$DIR/x-$t"; mkdir "$DIR/x-$t"; done
  ex_ours+=("$(timeit "$FSU" ecp "$DIR/ref.img" -pR /small "$DIR/x-ours")")
  ex_dbg+=("$(timeit debugfs -R "rdump /small $DIR/x-dbg" "$DIR/ref.img")")
  if ((can_mount)); then ex_cp+=("$(timed_mounted "$DIR/ref.img" mounted_cp "$DIR/x-cp")"); fi
done
for t in ours dbg cp; do
  if [[ $t == cp ]] && ((!can_mount)); then continue; fi
  diff -r --no-dereference "$SRC" "$DIR/x-$t/small" >/dev/null ||
    { echo "extract ($t): the tree differs from the source" >&2; exit 1; }
done
rm -rf "$DIR"/x-* "$DIR/ref.img"

mke2fs -q -F -t ext4 -b 4096 -d "$DIR/big/large" "$DIR/big.img" "${big_mib}M" >/dev/null
rd_ours=() rd_dbg=() rd_mnt=() rd_cat=()
for ((i = 0; i < RUNS; i++)); do
  rd_ours+=("$(timeit "$FSU" cat "$DIR/big.img" /large.bin)")
  rd_dbg+=("$(timeit debugfs -R "dump /large.bin /dev/null" "$DIR/big.img")")
  if ((can_mount)); then rd_mnt+=("$(timed_mounted "$DIR/big.img" mounted_cat)"); fi
  rd_cat+=("$(timeit cat "$DIR/big.img")")
done
cmp -s "$BIG" <("$FSU" cat "$DIR/big.img" /large.bin) ||
  { echo "fsu cat: the large file differs" >&2; exit 1; }
debugfs -R "dump /large.bin $DIR/big.out" "$DIR/big.img" 2>/dev/null
cmp -s "$BIG" "$DIR/big.out" || { echo "debugfs dump: the large file differs" >&2; exit 1; }
rm -f "$DIR/big.out"
if ((can_mount)); then
  mount -o loop,ro "$DIR/big.img" "$MNT"
  cmp -s "$BIG" "$MNT/large.bin" || { echo "loop mount: the large file differs" >&2; exit 1; }
  umount "$MNT"
fi

echo "corpus: $FILES files (0 to $SMALL_MAX bytes) in $(find "$SRC" -type d | wc -l)" \
     "directories, with links; large file $SIZE_MB MiB; ext4, 4 KiB blocks; median of $RUNS" \
     "runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
a=$(m "${pop_ours[@]}")
row "populate: fsu mkfs+populate" "$a" "mke2fs -d" "$(m "${pop_ref[@]}")"
row "copy in:  fsu mkfs+cp -pR" "$(m "${cp_ours[@]}")" "mke2fs -d" "$(m "${pop_ref[@]}")"
if ((POPULATE_SYNC)); then
  row "populate: (without -o async)" "$(m "${pop_sync[@]}")" "mke2fs -d" "$(m "${pop_ref[@]}")"
fi
a=$(m "${ex_ours[@]}")
row "extract:  fsu ecp -pR" "$a" "debugfs rdump" "$(m "${ex_dbg[@]}")"
if ((can_mount)); then row "extract:  fsu ecp -pR" "$a" "loop mount, cp -a" "$(m "${ex_cp[@]}")"; fi
a=$(m "${rd_ours[@]}")
row "read:     fsu cat" "$a" "debugfs dump" "$(m "${rd_dbg[@]}")"
if ((can_mount)); then row "read:     fsu cat" "$a" "loop mount, cat" "$(m "${rd_mnt[@]}")"; fi
row "read:     fsu cat" "$a" "cat image" "$(m "${rd_cat[@]}")"
