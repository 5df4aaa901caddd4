# lib.sh: what the benchmark scripts share. Source it after setting DIR (a scratch directory,
# best on a tmpfs) or let bench_dir make one. Not part of CI.
#
#   bench_init NAME FSU  FSU as a full path (NAME's usage when it is missing), CORPUS, and the
#                       knobs every script takes, with their defaults: RUNS [3], FILES [20000],
#                       SMALL_MAX [4096] (bytes), SIZE_MB [1024]
#   bench_corpus        the path of corpus.sh (CORPUS, else /work/shared/bench, else
#                       ../shared/bench beside the repository); exits 2 when there is none
#   bench_need TOOL...  exits 2 naming the first TOOL that is not installed
#   bench_dir NAME      DIR=BENCH_DIR or a new /dev/shm/ukfs-NAME-bench.XXXXXX, removed at exit
#   timeit CMD...       wall time of CMD in seconds (it must succeed; its output is dropped)
#   m VALUES...         their median
#   ratio A B           A / B with two decimals
#   row L1 T1 L2 T2     one result line: what ran, its time, what it is compared with, ratio

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bench_corpus() {
  local c
  for c in "${CORPUS:-}" /work/shared/bench/corpus.sh "$BENCH_HERE/../../shared/bench/corpus.sh"; do
    if [[ -n "$c" && -f "$c" ]]; then echo "$c"; return; fi
  done
  echo "corpus.sh not found (set CORPUS)" >&2
  exit 2
}

bench_init() {
  FSU=$(realpath "${2:?usage: $1 path/to/fsu ...}")
  RUNS=${RUNS:-3}
  FILES=${FILES:-20000}
  SMALL_MAX=${SMALL_MAX:-4096}
  SIZE_MB=${SIZE_MB:-1024}
  CORPUS=$(bench_corpus)
}

bench_need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "$t is not installed" >&2; exit 2; }
  done
}

bench_dir() {
  DIR=${BENCH_DIR:-$(mktemp -d "/dev/shm/ukfs-$1-bench.XXXXXX")}
  trap 'rm -rf "$DIR"' EXIT
}

timeit() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$DIR/err" || { echo "failed: $*" >&2; cat "$DIR/err" >&2; exit 1; }
  t1=$(date +%s%N)
  echo "$t0 $t1" | awk '{printf "%.3f\n", ($2 - $1) / 1e9}'
}

m() {
  printf '%s\n' "$@" | sort -n |
    awk '{a[NR]=$1} END {printf "%.3f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

ratio() { echo "$1 $2" | awk '{printf "%.2f", ($2 > 0 ? $1 / $2 : 0)}'; }

row() { printf '%-30s %9ss  %-30s %9ss  ratio %s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$4")"; }
