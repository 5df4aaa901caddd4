#!/usr/bin/env bash
# Seed corpus for fuzz/msdos_image_fuzzer.cpp, made by mkfs.fat and mcopy at build time
# (nothing binary is committed): small FAT12, FAT16 and FAT32 images (512 to 4096-byte
# sectors, one or two FATs) of a tree with long and short names, nested directories, a
# directory of many entries, and files of one to several clusters.
# Without mkfs.fat or mcopy the corpus stays empty, with a note.
# Usage: gen_msdos_seeds.sh OUTDIR
set -euo pipefail

out=${1:?usage: gen_msdos_seeds.sh OUTDIR}
mkdir -p "$out"
if ! command -v mkfs.fat >/dev/null 2>&1 || ! command -v mcopy >/dev/null 2>&1; then
    echo "gen_msdos_seeds: mkfs.fat or mcopy not found; no seeds" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

src="$tmp/src"
mkdir -p "$src/d1/d2" "$src/many"
printf 'hello\n' > "$src/small.txt"
printf 'x' > "$src/UPPER.TXT"
head -c 5000 /dev/urandom > "$src/d1/A long name with spaces.bin"
head -c 20000 /dev/urandom > "$src/d1/d2/bigger"
for i in $(seq 1 40); do : > "$src/many/entry-$i-with-a-long-name"; done

n=0
for opts in "-F 12" "-F 12 -S 4096 -s 1" "-F 16 -s 1" "-F 32 -s 1" "-F 32 -f 1 -s 1" \
            "-F 12 -S 2048 -s 1"; do
    img="$tmp/img$n"
    size=1024
    [[ "$opts" == *"-F 16"* ]] && size=2400
    # shellcheck disable=SC2086
    mkfs.fat $opts -C "$img" $size >/dev/null 2>&1 || continue
    (cd "$src" && MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -Q -i "$img" ./* ::/ >/dev/null 2>&1) || true
    cp "$img" "$out/msdos-$n"
    n=$((n + 1))
done
