#!/bin/bash
# fsu's subcommands on every driver that can run them: one tree, put into an ext4 image
# (mke2fs -d), a FAT32 image (mkfs.fat + mcopy), an ISO (xorriso -R -J) and tmpfs (fsu
# populate), read back through fsu and compared with the host's tools on the tree; then the
# writing commands on each writable type, judged by that type's own checker and reader
# (e2fsck and debugfs, fsck.fat and mtools). Usage: fsu_drivers_test.sh PATH/TO/fsu
source "$(dirname "$0")/check.sh"
FSU=$1
export MTOOLS_SKIP_CHECK=1
workdir fsu_drivers

for t in mke2fs debugfs e2fsck mkfs.fat fsck.fat mcopy mdir mtype xorriso; do
    command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 0; }
done

# Names every type can hold (FAT: no case-only differences, no ':' or '*').
T=$W/tree
mkdir -p "$T/docs/deep/er" "$T/bin" "$T/empty"
printf 'hello\nworld\n' >"$T/docs/readme.txt"
seq 1 20000 >"$T/docs/numbers"
: >"$T/docs/zero"
head -c 70000 /dev/urandom >"$T/bin/blob"
echo deep >"$T/docs/deep/er/file"
echo "Long Name With Spaces" >"$T/docs/A Long File Name.text"

