#!/bin/bash
# fsu mkfs + fsu populate write the same bytes for the same tree, seed and SOURCE_DATE_EPOCH on
# every writable type (ext2, ext4, UFS1, UFS2, FAT32), built twice a second apart; another
# seed gives other bytes; each image passes its type's checker (e2fsck, fsu fsck, fsck.fat);
# a contents= file of some MiB from the spec arrives whole. Usage: populate_repro_test.sh fsu
source "$(dirname "$0")/check.sh"
FSU=$1
workdir fsu_repro

# The tree: a deep directory, a symlink, a hard link, a file of several blocks; the spec adds
# device nodes, a directory and a file whose bytes come from contents=.
# FAT holds no links nor device nodes: its tree (F) and spec leave them out.
F=$W/fat
mkdir -p "$F/a/b/c/d/e/f/g/h" "$F/blobs" "$F/empty"
echo hello >"$F/a/file"
echo deep >"$F/a/b/c/d/e/f/g/h/leaf"
head -c 200000 /dev/urandom >"$F/a/b/random"
head -c $((5 << 20)) /dev/urandom >"$F/blobs/big.bin"
touch -d @1900000000 "$F/a/file"  # after the epoch: clamped
T=$W/tree
cp -a "$F" "$T"
ln "$T/a/file" "$T/a/hard"
ln -s ../file "$T/a/b/link"
cat >"$W/fat.spec" <<'SPEC'
#mtree
/set type=file uid=0 gid=0 mode=0644
. type=dir mode=0755
./dev type=dir mode=0755
./big type=file mode=0640 time=1500000000.0 contents=blobs/big.bin
SPEC
cat "$W/fat.spec" - >"$W/spec" <<'SPEC'
./dev/null type=char device=native,1,3 mode=0666
./dev/sda type=block device=native,8,0 mode=0660 gid=6
SPEC
export SOURCE_DATE_EPOCH=1600000000

# NAME MKFS_TYPE MKFS_OPTIONS SEED OUTPUT: an image made and populated.
build() {
    local name=$1 type=$2 opts=$3 seed=$4 out=$5
    rm -f "$out"
    local extra=""
    [ -n "$seed" ] && extra="seed=$seed,"
    [ "$type" = msdos ] && extra=""
    "$FSU" mkfs -t "$type" -s 40m -o "$extra$opts" "$out" || { bad "$name: mkfs"; return 1; }
    local mo=()
    [ -n "$seed" ] && mo=(-o "seed=$seed")
    local tree=$T spec=$W/spec
    [ "$type" = msdos ] && tree=$F spec=$W/fat.spec
    "$FSU" populate "${mo[@]}" "$out" -F "$spec" -u 0 -g 0 "$tree" ||
        { bad "$name: populate"; return 1; }
}

check_image() {  # NAME TYPE IMAGE
    case $2 in
    ext2fs)
        if command -v e2fsck >/dev/null; then
            e2fsck -fn "$3" >"$W/fsck" 2>&1 && ok || { bad "$1: e2fsck -fn"; head -20 "$W/fsck"; }
        else
            echo "SKIP: $1: e2fsck missing"
        fi
        ;;
    ffs)
        "$FSU" fsck "$3" >"$W/fsck" 2>&1 && ok || { bad "$1: fsu fsck"; head -20 "$W/fsck"; }
        ;;
    msdos)
        if command -v fsck.fat >/dev/null; then
            fsck.fat -n "$3" >"$W/fsck" 2>&1 && ok || { bad "$1: fsck.fat -n"; head -20 "$W/fsck"; }
        else
            echo "SKIP: $1: fsck.fat missing"
        fi
        ;;
    esac
}

while read -r name type opts; do
    [ "$opts" = - ] && opts=""
    seed=1234
    [ "$type" = msdos ] && seed=""
    build "$name" "$type" "$opts" "$seed" "$W/one.img" || continue
    sleep 1  # another wall-clock second: nothing may depend on it
    build "$name" "$type" "$opts" "$seed" "$W/two.img" || continue
    if cmp -s "$W/one.img" "$W/two.img"; then
        ok
    else
        bad "$name: two builds differ"
        cmp -l "$W/one.img" "$W/two.img" | head -10
    fi
    check_image "$name" "$type" "$W/one.img"
    "$FSU" cat "$W/one.img" /big >"$W/big.out" && cmp -s "$F/blobs/big.bin" "$W/big.out" && ok ||
        bad "$name: the contents= file read back"
    if [ "$type" != msdos ]; then
        "$FSU" ls "$W/one.img" -l /a/b/link | grep -q -- '-> \.\./file$' && ok ||
            bad "$name: the symlink"
        "$FSU" ls "$W/one.img" -l /dev/sda | grep -q '^b' && ok || bad "$name: the device node"
    fi
    if [ -n "$seed" ]; then
        build "$name" "$type" "$opts" 99 "$W/three.img" || continue
        cmp -s "$W/one.img" "$W/three.img" && bad "$name: another seed gives the same bytes" || ok
    fi
done <<'TYPES'
ext2 ext2fs fstype=ext2
ext4 ext2fs fstype=ext4
ufs1 ffs version=1
ufs2 ffs version=2
fat32 msdos fat=32
TYPES

# contents= stays beneath the source: neither an absolute path nor .. leaves it.
for bad_path in /etc/passwd ../spec; do
    printf '#mtree\n./leak type=file mode=0644 contents=%s\n' "$bad_path" >"$W/spec2"
    "$FSU" mkfs -t ext2fs -s 8m "$W/leak.img" >/dev/null
    "$FSU" populate "$W/leak.img" -F "$W/spec2" "$T" 2>"$W/err"
    [ $? = 1 ] && ok || bad "populate: contents=$bad_path is refused"
done

finish populate_repro
