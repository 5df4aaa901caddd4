#!/usr/bin/env bash
# Seed corpus for fuzz/ffs_image_fuzzer.cpp and fuzz/ffs_check_fuzzer.cpp, made by makefs at
# build time (nothing binary is committed): small UFS1 and UFS2 images in both byte orders, 4 KiB and 8 KiB blocks, of a
# tree holding small, fragment-tailed and multi-block files (one past the direct blocks),
# short and long symlinks, hard links, a FIFO and nested directories.
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
mkdir -p "$src/d1/d2" "$src/big"
printf 'hello\n' > "$src/small"
head -c 1500 /dev/urandom > "$src/d1/tail"
head -c 60000 /dev/urandom > "$src/d1/d2/indirect"
ln -s small "$src/fast_link"
ln -s "$(printf 'x%.0s' $(seq 1 130))" "$src/slow_link"
ln "$src/small" "$src/d1/hard"
mkfifo "$src/fifo"
for i in $(seq 1 60); do : > "$src/big/entry-$i-with-a-long-name"; done

n=0
for opts in "-B le -o version=1,bsize=4096,fsize=512" "-B be -o version=1,bsize=4096,fsize=512" \
            "-B le -o version=2,bsize=4096,fsize=512" "-B be -o version=2,bsize=4096,fsize=1024" \
            "-B le -o version=2,bsize=8192,fsize=1024" "-B be -o version=1,bsize=8192,fsize=2048"; do
    img="$tmp/img$n"
    # shellcheck disable=SC2086
    makefs -t ffs -s 1m $opts "$img" "$src" >/dev/null 2>&1
    cp "$img" "$out/ffs-$n"
    n=$((n + 1))
done