mke2fs -q -F -t ext4 -d "$T" -E root_owner=0:0 "$W/ext4.img" 16M >/dev/null 2>&1
mkfs.fat -F 32 -C "$W/fat.img" 40960 >/dev/null
mcopy -s -p -m -Q -i "$W/fat.img" "$T"/* ::/
xorriso -as mkisofs -quiet -R -J -o "$W/iso.img" "$T" 2>/dev/null

read_checks() {  # NAME IMAGE [fsu shell: the type is tmpfs]
    local name=$1 img=$2
    run() { "$FSU" "$1" "$img" "${@:2}"; }
    (cd "$T" && find . -mindepth 1 | sed 's|^\./|/|' | sort) >"$W/exp"
    run find / | grep -v -e '^/$' -e '^/lost+found' | sort >"$W/got"
    same "$name: find /" "$W/exp" "$W/got"
    (cd "$T" && find . -type f | sed 's|^\./|/|' | sort) >"$W/exp"
    run find / -type f | grep -v '^/lost+found' | sort >"$W/got"
    same "$name: find -type f" "$W/exp" "$W/got"
    (cd "$T/docs" && ls -1) >"$W/exp"
    run ls -1 /docs >"$W/got"
    same "$name: ls -1" "$W/exp" "$W/got"
    (cd "$T" && ls -1R docs) >"$W/exp"
    run ls -1R docs >"$W/got"
    same "$name: ls -1R" "$W/exp" "$W/got"
    for f in docs/readme.txt docs/numbers docs/zero bin/blob "docs/A Long File Name.text"; do
        run cat "/$f" >"$W/got"
        same "$name: cat $f" "$T/$f" "$W/got"
        run cmp "/$f" "host:$T/$f"
        rc "$name: cmp $f" 0 $?
    done
    (cd "$T" && stat -c '%s %n' docs/numbers bin/blob docs/zero) >"$W/exp"
    run stat -f '%z %N' docs/numbers bin/blob docs/zero >"$W/got"
    same "$name: stat -f %z" "$W/exp" "$W/got"
    run diff -r "host:$T/docs" /docs >"$W/got" 2>&1
    rc "$name: diff -r against the host tree" 0 $?
    run du -s /bin | awk '{ exit !($1 >= 68) }'
    rc "$name: du -s counts the blob" 0 $?
    run df >/dev/null
    rc "$name: df" 0 $?
    run info >/dev/null
    rc "$name: info" 0 $?
    mkdir -p "$W/out.$name"
    run ecp -R /docs "$W/out.$name"
    rc "$name: ecp -R" 0 $?
    diff -r "$T/docs" "$W/out.$name/docs" >/dev/null && ok || bad "$name: ecp -R tree"
    run cat /nope 2>"$W/err"
    rc "$name: cat /nope" 1 $?
    grep -qx 'fsu cat: /nope: No such file or directory' "$W/err" && ok || bad "$name: error message"
}

read_checks ext4 "$W/ext4.img"
read_checks msdos "$W/fat.img"
read_checks cd9660 "$W/iso.img"
if command -v makefs >/dev/null; then
    makefs -t ffs -o version=2 -B be -s 16m "$W/ffs2.img" "$T" >/dev/null
    makefs -t ffs -o version=1 -s 16m "$W/ffs1.img" "$T" >/dev/null
    read_checks ffs-ufs2-be "$W/ffs2.img"
    read_checks ffs-ufs1 "$W/ffs1.img"
    # fsu fsck: our FFS checker, as fsck_ffs -n reports.
    "$FSU" fsck "$W/ffs2.img" >"$W/got"
    rc "ffs: fsck of a makefs image" 0 $?
    grep -q '^\*\* Phase 5 - Check Cyl groups' "$W/got" && grep -Eq '^[0-9]+ files, [0-9]+ used' "$W/got" &&
        ok || { bad "ffs: fsck report"; cat "$W/got"; }
    # Break the summary: the first free-fragment count in the superblock (fs_cstotal.cs_nffree).
    python3 - "$W/ffs1.img" <<'PY'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
off = 8192 + 1008 + 24
v = struct.unpack_from('<q', d, off)[0]
struct.pack_into('<q', d, off, v + 5)
open(p, 'wb').write(d)
PY
    "$FSU" fsck -t ffs "$W/ffs1.img" >"$W/got"
    rc "ffs: fsck of a damaged summary" 8 $?
    grep -q 'FREE BLK COUNT(S) WRONG IN SUPERBLK' "$W/got" && ok || { bad "ffs: fsck names the fault"; cat "$W/got"; }
    # A destroyed primary superblock (UFS2 at 8192): the error names the copy in cylinder
    # group 1 and the options that take it; with -o backup the tree reads back, read-only.
    makefs -t ffs -o version=2,bsize=4096,fsize=512 -B be -s 16m "$W/ffs2b.img" "$T" >/dev/null
    dd if=/dev/zero of="$W/ffs2b.img" bs=512 seek=16 count=3 conv=notrunc 2>/dev/null
    "$FSU" ls -t ffs "$W/ffs2b.img" / >/dev/null 2>"$W/err"
    rc "ffs: a destroyed primary superblock" 1 $?
    grep -q 'primary superblock is bad.*-o backup' "$W/err" && ok || { bad "ffs: the error suggests -o backup"; cat "$W/err"; }
    "$FSU" diff -t ffs -o backup "$W/ffs2b.img" -r "host:$T" / >"$W/got" 2>&1
    rc "ffs: -o backup reads the whole tree" 0 $?
    "$FSU" mkdir -t ffs -o backup "$W/ffs2b.img" /new 2>"$W/err"
    rc "ffs: -o backup refuses writing" 1 $?
    grep -q 'read-only' "$W/err" && ok || { bad "ffs: -o backup, the refusal says read-only"; cat "$W/err"; }
    "$FSU" ls -t ffs -o nonsense=1 "$W/ffs1.img" / >/dev/null 2>"$W/err"
    rc "ffs: an unknown mount option" 2 $?
fi

# fsu mkfs -t ffs: our newfs, judged by our checker, read back through fsu, and reproducible.
for v in version=1,endian=be version=2; do
    for i in 1 2; do
        rm -f "$W/new$i.img"
        "$FSU" mkfs -t ffs -s 24m -L newvol -o "$v,bsize=16384,fsize=2048,time=1700000000,seed=7" \
            "$W/new$i.img"
        rc "ffs mkfs $v" 0 $?
    done
    same "ffs mkfs $v: same seed and time, same bytes" "$W/new1.img" "$W/new2.img"
    "$FSU" fsck "$W/new1.img" >"$W/got"
    rc "ffs mkfs $v: fsck" 0 $?
    grep -Eq '^[0-9]+ files, [0-9]+ used' "$W/got" && ok || { bad "ffs mkfs $v: fsck report"; cat "$W/got"; }
    "$FSU" info "$W/new1.img" >"$W/got"
    rc "ffs mkfs $v: info" 0 $?
    grep -q 'ffs' "$W/got" && ok || { bad "ffs mkfs $v: info names the type"; cat "$W/got"; }
    "$FSU" ls "$W/new1.img" / >"$W/got"
    rc "ffs mkfs $v: ls" 0 $?
    [ ! -s "$W/got" ] && ok || { bad "ffs mkfs $v: the new root is not empty"; cat "$W/got"; }
done
"$FSU" mkfs -t ffs -s 24m -o bogus=1 "$W/new3.img" 2>"$W/got"
[ $? -ne 0 ] && grep -q bogus "$W/got" && ok || { bad "ffs mkfs: an unknown key is refused by name"; cat "$W/got"; }
"$FSU" mkfs -t ffs -s 24m -o bsize=3000 "$W/new3.img" 2>"$W/got"
[ $? -ne 0 ] && grep -q bsize "$W/got" && ok || { bad "ffs mkfs: a bad bsize is refused by name"; cat "$W/got"; }

# The writing commands; `check` judges the image with the type's own tools afterwards.
write_checks() {  # NAME IMAGE
    local name=$1 img=$2
    run() { "$FSU" "$1" "$img" "${@:2}"; }
    run mkdir -p /new/a/b && run cp "host:$T/docs/numbers" /new/a/b/n &&
        run cp -R "host:$T/bin" /new/bin2 && printf 'from stdin' | run write /new/w &&
        run mv /new/a/b/n /new/moved && run rm /docs/zero && run rmdir /empty &&
        run touch -d '2021-05-06 07:08:10' /new/w && run rm -r /new/a
    rc "$name: mkdir, cp, write, mv, rm, rmdir, touch" 0 $?
    run cat /new/w >"$W/got"
    printf 'from stdin' >"$W/exp"
    same "$name: write, read back" "$W/exp" "$W/got"
    run stat -f '%Sm' -t '%Y-%m-%d %H:%M:%S' /new/w >"$W/got"
    echo '2021-05-06 07:08:10' >"$W/exp"
    same "$name: touch -d" "$W/exp" "$W/got"
    run ls /new >"$W/got"
    printf 'bin2\nmoved\nw\n' >"$W/exp"
    same "$name: ls after the changes" "$W/exp" "$W/got"
    run mv /new/moved /docs 2>/dev/null
    rc "$name: mv into a directory" 0 $?
    run rmdir /docs 2>"$W/err"
    rc "$name: rmdir of a non-empty directory" 1 $?
    grep -q 'Directory not empty' "$W/err" && ok || bad "$name: rmdir message"
}

write_checks ext4 "$W/ext4.img"
e2fsck -fn "$W/ext4.img" >/dev/null 2>&1
rc "ext4: e2fsck -fn after the writes" 0 $?
debugfs -R 'cat /docs/moved' "$W/ext4.img" 2>/dev/null >"$W/got"
same "ext4: debugfs reads the moved file" "$T/docs/numbers" "$W/got"
debugfs -R 'cat /new/bin2/blob' "$W/ext4.img" 2>/dev/null >"$W/got"
same "ext4: debugfs reads the copied tree" "$T/bin/blob" "$W/got"

write_checks msdos "$W/fat.img"
fsck.fat -n "$W/fat.img" >/dev/null 2>&1
rc "msdos: fsck.fat -n after the writes" 0 $?
mtype -i "$W/fat.img" ::/docs/moved >"$W/got"
same "msdos: mtype reads the moved file" "$T/docs/numbers" "$W/got"
mtype -i "$W/fat.img" ::/new/bin2/blob >"$W/got"
same "msdos: mtype reads the copied tree" "$T/bin/blob" "$W/got"
mdir -b -i "$W/fat.img" ::/new | sed 's|^::/new/||' | sort >"$W/got"
printf 'bin2/\nw\n' >"$W/exp"
same "msdos: mdir lists what we left" "$W/exp" "$W/got"

"$FSU" mkdir "$W/iso.img" /x 2>"$W/err"
rc "cd9660: writing fails" 1 $?
grep -q 'Read-only file system' "$W/err" && ok || bad "cd9660: EROFS message: $(cat "$W/err")"

# tmpfs: populate, then the same reads and writes through one `fsu shell`.
printf 'populate %s\nls -1R docs\ncat "/docs/A Long File Name.text"\nmkdir /z\nls /\n' "$T" |
    "$FSU" shell -t tmpfs - >"$W/got" 2>&1
rc "tmpfs: populate and read in one shell" 0 $?
{
    (cd "$T" && ls -1R docs)
    cat "$T/docs/A Long File Name.text"
    (ls -1 "$T"; echo z) | sort
} >"$W/exp"
same "tmpfs: shell output" "$W/exp" "$W/got"

# ---- fsu mkfs -t ext2fs: e2fsck passes it, fsu and debugfs read it ----
for fstype in ext2 ext3 ext4; do
    rm -f "$W/mk.img"
    "$FSU" mkfs -t ext2fs -s 32m -L "mk-$fstype" -o fstype=$fstype "$W/mk.img"
    rc "mkfs -t ext2fs -o fstype=$fstype" 0 $?
    e2fsck -fn "$W/mk.img" >/dev/null 2>&1
    rc "mkfs $fstype: e2fsck -fn" 0 $?
    "$FSU" ls "$W/mk.img" / >"$W/got"
    echo lost+found >"$W/exp"
    same "mkfs $fstype: fsu ls /" "$W/exp" "$W/got"
    dumpe2fs -h "$W/mk.img" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p' >"$W/got"
    echo "mk-$fstype" >"$W/exp"
    same "mkfs $fstype: the label" "$W/exp" "$W/got"
    "$FSU" mkdir "$W/mk.img" /d && "$FSU" cp "$W/mk.img" "host:$T/docs/numbers" /d/n
    rc "mkfs $fstype: mkdir and cp" 0 $?
    e2fsck -fn "$W/mk.img" >/dev/null 2>&1
    rc "mkfs $fstype: e2fsck -fn after writing" 0 $?
    debugfs -R 'cat /d/n' "$W/mk.img" 2>/dev/null >"$W/got"
    same "mkfs $fstype: debugfs reads what fsu wrote" "$T/docs/numbers" "$W/got"
done
rm -f "$W/mk.img"
"$FSU" mkfs -t ext2fs -s 32m -o features=warp_drive "$W/mk.img" 2>"$W/err"
rc "mkfs ext2fs: an unknown feature" 1 $?
grep -q warp_drive "$W/err" && ok || bad "mkfs ext2fs: the message names the feature"
"$FSU" mkfs -t ext2fs -s 32m -o fstype=ext4,uuid=00112233-4455-6677-8899-aabbccddeeff,hash_seed=00112233-4455-6677-8899-aabbccddeef0,time=86400 "$W/mk.img" &&
    cp "$W/mk.img" "$W/mk2.img" &&
    "$FSU" mkfs -t ext2fs -s 32m -o fstype=ext4,uuid=00112233-4455-6677-8899-aabbccddeeff,hash_seed=00112233-4455-6677-8899-aabbccddeef0,time=86400 "$W/mk.img"
rc "mkfs ext2fs twice with a fixed uuid, hash_seed and time" 0 $?
same "mkfs ext2fs: the same bytes both times" "$W/mk2.img" "$W/mk.img"

# ---- -o async: writes unordered and flushed once, the same tree once done ----
rm -f "$W/as.img"
"$FSU" mkfs -t ext2fs -s 32m "$W/as.img" && "$FSU" cp -o async "$W/as.img" -R "host:$T/docs" /docs
rc "cp -R -o async into a new ext4" 0 $?
e2fsck -fn "$W/as.img" >/dev/null 2>&1
rc "async: e2fsck -fn" 0 $?
"$FSU" diff "$W/as.img" -r "host:$T/docs" /docs
rc "async: fsu diff against the source" 0 $?
rm -f "$W/as.img" "$W/mk2.img"

# ---- extended attributes: ext4 and tmpfs (read-write; ext4 in the inode and in a block) ----
X=$W/xsrc
mkdir -p "$X/d"
echo a >"$X/f"
if setfattr -n user.small -v hello "$X/f" 2>/dev/null; then
    setfattr -n user.bin -v 0x00ff10 "$X/f"
    setfattr -n user.big -v "$(head -c 1500 /dev/zero | tr '\0' x)" "$X/f"
    setfattr -n user.dirattr -v "on a dir" "$X/d"
    mke2fs -q -F -t ext4 -b 4096 -d "$X" "$W/x.img" 16M >/dev/null 2>&1
    (cd "$X" && getfattr -d f d) >"$W/exp"
    "$FSU" getfattr "$W/x.img" -d f d >"$W/got"
    same "ext4: getfattr -d as the host's getfattr shows the source" "$W/exp" "$W/got"
    (cd "$X" && getfattr -e hex -n user.bin f) >"$W/exp"
    "$FSU" getfattr "$W/x.img" -e hex -n user.bin f >"$W/got"
    same "ext4: getfattr -e hex -n" "$W/exp" "$W/got"
    printf 'setfattr -n user.k -v "some text" /f\nsetfattr -n user.h -v 0x0102 /f\nsetfattr -x user.small /f\ngetfattr -d /f\n' >"$W/script"
    { echo "populate $X"; cat "$W/script"; } | "$FSU" shell -t tmpfs - >"$W/got" 2>&1
    setfattr -n user.k -v "some text" "$X/f" && setfattr -n user.h -v 0x0102 "$X/f" && setfattr -x user.small "$X/f"
    (cd "$X" && getfattr -d f | sed 's|^# file: f|# file: f|') >"$W/exp"
    same "tmpfs: setfattr, setfattr -x, then getfattr -d" "$W/exp" "$W/got"
    # ext4 written by the driver: the same changes plus a block-sized value on the directory,
    # then fsu's getfattr, debugfs and e2fsck judge the image
    big=$(head -c 2000 /dev/zero | tr '\0' y)
    "$FSU" setfattr "$W/x.img" -n user.k -v "some text" f &&
        "$FSU" setfattr "$W/x.img" -n user.h -v 0x0102 f &&
        "$FSU" setfattr "$W/x.img" -x user.small f &&
        "$FSU" setfattr "$W/x.img" -n user.big2 -v "$big" d
    rc "ext4: setfattr and setfattr -x" 0 $?
    setfattr -n user.big2 -v "$big" "$X/d"
    if e2fsck -fn "$W/x.img" >"$W/fsck.out" 2>&1; then ok; else
        bad "ext4: e2fsck -fn after setfattr"
        cat "$W/fsck.out"
    fi
    (cd "$X" && getfattr -d f d) >"$W/exp"
    "$FSU" getfattr "$W/x.img" -d f d >"$W/got"
    same "ext4: getfattr -d after setfattr as the host shows the same changes" "$W/exp" "$W/got"
    printf 'some text' >"$W/exp"
    rm -f "$W/got"
    debugfs -R "ea_get -f $W/got /f user.k" "$W/x.img" >/dev/null 2>&1
    same "ext4: debugfs ea_get reads what setfattr wrote" "$W/exp" "$W/got"
else
    echo "note: the host's /tmp holds no user xattrs; xattr checks skipped"
fi

finish fsu_drivers_test
