#!/bin/bash
# ukfs-fuse through the kernel: images mounted with ukfs-fuse are compared with the trees they
# were made from by the host's own find/stat/diff/cmp; tmpfs is written with ordinary shell
# tools. Usage: fuse_test.sh PATH/TO/ukfs-fuse. Exit 77 (ctest: skipped) without a FUSE device.
source "$(dirname "$0")/check.sh"
FUSE=$1

skip() {
    echo "SKIP: $*"
    exit 77
}
[ -c /dev/fuse ] || skip "/dev/fuse is missing"
command -v fusermount3 >/dev/null || skip "fusermount3 is missing (Debian package fuse3)"
command -v mke2fs >/dev/null || skip "mke2fs is missing"
[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "no access to /dev/fuse"

W=$(mktemp -d "${TMPDIR:-/tmp}/fuse_test.XXXXXX")
MOUNTED=()
PIDS=()
cleanup() {
    local m p
    for m in "${MOUNTED[@]}"; do
        mounted "$m" && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"; }
    done
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# Mounted? (/proc/mounts rather than mountpoint(1): root may not stat another user's mount.)
mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts; }
AS=()  # a command to run ukfs-fuse under (setpriv, for an unprivileged user)


# start MOUNTPOINT ARGS...: ukfs-fuse in the foreground, in the background; waits for the
# mount. Sets PID.
start() {
    local m=$1
    shift
    mkdir -p "$m"
    "${AS[@]}" "$FUSE" "$@" "$m" -f 2>"$W/fuse.err.$(basename "$m")" &
    PID=$!
    PIDS+=("$PID")
    MOUNTED+=("$m")
    local i
    for i in $(seq 1 200); do
        mounted "$m" && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    bad "mount $*: not mounted"
    cat "$W/fuse.err.$(basename "$m")"
    return 1
}
# stop MOUNTPOINT: fusermount3 -u, then the daemon must exit 0.
stop() {
    local rc
    "${AS[@]}" fusermount3 -u "$1" || bad "fusermount3 -u $1"
    wait "$PID"
    rc=$?
    is "ukfs-fuse exit status after unmounting $1" 0 "$rc"
    if [ -s "$W/fuse.err.$(basename "$1")" ]; then
        echo "ukfs-fuse said:"
        cat "$W/fuse.err.$(basename "$1")"
    fi
}
# listing DIR: what stat says of every node below DIR but lost+found, sorted. Directory sizes
# and link counts are the file system's own business and left out.
listing() {
    (cd "$1" && find . -mindepth 1 -path ./lost+found -prune -o -print0 | sort -z |
        xargs -0 stat -c '%n|%F|%a|%u|%g|%s|%h|%Y|%t:%T|%N' |
        awk -F'|' -v OFS='|' '$2 == "directory" { $6 = ""; $7 = "" } { print }')
}

# ---- a tree, its ext4 image, mounted read-only ----------------------------------------------
S=$W/src
mkdir -p "$S/d" "$S/t/sub/deeper" "$S/t/empty" "$S/par"
printf 'hello\nworld\n' >"$S/d/a.txt"
seq 1 30000 >"$S/d/big"
: >"$S/d/zero"
head -c 70000 /dev/urandom >"$S/d/bin"
ln -s a.txt "$S/d/lnk"
ln -s /nowhere/at/all "$S/d/dangling"
ln "$S/d/a.txt" "$S/d/hard"
chmod 640 "$S/d/big"
chmod 4755 "$S/d/zero"
chmod 1777 "$S/t/empty"
chmod 700 "$S/t/sub/deeper"
echo one >"$S/t/one"
seq 1 100 >"$S/t/sub/deeper/hundred"
ln -s ../one "$S/t/sub/up"
chown -h 1:34 "$S/t/one" 2>/dev/null
chown -h 1000:1000 "$S/t/sub/up" 2>/dev/null
mkfifo "$S/t/fifo"
mknod "$S/t/null" c 1 3 2>/dev/null
mknod "$S/t/loop" b 7 0 2>/dev/null
for i in 1 2 3 4 5 6; do head -c $((300000 + i * 4099)) /dev/urandom >"$S/par/f$i"; done
mkdir "$S/many"
for i in $(seq 1 300); do : >"$S/many/entry_with_a_long_name_$i"; done
touch -d '2020-01-02 03:04:05' "$S/d/a.txt"
touch -h -d '2011-12-13 14:15:16' "$S/d/lnk"
touch -d '2001-02-03 04:05:06' "$S/t/sub" "$S/t" "$S/d"
IMG=$W/ext4.img
mke2fs -q -F -t ext4 -d "$S" -E root_owner=0:0 "$IMG" 32M >/dev/null 2>&1 || {
    echo "FAIL: mke2fs"
    exit 1
}
sum_before=$(sha256sum <"$IMG")
M=$W/mnt_ext4
if start "$M" "$IMG" -o ro; then
    # Cold reads of several files from several processes at once (many FUSE threads).
    jobs=()
    for i in 1 2 3 4 5 6; do
        (cmp "$S/par/f$i" "$M/par/f$i" && cmp "$S/par/f$i" "$M/par/f$i") >"$W/par.$i" 2>&1 &
        jobs+=($!)
    done
    wait "${jobs[@]}"
    cat "$W"/par.* >"$W/par.all"
    same "parallel reads of ext4 files" /dev/null "$W/par.all"

    listing "$S" >"$W/exp"
    listing "$M" >"$W/got"
    same "ext4: stat of every node" "$W/exp" "$W/got"
    diff -r --no-dereference -x lost+found -x fifo "$S" "$M" >"$W/diff" 2>&1
    same "ext4: diff -r --no-dereference" /dev/null "$W/diff"
    is "ext4: readlink" "/nowhere/at/all" "$(readlink "$M/d/dangling")"
    is "ext4: cat through a symlink" "$(cat "$S/d/a.txt")" "$(cat "$M/d/lnk")"
    is "ext4: hard links share the inode" "$(stat -c %i "$M/d/a.txt")" "$(stat -c %i "$M/d/hard")"
    is "ext4: ls of a big directory" 300 "$(ls "$M/many" | wc -l)"
    is "ext4: ls -a shows . and .." ". .." "$(ls -a "$M/t/empty" | tr '\n' ' ' | sed 's/ $//')"
    dd if="$M/d/bin" bs=1000 skip=33 count=7 2>/dev/null >"$W/mid"
    dd if="$S/d/bin" bs=1000 skip=33 count=7 2>/dev/null >"$W/mid.exp"
    same "ext4: read at an offset" "$W/mid.exp" "$W/mid"
    df -P "$M" >/dev/null 2>&1 && ok || bad "ext4: df on the mount"
    touch "$M/d/new" 2>"$W/err" && bad "ext4 ro: touch succeeded"
    grep -q "Read-only file system" "$W/err" && ok || bad "ext4 ro: touch: $(cat "$W/err")"
    grep -q "^$IMG $M fuse.ukfs ro," /proc/mounts && ok || bad "ext4: /proc/mounts: $(grep " $M " /proc/mounts)"
    stop "$M"
fi
is "ext4: image unchanged by a read-only mount" "$sum_before" "$(sha256sum <"$IMG")"

# ---- cd9660 (Rock Ridge + Joliet) ------------------------------------------------------------
if command -v xorriso >/dev/null; then
    ISO=$W/img.iso
    rm -rf "$S/many"  # keep the image small
    if xorriso -as mkisofs -quiet -R -J -o "$ISO" "$S" >/dev/null 2>&1; then
        iso_before=$(sha256sum <"$ISO")
        M=$W/mnt_iso
        if start "$M" "$ISO"; then
            # Rock Ridge keeps modes, owners, times, symlinks and devices; cd9660's own link
            # counts and inode numbers are not the source's.
            listing "$S" | awk -F'|' -v OFS='|' '{ $7 = "" } { print }' >"$W/exp"
            listing "$M" | awk -F'|' -v OFS='|' '{ $7 = "" } { print }' >"$W/got"
            same "cd9660: stat of every node" "$W/exp" "$W/got"
            diff -r --no-dereference -x fifo "$S" "$M" >"$W/diff" 2>&1
            same "cd9660: diff -r --no-dereference" /dev/null "$W/diff"
            jobs=()
            for i in 1 2 3 4 5 6; do
                cmp "$S/par/f$i" "$M/par/f$i" >"$W/par.$i" 2>&1 &
                jobs+=($!)
            done
            wait "${jobs[@]}"
            cat "$W"/par.* >"$W/par.all"
            same "cd9660: parallel reads" /dev/null "$W/par.all"
            grep -q "^$ISO $M fuse.ukfs ro," /proc/mounts && ok || bad "cd9660: not read-only"
            stop "$M"
        fi
        is "cd9660: image unchanged" "$iso_before" "$(sha256sum <"$ISO")"
    else
        bad "xorriso failed"
    fi
else
    echo "note: xorriso missing, cd9660 part skipped"
fi

# ---- an unprivileged user (root runs the test: setpriv to nobody) --------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -f "${ISO:-}" ]; then
    AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$W"
    if ! "${AS[@]}" test -r /dev/fuse -a -w /dev/fuse; then
        echo "note: nobody may not open /dev/fuse here; unprivileged part skipped"
    elif "${AS[@]}" test -x "$FUSE" && "${AS[@]}" test -r "$ISO"; then
        M=$W/mnt_user
        mkdir -p "$M"
        chown 65534 "$M"
        if start "$M" "$ISO"; then
            for i in 1 2 3; do
                "${AS[@]}" cmp "$S/par/f$i" "$M/par/f$i" && ok || bad "unprivileged: cmp f$i"
            done
            grep -q "user_id=65534" <(grep " $M " /proc/mounts) && ok || bad "unprivileged: not the user's mount"
            stop "$M"
        fi
    else
        echo "note: nobody cannot run $FUSE here; unprivileged part skipped"
    fi
    AS=()
fi

# ---- tmpfs read-write through ordinary tools ----------------------------------------------------
M=$W/mnt_tmpfs
if start "$M" - -t tmpfs; then
    mkdir -p "$M/a/b/c" && ok || bad "mkdir -p"
    echo hello >"$M/a/f"
    echo more >>"$M/a/f"
    is "write, append" "$(printf 'hello\nmore')" "$(cat "$M/a/f")"
    truncate -s 3 "$M/a/f"
    is "truncate down" "hel" "$(cat "$M/a/f")"
    truncate -s 5000 "$M/a/f"
    is "truncate up: size" 5000 "$(stat -c %s "$M/a/f")"
    is "truncate up: zeros" 0 "$(tail -c +4 "$M/a/f" | tr -d '\0' | wc -c)"
    printf 'XY' | dd of="$M/a/f" bs=1 seek=10 conv=notrunc 2>/dev/null
    is "write in the middle" "XY" "$(dd if="$M/a/f" bs=1 skip=10 count=2 2>/dev/null)"
    mv "$M/a/f" "$M/a/b/g" && ok || bad "mv"
    [ ! -e "$M/a/f" ] && [ -f "$M/a/b/g" ] && ok || bad "mv: names"
    ln "$M/a/b/g" "$M/a/h" && ok || bad "ln"
    is "ln: link count" 2 "$(stat -c %h "$M/a/h")"
    is "ln: same inode" "$(stat -c %i "$M/a/b/g")" "$(stat -c %i "$M/a/h")"
    ln -s b/g "$M/a/s" && ok || bad "ln -s"
    is "readlink" "b/g" "$(readlink "$M/a/s")"
    is "stat -L through a symlink" 5000 "$(stat -L -c %s "$M/a/s")"
    chmod 640 "$M/a/h"
    is "chmod" "640 regular file" "$(stat -c '%a %F' "$M/a/b/g")"
    chmod u+s,g+w "$M/a/h"
    is "chmod symbolic" 4660 "$(stat -c %a "$M/a/h")"
    chown 12:34 "$M/a/h"
    is "chown" "12:34" "$(stat -c %u:%g "$M/a/b/g")"
    chown -h 56:78 "$M/a/s"
    is "chown -h on a symlink" "56:78 12:34" "$(stat -c %u:%g "$M/a/s") $(stat -L -c %u:%g "$M/a/s")"
    touch -d '2001-02-03 04:05:06' "$M/a/h"
    is "touch -d" "981173106 981173106" "$(stat -c '%X %Y' "$M/a/h")"
    touch -m -d '2010-01-01 00:00:00' "$M/a/h"
    is "touch -m leaves atime" "981173106 1262304000" "$(stat -c '%X %Y' "$M/a/h")"
    touch -h -d '2002-02-02 02:02:02' "$M/a/s"
    is "touch -h on a symlink" "1012615322" "$(stat -c %Y "$M/a/s")"
    mkfifo "$M/a/fifo" && is "mkfifo" "fifo" "$(stat -c %F "$M/a/fifo")"
    if mknod "$M/a/null" c 1 3 2>/dev/null; then
        is "mknod c" "character special file 1:3" "$(stat -c '%F %t:%T' "$M/a/null")"
    fi
    is "new files belong to the caller" "$(id -u):$(id -g)" "$(stat -c %u:%g "$M/a/b/c")"
    rmdir "$M/a/b" 2>"$W/err" && bad "rmdir of a non-empty directory succeeded"
    grep -q "Directory not empty" "$W/err" && ok || bad "rmdir: $(cat "$W/err")"
    rm "$M/a/h" && ok || bad "rm"
    is "rm: link count" 1 "$(stat -c %h "$M/a/b/g")"
    mv "$M/a/b" "$M/b2" && ok || bad "mv a directory"
    is "cat through the moved directory" 5000 "$(wc -c <"$M/b2/g")"
    is "dangling symlink after the move" "" "$(cat "$M/a/s" 2>/dev/null)"
    # A directory read through one descriptor, changed, rewound and read again (Python's
    # listdir of a descriptor rewinds it): the second reading shows the change.
    mkdir "$M/rw" && : >"$M/rw/first"
    python3 - "$M/rw" >"$W/py" 2>&1 <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
before = sorted(os.listdir(fd))
open(sys.argv[1] + "/second", "w").close()
print(" ".join(before), "/", " ".join(sorted(os.listdir(fd))))
PY
    is "readdir after a rewind" "first / first second" "$(cat "$W/py")"
    rm -r "$M/rw"
    # An unlinked file that is still open stays readable and writable (libfuse keeps it as
    # .fuse_hidden* until it is closed).
    mkdir "$M/un"
    printf 'still here\n' >"$M/un/u"
    exec 7<"$M/un/u" 8>>"$M/un/u"
    rm "$M/un/u"
    [ ! -e "$M/un/u" ] && ok || bad "unlinked file still there"
    echo appended >&8 && ok || bad "write to an unlinked open file"
    is "read an unlinked open file" "$(printf 'still here\nappended')" "$(cat <&7)"
    exec 7<&- 8>&-
    # A tree copied in and compared back, with several writers at once.
    cp -a "$S/d" "$S/t" "$M/" && ok || bad "cp -a into the mount"
    jobs=()
    for i in 1 2 3 4 5 6; do
        cp "$S/par/f$i" "$M/w$i" &
        jobs+=($!)
    done
    wait "${jobs[@]}"
    jobs=()
    for i in 1 2 3 4 5 6; do
        cmp "$S/par/f$i" "$M/w$i" >"$W/par.$i" 2>&1 &
        jobs+=($!)
    done
    wait "${jobs[@]}"
    cat "$W"/par.* >"$W/par.all"
    same "tmpfs: parallel writes, then reads" /dev/null "$W/par.all"
    diff -r --no-dereference "$S/d" "$M/d" >"$W/diff" 2>&1
    same "tmpfs: cp -a tree compared" /dev/null "$W/diff"
    (cd "$S" && find d t -print0 | sort -z | xargs -0 stat -c '%n|%F|%a|%u|%g|%Y|%N' |
        awk -F'|' -v OFS='|' '$2 == "directory" { $6 = "" } { print }') >"$W/exp"
    (cd "$M" && find d t -print0 | sort -z | xargs -0 stat -c '%n|%F|%a|%u|%g|%Y|%N' |
        awk -F'|' -v OFS='|' '$2 == "directory" { $6 = "" } { print }') >"$W/got"
    same "tmpfs: cp -a keeps modes, owners, times" "$W/exp" "$W/got"
    rm -r "$M/d" "$M/t" "$M/a" "$M/b2" && ok || bad "rm -r"
    df -P "$M" >/dev/null 2>&1 && ok || bad "tmpfs: df"
    is "tmpfs: what is left" "un w1 w2 w3 w4 w5 w6" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')"
    # SIGTERM: the daemon unmounts and exits 0.
    kill -TERM "$PID"
    wait "$PID"
    is "exit status after SIGTERM" 0 "$?"
    mounted "$M" && bad "still mounted after SIGTERM" || ok
fi

# ---- ext4 read-write, when the ext2fs driver writes: ended by SIGINT, then e2fsck -fn --------
IMG2=$W/rw.img
mke2fs -q -F -t ext4 -d "$S/t" "$IMG2" 16M >/dev/null 2>&1
M=$W/mnt_rw
mkdir -p "$M"
"$FUSE" "$IMG2" "$M" -o rw -f 2>"$W/fuse.err.mnt_rw" &
PID=$!
PIDS+=("$PID")
MOUNTED+=("$M")
for i in $(seq 1 200); do
    mounted "$M" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
done
if mounted "$M"; then
    mkdir "$M/newdir" && echo data >"$M/newdir/file" && ln -s file "$M/newdir/link" &&
        chmod 600 "$M/one" && rm "$M/sub/deeper/hundred" && ok || bad "ext4 rw: writing"
    # Extended attributes through the kernel's xattr calls.
    setfattr -n user.note -v "hello there" "$M/one" && ok || bad "ext4 rw: setfattr"
    is "ext4 rw: getfattr" "hello there" "$(getfattr --only-values -n user.note "$M/one" 2>/dev/null)"
    setfattr -n user.second -v 2 "$M/newdir" && setfattr -n user.third -v 3 "$M/newdir" && ok ||
        bad "ext4 rw: setfattr on a directory"
    is "ext4 rw: getfattr -d" "user.second user.third" \
        "$(getfattr -d "$M/newdir" 2>/dev/null | sed -n 's/=.*//p' | sort | tr '\n' ' ' | sed 's/ $//')"
    setfattr -x user.third "$M/newdir" && ok || bad "ext4 rw: setfattr -x"
    getfattr -n user.third "$M/newdir" >/dev/null 2>"$W/err" && bad "ext4 rw: removed xattr still there"
    grep -q "No such attribute" "$W/err" && ok || bad "ext4 rw: getfattr of a removed name: $(cat "$W/err")"
    # setxattr's XATTR_CREATE/XATTR_REPLACE, getxattr's and listxattr's size-0 query and
    # ERANGE, and ftruncate through an open descriptor, also after the name is gone.
    python3 - "$M" >"$W/py" 2>&1 <<'PY'
import ctypes, errno, os, sys
m = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def err(f, *a):
    try:
        f(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
p = m + "/one"
print("create", err(os.setxattr, p, "user.note", b"x", os.XATTR_CREATE))
print("replace", err(os.setxattr, p, "user.none", b"x", os.XATTR_REPLACE))
print("replace-existing", err(os.setxattr, m + "/newdir", "user.second", b"22", os.XATTR_REPLACE))
print("size", libc.getxattr(p.encode(), b"user.note", None, 0))
small = ctypes.create_string_buffer(4)
r = libc.getxattr(p.encode(), b"user.note", small, 4)
print("small", r, errno.errorcode.get(ctypes.get_errno()))
print("list", libc.listxattr(p.encode(), None, 0))
fd = os.open(m + "/trunc", os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"x" * 10000)
os.ftruncate(fd, 1234)
print("ftruncate", os.fstat(fd).st_size, os.stat(m + "/trunc").st_size)
os.unlink(m + "/trunc")
os.ftruncate(fd, 77)
print("unlinked", os.fstat(fd).st_size)
os.close(fd)
PY
    is "ext4 rw: xattr flags, sizes, ftruncate" "$(printf '%s\n' "create EEXIST" "replace ENODATA" \
        "replace-existing ok" "size 11" "small -1 ERANGE" "list 10" "ftruncate 1234 1234" \
        "unlinked 77")" "$(cat "$W/py")"
    # An fsx-style exerciser through the kernel: seeded random writes, reads, truncations,
    # syncs and reopenings of two files, every read compared with a model in memory; what the
    # files hold at the end is kept to compare with the image after the unmount.
    python3 - "$M" "$W/fsx" >"$W/py" 2>&1 <<'PY'
import os, random, sys
m, out = sys.argv[1], sys.argv[2]
rng = random.Random(7)
names = ["fsx0", "fsx1"]
model = {n: bytearray() for n in names}
fds = {n: os.open(f"{m}/{n}", os.O_RDWR | os.O_CREAT, 0o644) for n in names}
def check(n, off, size):
    got = os.pread(fds[n], size, off)
    want = bytes(model[n][off:off + size])
    if got != want:
        raise SystemExit(f"{n}: read {size} at {off}: {len(got)} bytes differ from the model")
for step in range(1500):
    n = rng.choice(names)
    op = rng.random()
    if op < 0.45:
        off = rng.randrange(0, 2 << 20)
        data = rng.randbytes(rng.randrange(1, 65536))
        os.pwrite(fds[n], data, off)
        buf = model[n]
        if len(buf) < off:
            buf.extend(bytes(off - len(buf)))
        buf[off:off + len(data)] = data
    elif op < 0.80:
        size = len(model[n])
        off = rng.randrange(0, size + 1) if size else 0
        check(n, off, rng.randrange(1, 131072))
    elif op < 0.90:
        size = rng.randrange(0, 2 << 20)
        os.ftruncate(fds[n], size)
        buf = model[n]
        del buf[size:]
        buf.extend(bytes(size - len(buf)))
    elif op < 0.95:
        os.fsync(fds[n])
    else:
        os.close(fds[n])
        fds[n] = os.open(f"{m}/{n}", os.O_RDWR)
    if os.fstat(fds[n]).st_size != len(model[n]):
        raise SystemExit(f"{n}: size {os.fstat(fds[n]).st_size}, model {len(model[n])}")
for n in names:
    check(n, 0, len(model[n]) + 1)
    os.close(fds[n])
    with open(f"{out}.{n}", "wb") as f:
        f.write(model[n])
print("fsx ok")
PY
    is "ext4 rw: fsx-style exerciser" "fsx ok" "$(cat "$W/py")"
    # File flags through chattr/lsattr (FS_IOC_SETFLAGS/GETFLAGS).
    echo frozen >"$M/frozen"
    chattr +i "$M/frozen" && ok || bad "ext4 rw: chattr +i"
    is "ext4 rw: lsattr shows i" "i" "$(lsattr "$M/frozen" 2>&1 | cut -d' ' -f1 | tr -cd 'i')"
    (echo more >>"$M/frozen") 2>"$W/err" && bad "ext4 rw: appending to an immutable file succeeded"
    grep -q "Operation not permitted" "$W/err" && ok || bad "ext4 rw: immutable: $(cat "$W/err")"
    rm -f "$M/frozen" 2>/dev/null && bad "ext4 rw: removing an immutable file succeeded"
    chattr +a "$M/one" && chattr -i "$M/frozen" && ok || bad "ext4 rw: chattr +a, -i"
    is "ext4 rw: lsattr after -i" "" "$(lsattr "$M/frozen" 2>&1 | cut -d' ' -f1 | tr -cd 'ia')"
    is "ext4 rw: lsattr shows a" "a" "$(lsattr "$M/one" 2>&1 | cut -d' ' -f1 | tr -cd 'ia')"
    chattr +d "$M/newdir" && ok || bad "ext4 rw: chattr +d on a directory"
    is "ext4 rw: lsattr -d" "d" "$(lsattr -d "$M/newdir" 2>&1 | cut -d' ' -f1 | tr -cd 'd')"
    chattr +i "$M/frozen" && ok || bad "ext4 rw: chattr +i again"
    kill -INT "$PID"
    wait "$PID"
    is "ext4 rw: exit status after SIGINT" 0 "$?"
    mounted "$M" && bad "ext4 rw: still mounted after SIGINT" || ok
    if e2fsck -fn "$IMG2" >"$W/fsck" 2>&1; then ok; else bad "ext4 rw: e2fsck -fn"; cat "$W/fsck"; fi
    dumpe2fs -h "$IMG2" 2>/dev/null | grep -q "^Filesystem state: *clean$" && ok ||
        bad "ext4 rw: the image is not marked clean"
    # What the mount set is on the image, as e2fsprogs reads it.
    debugfs -R "ea_list /one" "$IMG2" 2>/dev/null | grep -q 'user.note.*hello there' && ok ||
        bad "ext4 rw: debugfs ea_list: $(debugfs -R "ea_list /one" "$IMG2" 2>&1)"
    for n in fsx0 fsx1; do
        debugfs -R "dump /$n $W/got.$n" "$IMG2" >/dev/null 2>&1
        same "ext4 rw: $n on the image (debugfs dump) equals the exerciser's model" \
            "$W/fsx.$n" "$W/got.$n"
    done
    flags=$(debugfs -R "stat /frozen" "$IMG2" 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
    is "ext4 rw: immutable flag on the image" 16 "$(( ${flags:-0} & 0x10 ))"
    flags=$(debugfs -R "stat /one" "$IMG2" 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
    is "ext4 rw: append flag on the image" 32 "$(( ${flags:-0} & 0x20 ))"
else
    wait "$PID"
    if grep -q "not supported" "$W/fuse.err.mnt_rw"; then
        echo "note: ext2fs mounts read-only here, ext4 read-write part skipped"
    else
        bad "ext4 rw: not mounted: $(cat "$W/fuse.err.mnt_rw")"
    fi
fi

# ---- errors on the command line ------------------------------------------------------------------
"$FUSE" "$W/nonexistent.img" "$W/mnt_none" -f 2>"$W/err"
is "missing image: exit status" 1 "$?"
grep -q "nonexistent.img" "$W/err" && ok || bad "missing image: message: $(cat "$W/err")"
"$FUSE" 2>/dev/null
is "no operands: exit status" 2 "$?"
"$FUSE" "$ISO" "$W/x" -o rw -f 2>"$W/err"
is "-o rw on a read-only driver: exit status" 1 "$?"

finish fuse_test
