#!/usr/bin/env bash
# Seed corpus for fuzz/ext2fs_image_fuzzer.cpp, made by mke2fs at build time (nothing binary
# is committed): small ext2, ext3 and ext4 images (1 KiB blocks, with and without
# metadata_csum, inline_data, 128-byte inodes, a hash tree directory) of a tree holding small,
# sparse and multi-block files, fast and slow symlinks, a FIFO and nested directories.
# Two more carry a journal that needs recovery (transactions written by debugfs' journal
# writer: logged blocks, an escaped block, a revoke), with and without journal checksums, so
# the read-only mount runs the recovery passes. Without mke2fs the corpus stays empty, with a
# note.
# Usage: gen_ext2fs_seeds.sh OUTDIR
set -euo pipefail

out=${1:?usage: gen_ext2fs_seeds.sh OUTDIR}
mkdir -p "$out"
if ! command -v mke2fs >/dev/null 2>&1; then
    echo "gen_ext2fs_seeds: mke2fs not found; no seeds" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

src="$tmp/src"
mkdir -p "$src/d1/d2" "$src/big"
printf 'hello\n' > "$src/small"
head -c 5000 /dev/urandom > "$src/d1/multi"
head -c 20000 /dev/urandom > "$src/d1/d2/bigger"
truncate -s 300K "$src/sparse"
printf 'tail' | dd of="$src/sparse" bs=1 seek=200000 conv=notrunc status=none
ln -s small "$src/fast_link"
ln -s "$(printf 'x%.0s' $(seq 1 80))" "$src/slow_link"
ln "$src/small" "$src/d1/hard"
mkfifo "$src/fifo"
for i in $(seq 1 120); do : > "$src/big/entry-$i-with-a-long-name"; done

n=0
for opts in "ext2" "ext3" "ext4" "ext4 -O ^metadata_csum" "ext4 -O inline_data" \
            "ext4 -I 128" "ext2 -O ^filetype" "ext4 -O ^64bit,^metadata_csum"; do
    img="$tmp/img$n"
    # shellcheck disable=SC2086
    mke2fs -q -F -t $opts -b 1024 -N 256 -d "$src" -E root_owner=0:0 "$img" 1M >/dev/null 2>&1
    if [[ $n -eq 2 ]] && command -v e2fsck >/dev/null 2>&1; then
        e2fsck -fyD "$img" >/dev/null 2>&1 || true  # make "big" a hash tree
    fi
    cp "$img" "$out/ext2fs-$n"
    n=$((n + 1))
done

# Images needing recovery: the smallest journal is 1024 blocks, hence the larger images
# (2200 KiB: the smoke in fuzz/CMakeLists.txt raises -max_len to match).
if ! command -v debugfs >/dev/null 2>&1 ||
    ! debugfs -R help /dev/null 2>&1 | grep -q journal_write; then
    echo "gen_ext2fs_seeds: no debugfs journal writer; no journal seeds" >&2
    exit 0
fi
head -c 3072 /dev/urandom > "$tmp/logged"
printf '\xc0\x3b\x39\x98' | dd of="$tmp/logged" bs=1 conv=notrunc status=none  # escaped
for variant in "ext4:-c" "ext3:"; do
    type=${variant%%:*}
    jopts=${variant#*:}
    img="$tmp/img$n"
    mke2fs -q -F -t "$type" -b 1024 -N 256 -J size=1 -d "$src" -E root_owner=0:0 "$img" 2200K \
        >/dev/null 2>&1
    data=$(debugfs -R "bmap /d1/multi 0" "$img" 2>/dev/null)
    printf 'jo %s\njw -b %s,2190,2191 %s\njw -r 2191 /dev/null\njc\n' \
        "$jopts" "$data" "$tmp/logged" > "$tmp/cmds"
    debugfs -w -f "$tmp/cmds" "$img" >/dev/null 2>&1
    cp "$img" "$out/ext2fs-$n"
    n=$((n + 1))
done
