#!/usr/bin/env bash
# Seed corpus for fuzz/cd9660_image_fuzzer.cpp, made by xorriso at build time (nothing binary
# is committed): small images (-no-pad) of a tree with small and multi-block files, nested
# directories, a deep chain that Rock Ridge relocates, symlinks and a long name; plain, Rock
# Ridge, Joliet, both, relocated, ISO level 3, an appended session, a hybrid with a partition
# table. The first byte of a seed picks the mount flags (see the fuzzer): some seeds get
# NORRIP or NOJOLIET|NORRIP or GENS there. Without xorriso the corpus stays empty, with a note.
# Usage: gen_cd9660_seeds.sh OUTDIR
set -euo pipefail

out=${1:?usage: gen_cd9660_seeds.sh OUTDIR}
mkdir -p "$out"
if ! command -v xorriso >/dev/null 2>&1; then
    echo "gen_cd9660_seeds: xorriso not found; no seeds" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

src="$tmp/src"
mkdir -p "$src/Dir One/two"
printf 'hello\n' > "$src/small.txt"
head -c 5000 /dev/urandom > "$src/Dir One/multi"
: > "$src/Dir One/two/empty"
p="$src"
for i in 1 2 3 4 5 6 7 8 9 10; do p="$p/d$i"; done
mkdir -p "$p"
printf 'deep' > "$p/leaf"
ln -s small.txt "$src/link"
ln -s "../x/./y//$(printf 'z%.0s' $(seq 1 120))" "$src/Dir One/longlink"
: > "$src/$(printf 'n%.0s' $(seq 1 150))"
for i in $(seq 1 40); do : > "$src/Dir One/entry-$i"; done

mk() { xorriso -as mkisofs -no-pad "$@" >/dev/null 2>&1; }
# Put the mount flags in byte 0 of a seed (the system area).
flags() { printf "\\x$(printf %02x "$2")" | dd of="$1" bs=1 count=1 conv=notrunc status=none; }

n=0
for opts in "--norock" "-R" "-R -J" "--norock -J" "-R -rr_reloc_dir rr_moved" \
            "-R -J -iso-level 3" "--norock -iso-level 1"; do
    # shellcheck disable=SC2086
    mk $opts -o "$out/cd9660-$n" "$src" || true
    n=$((n + 1))
done
cp "$out/cd9660-2" "$out/cd9660-norrip" && flags "$out/cd9660-norrip" 1
cp "$out/cd9660-2" "$out/cd9660-plain" && flags "$out/cd9660-plain" 9
cp "$out/cd9660-0" "$out/cd9660-gens" && flags "$out/cd9660-gens" 2
cp "$out/cd9660-0" "$out/cd9660-nocase" && flags "$out/cd9660-nocase" 16

# An appended session, in place.
cp "$out/cd9660-1" "$tmp/ms.iso"
xorriso -dev "$tmp/ms.iso" -map "$src/Dir One" /again -commit >/dev/null 2>&1 &&
    cp "$tmp/ms.iso" "$out/cd9660-session" || true
# A hybrid image with a partition table and an appended partition.
head -c 4096 /dev/urandom > "$tmp/part"
mk -R -append_partition 2 0x83 "$tmp/part" -o "$out/cd9660-hybrid" "$src" || true
# makefs' Rock Ridge, when present.
if command -v makefs >/dev/null 2>&1; then
    makefs -t cd9660 -o rockridge "$out/cd9660-makefs" "$src" >/dev/null 2>&1 || true
fi
