#!/usr/bin/env bash
# Seed corpus for fuzz/ffs_check_fuzzer.cpp, made by makefs at build time (nothing binary is
# committed): small UFS1 and UFS2 images of both byte orders of a tree holding small, sparse and
# multi-block files, fast and slow symlinks, a FIFO, a hard link and nested directories.
# Without makefs the corpus stays empty, with a note.
# Usage: gen_ffs_seeds.sh OUTDIR
set -euo pipefail

out=${1:?usage: gen_ffs_seeds.sh OUTDIR}
mkdir -p "$out"
if ! command -v makefs >/dev/null 2>&1; then
    echo "gen_ffs_seeds: makefs not found; no seeds" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

src="$tmp/src"
mkdir -p "$src/d1/d2" "$src/many"
printf 'hello\n' > "$src/small"
head -c 5000 /dev/urandom > "$src/d1/multi"
head -c 120000 /dev/urandom > "$src/d1/d2/bigger"
truncate -s 300K "$src/sparse"
ln -s small "$src/fast_link"
ln -s "$(printf 'x%.0s' $(seq 1 150))" "$src/slow_link"
ln "$src/small" "$src/d1/hard"
mkfifo "$src/fifo"
for i in $(seq 1 40); do : > "$src/many/entry-$i-with-a-long-name"; done

n=0
for opts in "-B le -o version=1,bsize=4096,fsize=512" "-B be -o version=1,bsize=8192,fsize=1024" \
            "-B le -o version=2,bsize=4096,fsize=512" "-B be -o version=2,bsize=8192,fsize=1024"; do
    # shellcheck disable=SC2086
    makefs -t ffs -b 20% $opts "$out/ffs-$n.img" "$src" >/dev/null
    n=$((n + 1))
done
