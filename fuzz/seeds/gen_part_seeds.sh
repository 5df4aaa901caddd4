#!/usr/bin/env bash
# Seed corpus for fuzz/part_fuzzer.cpp, made by the reference tools at build time (nothing
# binary is committed): small MBR images with logical partitions (sfdisk), GPT images with
# named partitions (sgdisk), BSD disklabels in both byte orders (python3, laid out as NetBSD's
# sys/disklabel.h), and selector strings. A missing tool skips its seeds, with a note.
# Usage: gen_part_seeds.sh OUTDIR
set -euo pipefail

out=${1:?usage: gen_part_seeds.sh OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Selectors: every form and every error class of docs/partitions.md.
i=0
for s in 'disk.img' 'disk.img%DISKLABEL:a%' 'd%DISKLABEL:v%' 'd%DISKLABEL:w%' \
         'd%OFFSET:0,1%' 'd%OFFSET:512,512%' 'd%OFFSET:-1,2%' 'd%OFFSET:1x,2%' \
         'd%OFFSET:99999999999999999999,1%' 'd%OFFSET:12%' 'd%PART:a%' 'd%MBR:5%' \
         'd%GPT:2%' 'd%GPT:name=root%' 'd%GPT:name=50%%'; do
    printf '%s' "$s" > "$out/selector-$i"
    i=$((i + 1))
done

if command -v sfdisk >/dev/null 2>&1; then
    img="$tmp/mbr.img"
    truncate -s 64K "$img"
    printf 'label: dos\nstart=8, size=32, type=83\nstart=48, size=64, type=5\nstart=116, size=8, type=c\n%s5 : size=16, type=83\n%s6 : size=16, type=82\n' \
        "$img" "$img" | sfdisk -q "$img"
    cp "$img" "$out/mbr-logical"
    img="$tmp/mbr1.img"
    truncate -s 16K "$img"
    printf 'label: dos\nstart=1, size=31, type=a9\n' | sfdisk -q "$img"
    cp "$img" "$out/mbr-primary"
else
    echo "gen_part_seeds: sfdisk missing, no MBR seeds" >&2
fi

if command -v sgdisk >/dev/null 2>&1; then
    img="$tmp/gpt.img"
    truncate -s 96K "$img"
    sgdisk -a 1 -n 1:34:+8K -c 1:boot -n 2:0:+16K -c 2:root -n 3:0:+4K -c 3:root "$img" >/dev/null
    cp "$img" "$out/gpt-names"
else
    echo "gen_part_seeds: sgdisk missing, no GPT seeds" >&2
fi

if command -v python3 >/dev/null 2>&1; then
    python3 - "$out" <<'PY'
import struct, sys
out = sys.argv[1]
MAGIC = 0x82564557

def label(order, parts, secsize=512):
    head = struct.pack(order + 'IHH16s16sIIIIIIHHIHHHHIII5I5IIHHII', MAGIC, 12, 0, b'vnd', b'fuzz',
                       secsize, 32, 64, 16, 2048, 32768, 0, 0, 0, 3600, 1, 0, 0, 0, 0, 0,
                       *([0] * 10), MAGIC, 0, len(parts), 8192, 8192)
    body = b''.join(struct.pack(order + 'IIIBBH', size, off, 2048, fstype, 8, 16)
                    for off, size, fstype in parts)
    raw = bytearray(head + body)
    ck = 0
    for (w,) in struct.iter_unpack(order + 'H', bytes(raw)):
        ck ^= w
    struct.pack_into(order + 'H', raw, 136, ck)
    return bytes(raw)

parts = [(16, 32, 7), (48, 16, 1), (0, 64, 0), (64, 8, 8)]
for name, order in (('disklabel-le', '<'), ('disklabel-be', '>')):
    img = bytearray(40 * 1024)
    img[512:512 + 148 + 16 * len(parts)] = label(order, parts)
    open(f'{out}/{name}', 'wb').write(img)
PY
else
    echo "gen_part_seeds: python3 missing, no disklabel seeds" >&2
fi
echo "gen_part_seeds: $(ls "$out" | wc -l) seeds in $out"
