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

# A journaled UFS2 image (FS_DOWAPBL): a 16-block WAPBL log after fs_size holding one
# transaction (the file system's last sector), so the fuzzers reach the log reader and the
# replayed view. makefs cannot make a log; the superblock's journal fields (fs_journal_version
# at 864, fs_journal_location 865, fs_journallocs 872, fs_flags 1312) and the log are written
# here, little-endian, as NetBSD on a little-endian machine writes them.
if command -v python3 >/dev/null 2>&1; then
    python3 - "$out/ffs-2" "$out/ffs-wapbl" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
sb = next(o for o in (65536, 8192) if struct.unpack_from('<I', b, o + 1372)[0] == 0x19540119)
addr, count, sec = len(b) // 512, 16, 512
struct.pack_into('<I', b, sb + 1312, struct.unpack_from('<I', b, sb + 1312)[0] | 0x100)
b[sb + 864], b[sb + 865] = 1, 1
struct.pack_into('<4Q', b, sb + 872, addr, count, sec, 0)
log = bytearray(count * sec)
circ_off, circ_size = 2 * sec, (count - 2) * sec
for n, gen in ((0, 1), (1, 2)):
    struct.pack_into('<IiII8xQIIIIqqqq', log, n * sec, 0x5741424c, sec, 0, gen, 0, 0, 1, 9, 9,
                     circ_off + 2 * sec, circ_off, circ_off, circ_size)
struct.pack_into('<IiiiqiI', log, circ_off, 0x5741424f, 2 * sec, 1, 0, addr - 1, 0, sec)
log[circ_off + sec:circ_off + 2 * sec] = b'\xa5' * sec
open(sys.argv[2], 'wb').write(b + log)
PY
fi
