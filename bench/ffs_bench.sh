#!/usr/bin/env bash
# ffs_bench.sh FSU: the FFS driver and newfs through `fsu` against makefs(8) and The Sleuth
# Kit, in the same run, on a tmpfs. Jobs, each timed RUNS times (median wall time):
#   populate  a fresh UFS2 image from the tree of FILES small files: `fsu mkfs -t ffs` then
#             `fsu populate -o async` vs `makefs -t ffs` of the same tree at the same size;
#             also `fsu mkfs` + `fsu cp -o async -pR host:` (file by file, as a user adds to
#             an image)
#   extract   that tree back to the host: `fsu ecp -R` vs `tsk_recover -a`
#   read      one SIZE_MB file: `fsu cat` vs `icat` vs `cat` of the raw image bytes (the
#             limit: what reading the image costs with no file system at all)
# and print the ratios (ours / theirs). Not part of CI; no result is judged. Use a Release
# build of fsu (cmake --preset release && cmake --build build/release --target fsu).
#
# Choices. Both images get the same geometry (UFS2, BSIZE/FSIZE, SIZE), so the sizes of the
# work match. `fsu populate` runs with -o async because makefs writes its image with no
# ordering at all (it builds a new image; a crash leaves nothing worth keeping): the ordered
# mode's flushes between epochs would measure crash safety makefs does not offer. The ordered
# time is printed too, without a ratio. Both images are checked once, outside the timing, with
# `fsu fsck` (there is no fsck_ffs on Linux), and ours is extracted and compared with the
# source. The extraction reads OUR populated image with both tools: The Sleuth Kit looks for
# a UFS2 superblock only at 65536, where our newfs puts it, while this makefs puts it at 8192.
# tsk_recover writes regular files only (each hard link as a copy, no short symbolic links), so
# its output is compared with the source's regular files; ours with the whole tree.
#
# Environment: FILES [20000], SMALL_MAX [4096] (bytes, the largest small file), SIZE_MB
# [1024], RUNS [3], BSIZE [16384], FSIZE [2048], BENCH_DIR [a new dir in /dev/shm], CORPUS
# [/work/shared/bench/corpus.sh or ../shared/bench/corpus.sh]. A quick run: FILES=2000
# SIZE_MB=128 RUNS=1. Peak tmpfs use is about 3 * SIZE_MB plus a few times the tree.
#
# Measured (2026-11-25, 2 cores shared with another benchmark; see bench/README.md):
#   FILES=20000 SIZE_MB=1024 RUNS=3 bench/ffs_bench.sh build/release/tools/fsu/fsu
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init ffs_bench.sh "${1:-}"
BSIZE=${BSIZE:-16384}
FSIZE=${FSIZE:-2048}
bench_need makefs tsk_recover icat

bench_dir ffs
CORPUS_DIR="$DIR/corpus" PARTS="small large" SMALL_FILES=$FILES SMALL_MAX=$SMALL_MAX \
  LARGE_SIZE=$((SIZE_MB << 20)) bash "$CORPUS" >/dev/null
SRC="$DIR/corpus/small"
BIG="$DIR/corpus/large/large.bin"
[[ -d "$SRC" && -f "$BIG" ]] || { echo "the corpus has no small/ or large/large.bin" >&2; exit 2; }

# Room for the tree: every file in whole fragments, an inode each, and slack for the cylinder
# group metadata; the same size for both tools.
small_mb=$(( (FILES * (SMALL_MAX + 2 * FSIZE) >> 20) + 64 ))
big_mb=$(( SIZE_MB + SIZE_MB / 16 + 64 ))
geom="version=2,bsize=$BSIZE,fsize=$FSIZE"

pop_ours() {  # image size_mb source [mount options]
  rm -f "$1"
  "$FSU" mkfs -t ffs -s "${2}m" -o "$geom" "$1"
  "$FSU" populate ${4:+-o "$4"} "$1" "$3"
}
cp_ours() {  # image size_mb source: fsu cp -R into a fresh image, the other way to fill one
  rm -f "$1"
  "$FSU" mkfs -t ffs -s "${2}m" -o "$geom" "$1"
  "$FSU" cp -o async "$1" -pR "host:$3" /tree
}
pop_ref() {  # image size_mb source
  rm -f "$1"
  makefs -t ffs -o "$geom" -s "${2}m" "$1" "$3"
}
fresh_dirs() { for t in "$@"; do rm -rf "$DIR/x-$t"; mkdir "$DIR/x-$t"; done; }

