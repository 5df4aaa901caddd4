#!/usr/bin/env bash
# msdos_bench.sh FSU: the msdos driver through `fsu` against mtools, in the same run, on a
# tmpfs. Three jobs, each timed RUNS times (median wall time):
#   copy in   FILES small files into a fresh FAT32 image: `fsu -o async cp -R host:` vs
#             `mcopy -s` (mcopy orders nothing either; the ordered copy, a flush per barrier,
#             is timed too)
#   extract   that tree back to the host: `fsu ecp -R` vs `mcopy -s`
#   read      one SIZE_MB file: `fsu cat` vs `mcopy` to a file vs `cat` of the raw image
#             bytes (the limit: what reading the image costs with no file system at all)
# and print the ratios (ours / theirs). Not part of CI; no result is judged. Use a Release
# build of fsu (cmake --preset release && cmake --build build/release --target fsu).
#
# Environment: FILES [20000], SMALL_MAX [4096] (bytes, the largest small file), SIZE_MB
# [1024], RUNS [3], BENCH_DIR [a new dir in /dev/shm], CORPUS [/work/shared/bench/corpus.sh
# or ../shared/bench/corpus.sh]. A quick run: FILES=2000 SIZE_MB=128 RUNS=1.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init msdos_bench.sh "${1:-}"
bench_need mcopy mkfs.fat
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0

bench_dir msdos
# FAT holds neither symbolic nor hard links: the corpus is made without them.
CORPUS_DIR="$DIR/corpus" PARTS="small large" SMALL_FILES=$FILES SMALL_MAX=$SMALL_MAX \
  SMALL_SYMLINKS=0 SMALL_HARDLINKS=0 LARGE_SIZE=$((SIZE_MB << 20)) bash "$CORPUS" >/dev/null
SRC="$DIR/corpus/small"
BIG="$DIR/corpus/large/large.bin"
[[ -d "$SRC" && -f "$BIG" ]] || { echo "the corpus has no small/ or large/large.bin" >&2; exit 2; }

# A fresh FAT32 image big enough for the tree (4 KiB clusters) or the large file, and of at
# least 65525 clusters (320 MiB): tools that go by the cluster count (mtools) see FAT32.
at_least() { echo $(( $1 > 327680 ? $1 : 327680 )); }
small_kib=$(at_least $(( FILES * (SMALL_MAX / 4096 + 2) * 4 + 65536 )))
big_kib=$(at_least $(( (SIZE_MB << 10) + 65536 )))
fresh() { rm -f "$1"; mkfs.fat -F 32 -S 512 -s 8 -C "$1" "$2" >/dev/null; }

cp_ours=() cp_sync=() cp_ref=() ex_ours=() ex_ref=() rd_ours=() rd_mcopy=() rd_cat=()
for ((i = 0; i < RUNS; i++)); do
  fresh "$DIR/ours.img" "$small_kib"
  fresh "$DIR/ref.img" "$small_kib"
  cp_ours+=("$(timeit "$FSU" cp -o async "$DIR/ours.img" -R "host:$SRC" /)")
  fresh "$DIR/sync.img" "$small_kib"
  cp_sync+=("$(timeit "$FSU" cp "$DIR/sync.img" -R "host:$SRC" /)")
  rm -f "$DIR/sync.img"
  cp_ref+=("$(timeit mcopy -s -Q -i "$DIR/ref.img" "$SRC" ::/)")
  rm -rf "$DIR/x-ours" "$DIR/x-ref"
  mkdir "$DIR/x-ours" "$DIR/x-ref"
  ex_ours+=("$(timeit "$FSU" ecp "$DIR/ref.img" -R /small "$DIR/x-ours")")
  ex_ref+=("$(timeit mcopy -s -Q -i "$DIR/ref.img" ::/small "$DIR/x-ref")")
done
# Each side's copy-in holds the tree; each side's extraction gives it back.
diff -r "$SRC" "$DIR/x-ours/small" >/dev/null || { echo "fsu ecp: the tree differs" >&2; exit 1; }
diff -r "$SRC" "$DIR/x-ref/small" >/dev/null || { echo "mcopy -s: the tree differs" >&2; exit 1; }
rm -rf "$DIR/x-ours" "$DIR/x-ref"
mkdir "$DIR/x-ours"
"$FSU" ecp "$DIR/ours.img" -R /small "$DIR/x-ours" >/dev/null
diff -r "$SRC" "$DIR/x-ours/small" >/dev/null || { echo "fsu cp: the tree differs" >&2; exit 1; }
rm -rf "$DIR/x-ours" "$DIR/ours.img"

fresh "$DIR/big.img" "$big_kib"
mcopy -Q -i "$DIR/big.img" "$BIG" ::/large.bin
for ((i = 0; i < RUNS; i++)); do
  rd_ours+=("$(timeit "$FSU" cat "$DIR/big.img" /large.bin)")
  rm -f "$DIR/big.out"
  rd_mcopy+=("$(timeit mcopy -n -i "$DIR/big.img" ::/large.bin "$DIR/big.out")")
  rd_cat+=("$(timeit cat "$DIR/big.img")")
done
cmp -s "$BIG" "$DIR/big.out" || { echo "mcopy: the large file differs" >&2; exit 1; }
cmp -s "$BIG" <("$FSU" cat "$DIR/big.img" /large.bin) || { echo "fsu cat: the large file differs" >&2; exit 1; }

a=$(m "${cp_ours[@]}") b=$(m "${cp_ref[@]}")
c=$(m "${ex_ours[@]}") d=$(m "${ex_ref[@]}")
e=$(m "${rd_ours[@]}") f=$(m "${rd_mcopy[@]}") g=$(m "${rd_cat[@]}")
echo "corpus: $FILES files (0 to $SMALL_MAX bytes) in $(find "$SRC" -type d | wc -l) directories;" \
     "large file $SIZE_MB MiB; FAT32, 4 KiB clusters; median of $RUNS runs"
row "copy in:  fsu -o async cp -R" "$a" "mcopy -s" "$b"
row "copy in:  fsu cp -R (ordered)" "$(m "${cp_sync[@]}")" "mcopy -s" "$b"
row "extract:  fsu ecp -R" "$c" "mcopy -s" "$d"
row "read:     fsu cat" "$e" "mcopy" "$f"
row "read:     fsu cat" "$e" "cat image" "$g"
