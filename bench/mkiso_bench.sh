#!/usr/bin/env bash
# mkiso_bench.sh FSU: build an ISO 9660 image (Rock Ridge + Joliet) of the shared benchmark
# corpus (20,000 small files in 500 directories, symlinks, hard links) with `fsu mkiso` and
# with `xorriso -as mkisofs -R -J`, in the same run, on a tmpfs; print the median wall times
# of RUNS builds each and their ratio. Not part of CI (use a Release build of fsu).
#
# Environment: RUNS [5], SMALL_FILES [20000], SMALL_MAX [4096], BENCH_DIR [a new dir in
# /dev/shm], CORPUS [/work/shared/bench/corpus.sh or ../shared/bench/corpus.sh].
set -euo pipefail

FSU=${1:?usage: mkiso_bench.sh path/to/fsu}
RUNS=${RUNS:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=${CORPUS:-}
for c in "$CORPUS" /work/shared/bench/corpus.sh "$HERE/../../shared/bench/corpus.sh"; do
  if [[ -n "$c" && -x "$c" || -n "$c" && -f "$c" ]]; then CORPUS=$c; break; fi
done
[[ -f "$CORPUS" ]] || { echo "corpus.sh not found (set CORPUS)" >&2; exit 2; }
command -v xorriso >/dev/null || { echo "xorriso is not installed" >&2; exit 2; }

DIR=${BENCH_DIR:-$(mktemp -d /dev/shm/ukfs-mkiso-bench.XXXXXX)}
trap 'rm -rf "$DIR"' EXIT
CORPUS_DIR="$DIR/corpus" PARTS=small SMALL_FILES=${SMALL_FILES:-20000} \
  SMALL_MAX=${SMALL_MAX:-4096} bash "$CORPUS" >/dev/null
SRC="$DIR/corpus/small"
[[ -d "$SRC" ]] || SRC="$DIR/corpus"

# Wall time of one command in seconds (nanosecond clock).
timeit() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo "scale=4; ($t1 - $t0) / 1000000000" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ours=() ref=()
for ((i = 0; i < RUNS; i++)); do
  rm -f "$DIR/ours.iso" "$DIR/ref.iso"
  ours+=("$(timeit "$FSU" mkiso "$SRC" "$DIR/ours.iso")")
  ref+=("$(timeit xorriso -as mkisofs -R -J -quiet -o "$DIR/ref.iso" "$SRC")")
done
mo=$(printf '%s\n' "${ours[@]}" | median)
mr=$(printf '%s\n' "${ref[@]}" | median)
n_ours=$(xorriso -indev "stdio:$DIR/ours.iso" -find / 2>/dev/null | wc -l)
n_ref=$(xorriso -indev "stdio:$DIR/ref.iso" -find / 2>/dev/null | wc -l)
echo "tree: $(find "$SRC" | wc -l) entries; images: ours $(stat -c %s "$DIR/ours.iso") bytes" \
     "($n_ours nodes), xorriso $(stat -c %s "$DIR/ref.iso") bytes ($n_ref nodes)"
echo "fsu mkiso median ${mo}s, xorriso -as mkisofs -R -J median ${mr}s over $RUNS runs"
echo "ratio (ours / xorriso): $(echo "scale=3; $mo / $mr" | bc)"