load0=$(uptime)
po_ours=() po_sync=() po_ref=() cp_ours=() ex_ours=() ex_tsk=() rd_ours=() rd_icat=() rd_cat=()
for ((i = 0; i < RUNS; i++)); do
  po_ours+=("$(timeit pop_ours "$DIR/ours.img" "$small_mb" "$SRC" async)")
  po_sync+=("$(timeit pop_ours "$DIR/sync.img" "$small_mb" "$SRC")")
  cp_ours+=("$(timeit cp_ours "$DIR/cp.img" "$small_mb" "$SRC")")
  po_ref+=("$(timeit pop_ref "$DIR/ref.img" "$small_mb" "$SRC")")
  fresh_dirs ours tsk
  ex_ours+=("$(timeit "$FSU" ecp "$DIR/ours.img" -R / "$DIR/x-ours")")
  ex_tsk+=("$(timeit tsk_recover -a -f ufs2 "$DIR/ours.img" "$DIR/x-tsk")")
done
# All three images are consistent; what our image holds is the source, links included; what
# The Sleuth Kit read from it holds the source's regular files.
for img in ours sync cp ref; do
  "$FSU" fsck "$DIR/$img.img" >"$DIR/fsck.out" 2>&1 ||
    { echo "fsu fsck $img.img:" >&2; cat "$DIR/fsck.out" >&2; exit 1; }
done
diff -r --no-dereference "$SRC" "$DIR/x-ours" >/dev/null ||
  { echo "fsu populate / fsu ecp: the tree differs from the source" >&2; exit 1; }
fresh_dirs ours
"$FSU" ecp "$DIR/sync.img" -R / "$DIR/x-ours" >/dev/null
diff -r --no-dereference "$SRC" "$DIR/x-ours" >/dev/null ||
  { echo "fsu populate (ordered): the tree differs from the source" >&2; exit 1; }
# (The Sleuth Kit writes a symbolic link whose target is in a data block as a file holding the
# target, and leaves empty files out: the source's non-empty regular files are compared.)
sums() { (cd "$SRC" && find . -type f -size +0 -print0) | (cd "$1" && xargs -0 sha256sum); }
cmp -s <(sums "$SRC") <(sums "$DIR/x-tsk") ||
  { echo "tsk_recover: the regular files differ from the source's" >&2; exit 1; }
fresh_dirs ours
"$FSU" ecp "$DIR/cp.img" -R /tree "$DIR/x-ours" >/dev/null
diff -r --no-dereference "$SRC" "$DIR/x-ours/tree" >/dev/null ||
  { echo "fsu cp -pR: the tree differs from the source" >&2; exit 1; }
rm -rf "$DIR/x-ours" "$DIR/x-tsk" "$DIR/sync.img" "$DIR/ref.img" "$DIR/cp.img"

# The large file in an image of our newfs (icat needs the superblock at 65536).
rm -f "$DIR/ours.img"
"$FSU" mkfs -t ffs -s "${big_mb}m" -o "$geom" "$DIR/big.img" >/dev/null
"$FSU" cp -o async "$DIR/big.img" "host:$BIG" /large.bin >/dev/null
ino=$("$FSU" ls "$DIR/big.img" -i /large.bin | awk '{print $1}')
for ((i = 0; i < RUNS; i++)); do
  rd_ours+=("$(timeit "$FSU" cat "$DIR/big.img" /large.bin)")
  rd_icat+=("$(timeit icat -f ufs2 "$DIR/big.img" "$ino")")
  rd_cat+=("$(timeit cat "$DIR/big.img")")
done
cmp -s "$BIG" <("$FSU" cat "$DIR/big.img" /large.bin) || { echo "fsu cat: the large file differs" >&2; exit 1; }
cmp -s "$BIG" <(icat -f ufs2 "$DIR/big.img" "$ino") || { echo "icat: the large file differs" >&2; exit 1; }

a=$(m "${po_ours[@]}") b=$(m "${po_ref[@]}") s=$(m "${po_sync[@]}")
c=$(m "${ex_ours[@]}") d=$(m "${ex_tsk[@]}")
e=$(m "${rd_ours[@]}") f=$(m "${rd_icat[@]}") g=$(m "${rd_cat[@]}")
echo "corpus: $FILES files (0 to $SMALL_MAX bytes), $(find "$SRC" -type d | wc -l) directories," \
     "$(find "$SRC" -type l | wc -l) symlinks; large file $SIZE_MB MiB; UFS2 $BSIZE/$FSIZE," \
     "${small_mb} MiB image; median of $RUNS runs; $(nproc) cores"
echo "load before: ${load0##*load average: }; after: $(uptime | sed 's/.*load average: //')"
row "populate: fsu mkfs+populate" "$a" "makefs -t ffs" "$b"
row "populate: same, not async" "$s" "makefs -t ffs" "$b"
row "copy in:  fsu mkfs+cp -pR" "$(m "${cp_ours[@]}")" "makefs -t ffs" "$b"
row "extract:  fsu ecp -R" "$c" "tsk_recover -a" "$d"
row "read:     fsu cat" "$e" "icat" "$f"
row "read:     fsu cat" "$e" "cat image" "$g"
