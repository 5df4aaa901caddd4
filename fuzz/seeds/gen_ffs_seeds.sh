#!/usr/bin/env bash
# Seed corpus for fuzz/ffs_image_fuzzer.cpp and fuzz/ffs_check_fuzzer.cpp, made by makefs at
# build time (nothing binary is committed): small UFS1 and UFS2 images in both byte orders, 4 KiB and 8 KiB blocks, of a
# tree holding small, fragment-tailed and multi-block files (one past the direct blocks),
# short and long symlinks, hard links, a FIFO and nested directories. Two more (python3) have
# NetBSD quota2 on: the tree's q_user and q_group files become the quota files (header, one
# entry an id with the usage counted, the other slots free), unnamed, and the superblock says so.
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
if ! command -v python3 >/dev/null 2>&1; then
    echo "gen_ffs_seeds: python3 missing, no quota2 seeds" >&2
    exit 0
fi
for opts in "-B le -o version=2,bsize=4096,fsize=512" "-B be -o version=1,bsize=8192,fsize=1024"; do
    bs=${opts##*bsize=}
    bs=${bs%%,*}
    rm -f "$src/q_user" "$src/q_group"
    head -c $((2 * bs)) /dev/zero > "$src/q_user"
    head -c $((2 * bs)) /dev/zero > "$src/q_group"
    img="$tmp/img$n"
    # shellcheck disable=SC2086
    makefs -t ffs -s 1m $opts "$img" "$src" >/dev/null 2>&1
    python3 - "$img" <<'PY'
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, 'rb').read())
# Superblock offsets: fs/ffs/format.hpp (NetBSD ufs/ffs/fs.h); quota2 layout: ufs/ufs/quota2.h.
for sbloc in (65536, 8192):
    for e in '<>':
        magic = struct.unpack_from(e + 'I', b, sbloc + 1372)[0]
        if magic in (0x19540119, 0x011954):
            break
    else:
        continue
    break
ufs2 = magic == 0x19540119
def g(fmt, off): return struct.unpack_from(e + fmt, b, off)[0]
def p(fmt, off, v): struct.pack_into(e + fmt, b, off, v)
sb = lambda o: g('i', sbloc + o)
iblkno, cgoff, cgmask, ncg = sb(16), sb(24), sb(28), sb(44)
bsize, fsize, frag, inopb, ipg, fpg = sb(48), sb(52), sb(56), sb(120), sb(184), sb(188)
isz = 256 if ufs2 else 128
def inode(ino):
    c = ino // ipg
    start = fpg * c + (0 if ufs2 else cgoff * (c & ~cgmask))
    return (start + iblkno + (ino % ipg) // inopb * frag) * fsize + (ino % inopb) * isz
def db(ino, i): return g('Q', inode(ino) + 112 + 8 * i) if ufs2 else g('i', inode(ino) + 40 + 4 * i)
q = {}
d = db(2, 0) * fsize
off = d
while off < d + bsize:
    ino, reclen, namlen = g('I', off), g('H', off + 4), b[off + 7]
    name = bytes(b[off + 8:off + 8 + namlen])
    if name in (b'q_user', b'q_group'):
        q[0 if name == b'q_user' else 1] = ino
        p('I', off, 0)
    if reclen == 0:
        break
    off += reclen
use = [{}, {}]
for ino in range(2, ipg * ncg):
    i = inode(ino)
    if g('H', i) & 0o170000 == 0 or ino in q.values():
        continue
    ids = (g('I', i + 4), g('I', i + 8)) if ufs2 else (g('I', i + 112), g('I', i + 116))
    blocks = g('Q', i + 24) if ufs2 else g('I', i + 104)
    for t in (0, 1):
        u = use[t].setdefault(ids[t], [0, 0])
        u[0] += blocks
        u[1] += 1
shift = 8
while shift < 15 and (8 << (shift + 1)) + 112 <= bsize:
    shift += 1
for t in (0, 1):
    blk = [db(q[t], 0) * fsize, db(q[t], 1) * fsize]
    at = lambda o: blk[o // bsize] + o % bsize
    p('I', at(0), 0xb746915e)
    b[at(4)], b[at(5)] = t, shift
    p('H', at(6), 1 << shift)
    slots = list(range(112 + (8 << shift), bsize - 95, 96)) + list(range(bsize, 2 * bsize - 95, 96))
    for (uid, (nb, nf)), eo in zip(sorted(use[t].items()), slots):
        head = at(112 + 8 * (uid & ((1 << shift) - 1)))
        p('Q', at(eo + 16), nb)
        p('Q', at(eo + 56), nf)
        p('Q', at(eo + 80), g('Q', head))
        p('I', at(eo + 88), uid)
        p('Q', head, eo)
    for eo in slots[len(use[t]):]:
        p('Q', at(eo + 80), g('Q', at(104)))
        p('Q', at(104), eo)
p('I', sbloc + 1312, g('I', sbloc + 1312) | 0x200)
p('I', sbloc + 904, 0xb746915e)
b[sbloc + 908] = 3
p('Q', sbloc + 912, q[0])
p('Q', sbloc + 920, q[1])
open(path, 'wb').write(b)
PY
    cp "$img" "$out/ffs-$n"
    n=$((n + 1))
done
