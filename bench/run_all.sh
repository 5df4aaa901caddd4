#!/usr/bin/env bash
# run_all.sh FSU [UKFS_FUSE]: every bench/*_bench.sh there is, one after the other, with the
# same environment (FILES, SIZE_MB, RUNS, ...: see each script), so that one command prints
# every ratio. fuse_bench.sh also gets UKFS_FUSE (default: beside FSU in the build tree,
# tools/ukfs-fuse/ukfs-fuse) and is skipped without it. A script that exits 2 lacks a tool or
# the rights it needs and is reported as skipped; any other failure is reported and the
# others still run. Exits 1 if a script failed. Not part of CI.
set -uo pipefail

FSU=${1:?usage: run_all.sh path/to/fsu [path/to/ukfs-fuse]}
FSU=$(realpath "$FSU")
UKFS_FUSE=${2:-$(dirname "$FSU")/../ukfs-fuse/ukfs-fuse}
HERE=$(cd "$(dirname "$0")" && pwd)

echo "fsu: $FSU"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; FILES=${FILES:-default}" \
     "SIZE_MB=${SIZE_MB:-default} RUNS=${RUNS:-default}"
failed=() skipped=()
for script in "$HERE"/*_bench.sh; do
  [[ -f "$script" ]] || continue
  name=$(basename "$script" .sh)
  args=("$FSU")
  if [[ $name == fuse_bench ]]; then
    if [[ ! -x "$UKFS_FUSE" ]]; then
      echo "== $name: skipped (no ukfs-fuse at $UKFS_FUSE)"
      skipped+=("$name")
      continue
    fi
    args+=("$(realpath "$UKFS_FUSE")")
  fi
  echo "== $name"
  bash "$script" "${args[@]}"
  rc=$?
  if [[ $rc == 2 ]]; then
    skipped+=("$name")
  elif [[ $rc != 0 ]]; then
    echo "== $name failed (exit $rc)"
    failed+=("$name")
  fi
done
echo "== done; skipped: ${skipped[*]:-none}; failed: ${failed[*]:-none}"
[[ ${#failed[@]} == 0 ]]
