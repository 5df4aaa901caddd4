#!/usr/bin/env bash
# fuse_bench.sh FSU UKFS_FUSE: one ext4 image (mke2fs -t ext4 -d of the shared corpus) read
# through three read-only mounts of it, in the same run, on a tmpfs:
#   ukfs-fuse   ours, through libfuse 3
#   loop        the kernel's ext4 driver on a loop device (the limit)
#   fuse2fs     e2fsprogs' FUSE driver (the other user-space reader)
# Jobs, each timed RUNS times per mount (median wall time), each on a fresh mount after
# dropping the kernel's caches (echo 3 >/proc/sys/vm/drop_caches), so that every run starts
# cold in the kernel and in the FUSE daemon:
#   read    `cat` of the SIZE_MB file
#   copy    `cp -a` of the small tree (FILES files, links) out to the tmpfs
#   tar     `tar cf -` of the small tree, piped to cat (tar skips reading into /dev/null)
# and `fsu cat` of the same file, the ukfs driver with no FUSE in between. Prints the ratios
# ukfs-fuse / loop and ukfs-fuse / fuse2fs. Needs root (loop mount, drop_caches) and /dev/fuse.
# Not part of CI; no result is judged. Use Release builds: cmake --preset release &&
# cmake --build build/release --target fsu ukfs-fuse.
#
# The image's bytes stay in memory (tmpfs) all along: what is measured is the file systems'
# cost, not a disk's. Other work on the machine shows in the numbers: note `uptime`.
#
# Environment: FILES [20000], SMALL_MAX [4096], SIZE_MB [1024], RUNS [3], BENCH_DIR [a new
# dir in /dev/shm], CORPUS [/work/shared/bench/corpus.sh]. Quick: FILES=2000 SIZE_MB=128 RUNS=1.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init fuse_bench.sh "${1:-}"
UKFS_FUSE=$(realpath "${2:?usage: fuse_bench.sh path/to/fsu path/to/ukfs-fuse}")
bench_need mke2fs fuse2fs fusermount3 mount umount tar
[[ $(id -u) == 0 ]] || { echo "fuse_bench.sh needs root (loop mount, drop_caches)" >&2; exit 2; }
[[ -c /dev/fuse ]] || { echo "/dev/fuse is missing" >&2; exit 2; }

bench_dir fuse
MNT="$DIR/mnt"
mkdir -p "$MNT"
PID=
# Whatever is left mounted at exit is unmounted before lib.sh's trap removes DIR.
cleanup() {
  if mountpoint -q "$MNT"; then umount "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"; fi
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

CORPUS_DIR="$DIR/corpus" PARTS="small large" SMALL_FILES=$FILES SMALL_MAX=$SMALL_MAX \
  LARGE_SIZE=$((SIZE_MB << 20)) bash "$CORPUS" >/dev/null
BIG="$DIR/corpus/large/large.bin"
[[ -d "$DIR/corpus/small" && -f "$BIG" ]] || { echo "the corpus has no small/ or large/" >&2; exit 2; }

IMG="$DIR/ext4.img"
img_mb=$(( $(du -sm "$DIR/corpus" | cut -f1) * 5 / 4 + 64 ))
truncate -s "${img_mb}M" "$IMG"
mke2fs -q -F -t ext4 -d "$DIR/corpus" -E root_owner=0:0 "$IMG" >/dev/null

mounted() { awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }
wait_mounted() {
  local i
  for ((i = 0; i < 400; i++)); do
    mounted && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "$1: not mounted" >&2
  exit 1
}
# up WAY / down WAY: mount the image read-only at MNT, unmount it (a FUSE daemon must exit,
# so that the next mount finds the image free).
up() {
  case $1 in
    ukfs) "$UKFS_FUSE" "$IMG" "$MNT" -o ro -f 2>"$DIR/ukfs.err" & PID=$!; wait_mounted ukfs-fuse ;;
    fuse2fs) fuse2fs "$IMG" "$MNT" -o ro,fakeroot -f >/dev/null 2>"$DIR/fuse2fs.err" & PID=$!
             wait_mounted fuse2fs ;;
    loop) mount -o loop,ro -t ext4 "$IMG" "$MNT" ;;
  esac
  sync
  echo 3 >/proc/sys/vm/drop_caches
}
down() {
  if [[ $1 == loop ]]; then
    umount "$MNT"
  else
    fusermount3 -u "$MNT"
    wait "$PID" || { echo "$1 exited $?" >&2; cat "$DIR/$1.err" >&2; exit 1; }
    PID=
  fi
}
tarred() { tar -cf - -C "$1" . | cat; }
copied() { rm -rf "$DIR/out"; cp -a "$1" "$DIR/out"; }

declare -A t
for ((i = 0; i < RUNS; i++)); do
  for job in read copy tar; do
    for way in ukfs loop fuse2fs; do
      up "$way"
      case $job in
        read) v=$(timeit cat "$MNT/large/large.bin") ;;
        copy) v=$(timeit copied "$MNT/small") ;;
        tar) v=$(timeit tarred "$MNT/small") ;;
      esac
      t[$job.$way]+=" $v"
      down "$way"
    done
  done
  t[read.fsu]+=" $(timeit "$FSU" cat "$IMG" /large/large.bin)"
done

# What ukfs-fuse gave is what was put in.
up ukfs
cmp -s "$BIG" "$MNT/large/large.bin" || { echo "ukfs-fuse: the large file differs" >&2; exit 1; }
copied "$MNT/small"
diff -r --no-dereference "$DIR/corpus/small" "$DIR/out" >/dev/null ||
  { echo "ukfs-fuse: cp -a of the tree differs" >&2; exit 1; }
down ukfs

# shellcheck disable=SC2086 # the times are words
med() { m ${t[$1]}; }
echo "ext4 image ${img_mb} MiB: $FILES files (0 to $SMALL_MAX bytes), a $SIZE_MB MiB file;" \
     "each run on a fresh mount, caches dropped; median of $RUNS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for job in read copy tar; do
  case $job in
    read) what="cat ${SIZE_MB} MiB file" ;;
    copy) what="cp -a tree" ;;
    tar) what="tar cf - tree" ;;
  esac
  row "$job: ukfs-fuse" "$(med $job.ukfs)" "$what, kernel loop" "$(med $job.loop)"
  row "$job: ukfs-fuse" "$(med $job.ukfs)" "$what, fuse2fs" "$(med $job.fuse2fs)"
done
row "read: ukfs-fuse" "$(med read.ukfs)" "fsu cat (no FUSE)" "$(med read.fsu)"
