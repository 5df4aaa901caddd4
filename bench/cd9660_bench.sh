#!/usr/bin/env bash
# cd9660_bench.sh FSU: the cd9660 driver and ISO builder through `fsu` against xorriso and
# The Sleuth Kit, in the same run, on a tmpfs. Jobs, each timed RUNS times (median wall time):
#   list     the whole tree of an image made by `xorriso -as mkisofs -R -J`:
#            `fsu ls -R` vs `xorriso -find /` vs `fls -r` (The Sleuth Kit)
#   extract  that tree to the host: `fsu ecp -R` vs `xorriso -osirrox on -extract` vs
#            `tsk_recover`
#   build    an image of the tree: `fsu mkiso` vs `xorriso -as mkisofs -R -J`
# and print the ratios (ours / theirs). The tree is the shared benchmark corpus: FILES small
# files in 500 directories, with symbolic and hard links. Not part of CI; no result is judged.
# Use a Release build of fsu (cmake --preset release && cmake --build build/release --target
# fsu).
#
# Environment: FILES [20000], SMALL_MAX [4096], RUNS [3], BENCH_DIR [a new dir in /dev/shm],
# CORPUS [/work/shared/bench/corpus.sh or ../shared/bench/corpus.sh]. A quick run:
# FILES=2000 RUNS=1.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init cd9660_bench.sh "${1:-}"
bench_need xorriso
have_tsk=1
command -v fls >/dev/null && command -v tsk_recover >/dev/null || have_tsk=0

bench_dir cd9660
CORPUS_DIR="$DIR/corpus" PARTS=small SMALL_FILES=$FILES SMALL_MAX=${SMALL_MAX:-4096} \
  bash "$CORPUS" >/dev/null
SRC="$DIR/corpus/small"
[[ -d "$SRC" ]] || SRC="$DIR/corpus"

IMG="$DIR/ref.iso"
xorriso -as mkisofs -R -J -quiet -o "$IMG" "$SRC" 2>/dev/null
ls_ours=() ls_xo=() ls_tsk=() ex_ours=() ex_xo=() ex_tsk=() mk_ours=() mk_xo=()
for ((i = 0; i < RUNS; i++)); do
  ls_ours+=("$(timeit "$FSU" ls "$IMG" -laR /)")
  ls_xo+=("$(timeit xorriso -indev "stdio:$IMG" -find / -exec lsdl --)")
  ((have_tsk)) && ls_tsk+=("$(timeit fls -r -p -f iso9660 "$IMG")")
  for t in ours xo tsk; do rm -rf "$DIR/x-$t"; mkdir "$DIR/x-$t"; done
  ex_ours+=("$(timeit "$FSU" ecp "$IMG" -pR / "$DIR/x-ours")")
  ex_xo+=("$(timeit xorriso -osirrox on -indev "stdio:$IMG" -extract / "$DIR/x-xo")")
  ((have_tsk)) && ex_tsk+=("$(timeit tsk_recover -a -f iso9660 "$IMG" "$DIR/x-tsk")")
  rm -f "$DIR/ours.iso" "$DIR/xo.iso"
  mk_ours+=("$(timeit "$FSU" mkiso "$SRC" "$DIR/ours.iso")")
  mk_xo+=("$(timeit xorriso -as mkisofs -R -J -quiet -o "$DIR/xo.iso" "$SRC")")
done
# What we extracted equals the source (links included); so does what our image holds.
diff -r --no-dereference "$SRC" "$DIR/x-ours" >/dev/null ||
  { echo "fsu ecp: the tree differs from the source" >&2; exit 1; }
n_ours=$(xorriso -indev "stdio:$DIR/ours.iso" -find / 2>/dev/null | wc -l)
n_xo=$(xorriso -indev "stdio:$DIR/xo.iso" -find / 2>/dev/null | wc -l)
[[ "$n_ours" == "$n_xo" ]] || { echo "fsu mkiso: $n_ours nodes, xorriso: $n_xo" >&2; exit 1; }

echo "tree: $(find "$SRC" | wc -l) entries ($FILES files); image $(stat -c %s "$IMG") bytes;" \
     "median of $RUNS runs"
a=$(m "${ls_ours[@]}") b=$(m "${ls_xo[@]}")
row "list:    fsu ls -laR" "$a" "xorriso -find -exec lsdl" "$b"
((have_tsk)) && row "list:    fsu ls -laR" "$a" "fls -r -p" "$(m "${ls_tsk[@]}")"
a=$(m "${ex_ours[@]}") b=$(m "${ex_xo[@]}")
row "extract: fsu ecp -pR" "$a" "xorriso -osirrox on -extract" "$b"
((have_tsk)) && row "extract: fsu ecp -pR" "$a" "tsk_recover -a" "$(m "${ex_tsk[@]}")"
row "build:   fsu mkiso" "$(m "${mk_ours[@]}")" "xorriso -as mkisofs -R -J" "$(m "${mk_xo[@]}")"
((have_tsk)) || echo "(The Sleuth Kit is not installed: fls and tsk_recover left out)"
