#!/bin/bash
# fsu against the host's tools: each check runs a host command on a directory and fsu on an
# ext4 image made from it by mke2fs -d (or on tmpfs through `fsu shell`), and compares output
# and exit status. Usage: fsu_test.sh PATH/TO/fsu
source "$(dirname "$0")/check.sh"
FSU=$1
BIN=$(dirname "$FSU")
workdir fsu_test

if ! command -v mke2fs >/dev/null; then
    echo "SKIP: mke2fs missing"
    exit 0
fi

# ---- the tree and its image ---------------------------------------------------------------
S=$W/src
mkdir -p "$S/d" "$S/t/sub/deeper" "$S/t/empty"
printf 'hello\nworld\n' >"$S/d/a.txt"
seq 1 3000 >"$S/d/big"
: >"$S/d/zero"
printf 'no newline' >"$S/d/nonl"
head -c 5000 /dev/urandom >"$S/d/bin"
ln -s a.txt "$S/d/lnk"
ln -s /nowhere "$S/d/dangling"
chmod 640 "$S/d/big"
chmod 4755 "$S/d/zero"
chmod 1777 "$S/t/empty"
touch -d '2020-01-02 03:04:05' "$S/d/a.txt"
touch -d '2001-02-03 04:05:06' "$S/d/nonl"
echo one >"$S/t/one"
echo two >"$S/t/sub/two"
seq 1 100 >"$S/t/sub/deeper/hundred"
ln -s ../one "$S/t/sub/up"
chown -h 1:34 "$S/t/one" 2>/dev/null
mkdir "$S/many"
for i in $(seq 1 37); do : >"$S/many/file_$((i * i * 7))"; done
: >"$S/many/a_much_longer_name_here"
mkdir "$S/many/subdir"
IMG=$W/img
mke2fs -q -F -t ext4 -d "$S" -E root_owner=0:0 "$IMG" 32M >/dev/null 2>&1 || { echo "FAIL: mke2fs"; exit 1; }

# ---- ls ----------------------------------------------------------------------------------
(cd "$S" && ls -l d) | grep -v '^total' >"$W/exp"
"$FSU" ls "$IMG" -l d | grep -v '^total' >"$W/got"
same "ls -l" "$W/exp" "$W/got"
for o in -o -g -og -lo -lg -gn -ln -li; do
    (cd "$S" && ls $o d/big d/lnk d/a.txt t/one) | awk '{ if ($0 ~ /^ *[0-9]+ /) $1 = ""; print }' >"$W/exp"
    "$FSU" ls "$IMG" $o d/big d/lnk d/a.txt t/one | awk '{ if ($0 ~ /^ *[0-9]+ /) $1 = ""; print }' >"$W/got"
    same "ls $o" "$W/exp" "$W/got"
done
(cd "$S" && ls -ln d/big d/lnk d/a.txt) >"$W/exp"
"$FSU" ls "$IMG" -ln d/big d/lnk d/a.txt >"$W/got"
same "ls -ln files" "$W/exp" "$W/got"
for opts in "" -a -A -F -r -S -1 -R -d; do
    (cd "$S" && ls $opts d t) >"$W/exp" 2>&1
    "$FSU" ls "$IMG" $opts d t >"$W/got" 2>&1
    # -a shows lost+found nowhere here; both trees lack it below the root.
    same "ls $opts d t" "$W/exp" "$W/got"
done
# -t on times whole seconds apart (mke2fs -d keeps no nanoseconds).
(cd "$S" && ls -t d/a.txt d/nonl d/big; ls -tr d/a.txt d/nonl d/big) >"$W/exp"
("$FSU" ls "$IMG" -t d/a.txt d/nonl d/big; "$FSU" ls "$IMG" -tr d/a.txt d/nonl d/big) >"$W/got"
same "ls -t, -tr" "$W/exp" "$W/got"
for w in 80 40 132 20 1; do
    for o in -C -x -CF -xr; do
        (cd "$S" && COLUMNS=$w ls $o many) >"$W/exp"
        COLUMNS=$w "$FSU" ls "$IMG" $o many >"$W/got"
        same "COLUMNS=$w ls $o" "$W/exp" "$W/got"
    done
done
"$BIN/fsu_ls" "$IMG" -l d | grep -v '^total' >"$W/got"
(cd "$S" && ls -l d) | grep -v '^total' >"$W/exp"
same "fsu_ls (argv[0])" "$W/exp" "$W/got"
"$FSU" ls "$IMG" /nope >"$W/got" 2>&1
rc "ls /nope" 1 $?
echo "fsu ls: /nope: No such file or directory" >"$W/exp"
same "ls /nope message" "$W/exp" "$W/got"
"$FSU" ls "$IMG" d/a.txt /nope >"$W/got" 2>/dev/null
rc "ls one bad among many" 1 $?
echo d/a.txt >"$W/exp"
same "ls the good one is still listed" "$W/exp" "$W/got"
"$FSU" ls "$IMG" --json d | python3 -c 'import json,sys; v=json.load(sys.stdin); assert {e["name"] for e in v} == {"a.txt","big","zero","nonl","bin","lnk","dangling"}, v; assert [e for e in v if e["name"]=="lnk"][0]["target"] == "a.txt"' &&
    ok || bad "ls --json"

# Device nodes in ls -l (root only: mknod).
V=$W/devsrc
mkdir -p "$V/devs"
if mknod "$V/devs/null" c 1 3 2>/dev/null && mknod "$V/devs/loop0" b 7 0 &&
    mknod "$V/devs/tty10" c 4 10 && mknod "$V/devs/big" c 136 1023; then
    mkfifo "$V/devs/fifo"
    seq 1 20000 >"$V/devs/file"
    mke2fs -q -F -t ext4 -d "$V" -E root_owner=0:0 "$W/dev.img" 8M >/dev/null 2>&1
    (cd "$V" && ls -l devs) | grep -v '^total' >"$W/exp"
    "$FSU" ls "$W/dev.img" -l devs | grep -v '^total' >"$W/got"
    same "ls -l with device nodes" "$W/exp" "$W/got"
    (cd "$V" && stat -c '%n %t %T %F' devs/*) >"$W/exp"
    "$FSU" stat "$W/dev.img" -f '%N %Hr %Lr %HT' $(cd "$V" && echo devs/*) | awk '{ $2 = sprintf("%x", $2); $3 = sprintf("%x", $3); print }' |
        sed 's/Character Device/character special file/; s/Block Device/block special file/; s/FIFO/fifo/; s/Regular File/regular file/' >"$W/got"
    same "stat -f %Hr %Lr %HT" "$W/exp" "$W/got"
fi

# ---- cat ---------------------------------------------------------------------------------
for f in d/a.txt d/big d/zero d/nonl d/bin t/sub/deeper/hundred d/lnk; do
    cat "$S/$f" >"$W/exp"
    "$FSU" cat "$IMG" "$f" >"$W/got"
    same "cat $f" "$W/exp" "$W/got"
done
cat "$S/d/a.txt" "$S/d/nonl" >"$W/exp"
"$FSU" cat "$IMG" d/a.txt d/nonl >"$W/got"
same "cat two files" "$W/exp" "$W/got"
"$FSU" cat "$IMG" d/a.txt /nope d/nonl >"$W/got" 2>"$W/err"
rc "cat with a missing file" 1 $?
same "cat goes on after a missing file" "$W/exp" "$W/got"
echo "fsu cat: /nope: No such file or directory" >"$W/exp"
same "cat error message" "$W/exp" "$W/err"

# ---- stat --------------------------------------------------------------------------------
for f in d/a.txt d/big d/zero d/lnk t/empty t/one t; do
    # inode numbers and atimes (the host's change as the test reads) are left out.
    stat -c '%n %s %a %A %u %g %U %G %h %X %Y %Z %i' "$S/$f" | sed "s|^$S/||" |
        awk '{ $13 = ""; $10 = ""; print }' >"$W/exp"
    "$FSU" stat "$IMG" -f '%N %z %Mp%03Lp %Sp %u %g %Su %Sg %l %a %m %c %i' "$f" |
        sed -E 's/ 0([0-7]{3}) / \1 /' | awk '{ $13 = ""; $10 = ""; print }' >"$W/got"
    # directories differ in size (ext4 blocks) and ctime (mke2fs sets it): compare the rest.
    if [ -d "$S/$f" ] && [ ! -L "$S/$f" ]; then
        awk '{ $2 = ""; $12 = ""; print }' "$W/exp" >"$W/exp2"
        awk '{ $2 = ""; $12 = ""; print }' "$W/got" >"$W/got2"
        same "stat -f $f" "$W/exp2" "$W/got2"
    else
        awk '{ $12 = ""; print }' "$W/exp" >"$W/exp2"
        awk '{ $12 = ""; print }' "$W/got" >"$W/got2"
        same "stat -f $f" "$W/exp2" "$W/got2"
    fi
done
"$FSU" stat "$IMG" -f '%Y|%SY|%HT|%T' d/lnk >"$W/got"
echo ' -> a.txt|a.txt|Symbolic Link|@' >"$W/exp"
same "stat -f link fields" "$W/exp" "$W/got"
"$FSU" stat "$IMG" /nope 2>"$W/got"
rc "stat /nope" 1 $?
"$FSU" stat "$IMG" --json d/a.txt d/lnk | python3 -c 'import json,sys; v=json.load(sys.stdin); assert v[0]["size"]==12 and v[0]["mtime"]==1577934245 and v[1]["target"]=="a.txt", v' &&
    ok || bad "stat --json"

# ---- find --------------------------------------------------------------------------------
for expr in "" "-type f" "-type d" "-type l" "-name *.txt" "-type f -size -2" "-type f -size +5" "-size 12c" \
    "-mtime +1000" "-mtime -1" "-empty" "! -type d -name t*" "-type f -o -type l" \
    "( -name one -o -name two ) -print" "-maxdepth 1" "-mindepth 2 -type f" "-path */sub/*" \
    "-perm 640" "-perm -4000" "-newer d/nonl -type f"; do
    set -f
    (cd "$S" && find d t $expr) | sort >"$W/exp"
    "$FSU" find "$IMG" d t $expr | sort >"$W/got"
    set +f
    same "find $expr" "$W/exp" "$W/got"
done
(cd "$S" && find d t -type f -exec wc -c {} \;) | awk '{ print $1 }' | sort >"$W/exp"
"$FSU" find "$IMG" d t -type f -exec wc -c {} \; | awk '{ print $1 }' | sort >"$W/got"
same "find -exec on extracted copies" "$W/exp" "$W/got"
(cd "$S" && find d t -type f ! -name nonl ! -name bin -exec cat {} +) | sort >"$W/exp"
"$FSU" find "$IMG" d t -type f ! -name nonl ! -name bin -exec cat {} + | sort >"$W/got"
same "find -exec {} +" "$W/exp" "$W/got"
"$FSU" find "$IMG" d t -name one -exec echo + {} + >"$W/got"
grep -q '^+ .*/one$' "$W/got" && ok || { bad "find -exec with a + argument"; cat "$W/got"; }
"$FSU" find "$IMG" /nope >/dev/null 2>&1
rc "find /nope" 1 $?

# ---- du and df ---------------------------------------------------------------------------
(cd "$S" && du -a d t) | cut -f2 | sort >"$W/exp"
"$FSU" du "$IMG" -a d t | cut -f2 | sort >"$W/got"
same "du -a paths" "$W/exp" "$W/got"
sum=0
while read -r b; do sum=$((sum + b)); done < <("$FSU" find "$IMG" t -exec true \; -print |
    while read -r p; do "$FSU" stat "$IMG" -f %b "$p"; done)
"$FSU" du "$IMG" -sk t | cut -f1 >"$W/got"
echo $(((sum + 1) / 2)) >"$W/exp"
same "du -sk is the sum of the blocks" "$W/exp" "$W/got"
bs=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Block size/ { print $2 + 0 }')
bc=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Block count/ { print $2 + 0 }')
fb=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Free blocks/ { print $2 + 0 }')
ic=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Inode count/ { print $2 + 0 }')
first=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^First block/ { print $2 + 0 }')
"$FSU" df "$IMG" | awk 'NR == 2 { print $2, $4 }' >"$W/got"
rb=$(dumpe2fs -h "$IMG" 2>/dev/null | awk -F: '/^Reserved block count/ { print $2 + 0 }')
echo $(((bc - first) * bs / 1024)) $(((fb - rb) * bs / 1024)) >"$W/exp"
same "df 1K-blocks and Available against dumpe2fs" "$W/exp" "$W/got"
"$FSU" df "$IMG" --json | python3 -c "import json,sys; v=json.load(sys.stdin); assert v['blocks']==$bc-$first and v['blocks_free']==$fb and v['files']==$ic and v['type']=='ext2fs', v" &&
    ok || bad "df --json against dumpe2fs"

# ---- cmp and diff against a changed host copy -----------------------------------------------
C=$W/changed
cp -a "$S" "$C"
echo extra >>"$C/t/one"
rm "$C/t/sub/two"
echo new >"$C/t/newfile"
sed -i 's/^50$/fifty/; /^70$/d' "$C/t/sub/deeper/hundred"
for f in t/one t/sub/deeper/hundred d/a.txt; do
    (cd "$S" && cmp "$f" "$C/$f") 2>/dev/null | sed 's/differ: byte/differ: char/' >"$W/exp"
    e=$(cd "$S" && cmp -s "$f" "$C/$f"; echo $?)
    "$FSU" cmp "$IMG" "$f" "host:$C/$f" >"$W/got" 2>/dev/null
    rc "cmp $f" "$e" $?
    same "cmp $f output" "$W/exp" "$W/got"
done
for opts in "" "-u" "-q"; do
    (cd "$S" && diff $opts t/sub/deeper/hundred "$C/t/sub/deeper/hundred") | grep -v '^[-+][-+][-+] ' >"$W/exp"
    "$FSU" diff "$IMG" $opts t/sub/deeper/hundred "host:$C/t/sub/deeper/hundred" | grep -v '^[-+][-+][-+] ' >"$W/got"
    same "diff $opts file" "$W/exp" "$W/got"
done
(cd "$S" && diff d/nonl "$C/t/one") >"$W/exp"
"$FSU" diff "$IMG" d/nonl "host:$C/t/one" >"$W/got"
rc "diff rc when different" 1 $?
same "diff without final newline" "$W/exp" "$W/got"
for opts in "-r" "-rq" "-r --no-dereference" "-rq --no-dereference"; do
    (cd "$S" && diff $opts t "$C/t") >"$W/exp"
    "$FSU" diff "$IMG" $opts t "host:$C/t" >"$W/got"
    rc "diff $opts rc" 1 $?
    same "diff $opts tree" "$W/exp" "$W/got"
done
"$FSU" diff "$IMG" -r --no-dereference d "host:$S/d" >"$W/got"
rc "diff -r identical trees" 0 $?
"$FSU" diff "$IMG" d/a.txt host:/nope >/dev/null 2>&1
rc "diff trouble" 2 $?

# ---- image selection and errors ----------------------------------------------------------
head -c 1048576 /dev/zero >"$W/zero.img"
"$FSU" ls "$W/zero.img" / 2>"$W/err"
rc "ls on a non-file-system" 1 $?
grep -q 'tried: .*ext2fs' "$W/err" && ok || { bad "detection error lists the types tried"; cat "$W/err"; }
head -c 2000000 "$IMG" >"$W/short.img"
"$FSU" ls "$W/short.img" / >/dev/null 2>"$W/err"
rc "ls on a truncated image" 1 $?
grep -q "^fsu ls: $W/short.img: ext2fs: superblock: .*(Invalid argument)$" "$W/err" && ok ||
    { bad "the driver's message for a truncated image"; cat "$W/err"; }
"$FSU" ls -t ext2fs "$IMG" d/a.txt >"$W/got"
echo d/a.txt >"$W/exp"
same "-t ext2fs" "$W/exp" "$W/got"
"$FSU" ls -o ro,cache=1m "$IMG" d/a.txt >"$W/got"
same "-o ro,cache=1m" "$W/exp" "$W/got"
# Partition selectors: the image at 1 MiB in a disk with an MBR, and at an offset.
D=$W/disk.img
truncate -s 40M "$D"
if command -v sfdisk >/dev/null && echo 'start=2048, size=65536, type=83' | sfdisk -q "$D" >/dev/null 2>&1; then
    dd if="$IMG" of="$D" bs=1M seek=1 conv=notrunc status=none
    for sel in '%MBR:1%' '%OFFSET:1048576,33554432%'; do
        "$FSU" cat "$D$sel" d/a.txt >"$W/got"
        same "cat through $sel" "$S/d/a.txt" "$W/got"
    done
    "$FSU" ls "$D%MBR:2%" / >/dev/null 2>&1
    rc "no such partition" 1 $?
fi
"$FSU" ls -o bogus "$IMG" / >/dev/null 2>&1
rc "-o bogus" 2 $?
"$FSU" nosuchcmd "$IMG" >/dev/null 2>&1
rc "unknown command" 2 $?
"$FSU" --help | grep -q 'is given "-" as IMAGE' && ok || bad "--help documents the no-image '-'"

# ---- host safety: extraction from a crafted image -----------------------------------------
E=$W/evil
mkdir -p "$E/evil/dir"
ln -s / "$E/evil/root"
ln -s ../.. "$E/evil/up"
ln -s /etc/passwd "$E/evil/abs"
ln -s ../../outside/planted "$E/evil/dir/escape"
echo inside >"$E/evil/dir/file"
mkfifo "$E/evil/fifo"
have_dev=0
if mknod "$E/evil/null" c 1 3 2>/dev/null; then have_dev=1; fi
mke2fs -q -F -t ext4 -d "$E" -E root_owner=0:0 "$W/evil.img" 8M >/dev/null 2>&1
mkdir -p "$W/box/out" "$W/box/outside"
before=$(cd "$W/box" && find . | sort)
"$FSU" ecp "$W/evil.img" -R /evil "$W/box/out" 2>"$W/err"
e=$?
for l in root up abs dir/escape; do
    if [ -L "$W/box/out/evil/$l" ]; then ok; else bad "ecp: $l is recreated as a symlink"; fi
done
[ "$(readlink "$W/box/out/evil/up")" = "../.." ] && ok || bad "ecp: link target kept"
[ "$(cat "$W/box/out/evil/dir/file")" = inside ] && ok || bad "ecp: file content"
[ -p "$W/box/out/evil/fifo" ] && ok || bad "ecp: fifo recreated"
if [ $have_dev = 1 ]; then
    [ ! -e "$W/box/out/evil/null" ] && ok || bad "ecp: no device node unless asked"
    rc "ecp: a skipped device node is a failure" 1 $e
    grep -q 'use -D' "$W/err" && ok || bad "ecp: says why the device was skipped"
    "$FSU" ecp "$W/evil.img" -D /evil/null "$W/box/out/evil/" 2>/dev/null
    [ -c "$W/box/out/evil/null" ] && ok || bad "ecp -D makes the device node"
    rm -f "$W/box/out/evil/null"
else
    rc "ecp -R (no devices)" 0 $e
fi
after=$(cd "$W/box" && find . -path ./out -prune -o -print | sort)
expected=$(echo "$before" | grep -v -e '^./out$' -e '^./out/')
[ "$after" = "$expected" ] && ok || { bad "ecp wrote outside its target"; echo "$after"; echo ---; echo "$expected"; }
# A target that already holds symlinks planted where the image's directories go.
mkdir -p "$W/box/t2/evil"
ln -s ../../outside "$W/box/t2/evil/dir"
"$FSU" ecp "$W/evil.img" -R /evil "$W/box/t2" 2>/dev/null
rc "ecp over a planted symlink fails" 1 $?
[ -z "$(ls -A "$W/box/outside")" ] && ok || bad "ecp followed a planted symlink out of the target"
ln -s ../outside/victim "$W/box/t3"
"$FSU" cp "$W/evil.img" -R /evil "host:$W/box/t4" 2>/dev/null
[ -L "$W/box/t4/root" ] && [ -L "$W/box/t4/up" ] && ok || bad "cp -R image to host keeps links"
mkdir -p "$W/box/t5"
ln -s ../outside/victim "$W/box/t5/file"
"$FSU" ecp "$W/evil.img" /evil/dir/file "$W/box/t5/" 2>/dev/null
[ ! -e "$W/box/outside/victim" ] && [ -f "$W/box/t5/file" ] && [ ! -L "$W/box/t5/file" ] && ok ||
    bad "ecp replaced a planted file symlink instead of writing through it"

# Names no host file can have: an image whose directory entries hold '/' and NUL (made by
# patching the bytes of two names in an image without metadata checksums).
X=$W/crafted
mkdir -p "$X/evil/sl"
echo a >"$X/evil/sl@sh"
echo b >"$X/evil/nu@l"
echo c >"$X/evil/sl/sh"
echo ok >"$X/evil/fine"
mke2fs -q -F -t ext4 -O ^metadata_csum -d "$X" -E root_owner=0:0 "$W/crafted.img" 8M >/dev/null 2>&1
python3 -c "
import sys; p=sys.argv[1]; d=open(p,'rb').read()
d=d.replace(b'sl@sh',b'sl/sh').replace(b'nu@l',b'nu\x00l'); open(p,'wb').write(d)" "$W/crafted.img"
mkdir -p "$W/box/c"
"$FSU" ecp "$W/crafted.img" -R /evil "$W/box/c" 2>"$W/err"
rc "ecp: names with / or NUL fail" 1 $?
[ "$(grep -c 'refusing to extract' "$W/err")" = 2 ] && ok || { bad "ecp: both bad names refused"; cat "$W/err"; }
(cd "$W/box/c" && find . | sort) >"$W/got"
printf '.\n./evil\n./evil/fine\n./evil/sl\n./evil/sl/sh\n' >"$W/exp"
same "ecp: only the good names extracted" "$W/exp" "$W/got"
[ "$(cat "$W/box/c/evil/sl/sh")" = c ] && ok || bad "ecp: sl/sh is the real one, not the crafted name"
"$FSU" ls "$W/crafted.img" /evil >"$W/got" 2>/dev/null
rc "ls: bad names fail" 1 $?
printf 'fine\nsl\n' >"$W/exp"
same "ls: bad names not listed" "$W/exp" "$W/got"

# ---- write commands through fsu shell on tmpfs --------------------------------------------
cat >"$W/script" <<'EOF'
# a comment
mkdir -p /a/b/c
mkdir -m 700 /m
write /a/data
touch -t 202001020304.05 /a/f
chmod 4755 /a/f
stat -f "%Sp %Lp" /a/f
chmod u-s,g+w,o= /a/f
stat -f "%Sp" /a/f
chown 12:34 /a/f
stat -f "%u %g %Sm" /a/f
ln -s /a/f /l
ln /a/f /h
stat -f "%l" /a/f
mv /h /a/b/h2
ls /a/b
rm /a/b/h2
rmdir /a/b/c /a/b
rmdir /m
mknod /cdev c 1 3
mkfifo -m 600 /ff
chflags uchg,nodump /a/f
stat -f "%Sf" /a/f
chflags nouchg /a/f
stat -f "%Sf" /a/f
cat /a/data
cd /a
ls
cp data copy
cat copy
cd /
ls -ln /
rm /nope
echo after-error
rm -r /a
ls /
EOF
cat >"$W/exp" <<'EOF'
-rwsr-xr-x 755
-rwxrwx---
12 34 Jan  2 03:04:05 2020
2
c
h2
nodump,uchg
nodump
piped data
data
f
piped data
total 0
drwxr-xr-x 2 0 0 SIZE Jan  1 00:00 a
crw-r--r-- 1 0 0 1, 3 Jan  1 00:00 cdev
prw------- 1 0 0    0 Jan  1 00:00 ff
lrwxrwxrwx 1 0 0    4 Jan  1 00:00 l -> /a/f
after-error
cdev
ff
l
EOF
echo "piped data" | "$FSU" shell -t tmpfs - "$W/script" >"$W/got" 2>"$W/err"
rc "shell: rm /nope makes the script fail" 1 $?
# Times of new nodes are now: blank them, and sizes of directories, which are tmpfs's own.
sed -E 's/[A-Z][a-z]{2} [ 0-9]{2} [0-9]{2}:[0-9]{2} /Jan  1 00:00 /; s/^(d[^ ]+ +[0-9]+ +[0-9]+ +[0-9]+) +[0-9]+/\1 SIZE/' "$W/got" >"$W/got2"
same "shell script on tmpfs" "$W/exp" "$W/got2"
echo "rm: /nope: No such file or directory" >"$W/exp"
same "shell error message" "$W/exp" "$W/err"
printf 'write /x\nls /\n' | "$FSU" shell -t tmpfs - >"$W/got" 2>/dev/null
rc "shell: write with the script on stdin" 1 $?
[ -s "$W/got" ] && bad "shell: write must not eat the script" || ok
printf 'ls /\nbogus\n' | "$FSU" shell -t tmpfs - -e >/dev/null 2>&1
rc "shell: unknown command" 1 $?

cat >"$W/script2" <<'EOF'
mkdir -p /x/y/z
rmdir -p /x/y/z
ls /
mkdir /d
touch -t 200102030405.06 /ref
touch /f /g
touch -r /ref /f
stat -f "%Sm" /f
touch -d 2003-04-05T06:07:08.5Z /g
stat -f "%m %.1m" /g
mv /f /g /d
ls /d
ln -s one /d/s
ln -sf two /d/s
stat -f "%SY" /d/s
write -a /d/f
cat /d/f
rm -f /nope
rm -rf /d
ls /
EOF
printf 'tail\n' | "$FSU" shell -t tmpfs - "$W/script2" >"$W/got" 2>"$W/err"
rc "shell script 2" 0 $?
printf 'Feb  3 04:05:06 2001\n1049522828 1049522828.5\nf\ng\ntwo\ntail\nref\n' >"$W/exp"
same "mkdir -p, rmdir -p, touch -r, mv, ln -sf, write -a, rm -f, rm -rf" "$W/exp" "$W/got"
for bad_cmd in "mkdir /" "rmdir /nope" "rm /" "mv /nope /x" "ln /nope /x" "chmod 9 /" "chown nosuchuser: /" \
    "touch -t 99 /x" "mknod /x q 1 2" "cat /" "chflags bogus /"; do
    echo "$bad_cmd" | "$FSU" shell -t tmpfs - >/dev/null 2>&1
    rc "shell: $bad_cmd fails" 1 $?
done

# chmod's symbolic modes against the host's chmod.
for spec in u+x g-r o=rw a+X u=rwx,go=rx +t u+s,g+s go-w =r a=,u+r ug+rw o+x,-x 700 4711; do
    touch "$W/m"
    chmod 644 "$W/m"
    chmod "$spec" "$W/m"
    stat -c %a "$W/m" >"$W/exp"
    printf 'touch /m\nchmod 644 /m\nchmod %s /m\nstat -f %%Mp%%03Lp /m\n' "$spec" |
        "$FSU" shell -t tmpfs - 2>&1 | sed -E 's/^0([0-7]{3})$/\1/' >"$W/got"
    same "chmod $spec" "$W/exp" "$W/got"
done

# ---- cp -a round trip host -> tmpfs -> host -------------------------------------------------
ln "$S/t/sub/deeper/hundred" "$S/t/hardlink"
printf 'cp -a host:%s /t\nstat -f "%%l %%i" /t/hardlink /t/sub/deeper/hundred\n' "$S/t" |
    "$FSU" shell -t tmpfs - >"$W/got"
awk 'NR == 1 { a = $0 } NR == 2 { exit !(a == $0 && $1 == 2) }' "$W/got" && ok ||
    { bad "cp -a keeps hard links"; cat "$W/got"; }
mkdir -p "$W/hl"
printf 'cp -a host:%s /t\ncp -a /t host:%s\n' "$S/t" "$W/hl" | "$FSU" shell -t tmpfs -
[ "$(stat -c %i "$W/hl/t/hardlink")" = "$(stat -c %i "$W/hl/t/sub/deeper/hundred")" ] && ok ||
    bad "cp -a out of an image keeps hard links"
rm "$S/t/hardlink"
R=$W/round
mkdir -p "$R"
printf 'cp -a host:%s /t\ncp -a /t host:%s\n' "$S/t" "$R" | "$FSU" shell -t tmpfs -
rc "cp -a round trip" 0 $?
diff -r --no-dereference "$S/t" "$R/t" && ok || bad "round trip: contents"
(cd "$S" && find t -printf '%p %M %U %G %T@ %l\n' | sort) >"$W/exp"
(cd "$R" && find t -printf '%p %M %U %G %T@ %l\n' | sort) >"$W/got"
same "round trip: modes, owners, times, links" "$W/exp" "$W/got"
printf 'cp -a host:%s /t\ncp -p /t/one /t/one.p\nstat -f "%%Lp %%u %%g %%m" /t/one /t/one.p\n' "$S/t" |
    "$FSU" shell -t tmpfs - >"$W/got"
o=$(stat -c '%a %u %g %Y' "$S/t/one")
printf '%s\n%s\n' "$o" "$o" >"$W/exp"
same "cp -p inside the image keeps mode, owner and times" "$W/exp" "$W/got"

# ---- a second image: diff/cmp between images, cp from an ext4 image into tmpfs --------------
cp "$IMG" "$W/img2"
"$FSU" diff "$IMG" -r --no-dereference -I "$W/img2" / 2:/ >"$W/got"
rc "diff -r between two images" 0 $?
[ -s "$W/got" ] && bad "diff -r between identical images prints nothing" || ok
"$FSU" cmp "$IMG" -I "$W/img2" d/a.txt 2:d/nonl >"$W/got"
rc "cmp between images" 1 $?
printf 'cp -a -I %s 2:/t /t\ndiff -r -I %s /t 2:/t\ncmp -I %s /t/one 2:/t/one\nls -lnR /t\n' "$IMG" "$IMG" "$IMG" |
    "$FSU" shell -t tmpfs - >"$W/got"
rc "cp -a from a second image, then diff -r against it" 0 $?
"$FSU" ls "$IMG" -lnR /t >"$W/exp"
grep -v '^total' "$W/exp" | awk '{ if ($1 ~ /^d/) $5 = ""; $1 = $1; print }' >"$W/exp2"
grep -v '^total' "$W/got" | awk '{ if ($1 ~ /^d/) $5 = ""; $1 = $1; print }' >"$W/got2"
same "ls -lnR of the copy (directory sizes aside)" "$W/exp2" "$W/got2"

# ---- mkfs and fsck ------------------------------------------------------------------------
if command -v fsck.fat >/dev/null && command -v mdir >/dev/null; then
    "$FSU" mkfs -t msdos -s 40m -o fat=32,cluster_size=512 -L FSUTEST "$W/fat.img"
    rc "mkfs -t msdos creates the image" 0 $?
    [ "$(stat -c %s "$W/fat.img")" = $((40 << 20)) ] && ok || bad "mkfs -s 40m: image size"
    fsck.fat -n "$W/fat.img" >"$W/got" 2>&1
    rc "fsck.fat -n on our FAT32" 0 $?
    "$FSU" mkdir "$W/fat.img" /d
    printf 'hello' | "$FSU" write "$W/fat.img" /d/f
    MTOOLS_SKIP_CHECK=1 mtype -i "$W/fat.img" ::/d/f >"$W/got"
    printf 'hello' >"$W/exp"
    same "mtype reads a file written into our mkfs" "$W/exp" "$W/got"
    MTOOLS_SKIP_CHECK=1 mlabel -s -i "$W/fat.img" >"$W/got"
    grep -q FSUTEST "$W/got" && ok || bad "mkfs -L: label seen by mlabel: $(cat "$W/got")"
    fsck.fat -n "$W/fat.img" >/dev/null 2>&1
    rc "fsck.fat -n after writing" 0 $?
    "$FSU" mkfs -t msdos -o nosuch=1 "$W/fat.img" 2>"$W/err"
    rc "mkfs: unknown parameter" 1 $?
    grep -q 'unknown parameter "nosuch"' "$W/err" && ok || bad "mkfs: message names the parameter"
    "$FSU" info "$W/fat.img" >"$W/info"
    rc "info on msdos" 0 $?
    MTOOLS_SKIP_CHECK=1 minfo -i "$W/fat.img" >"$W/minfo" 2>&1
    for pair in "sectors_per_cluster:cluster size" "reserved_sectors:reserved (boot) sectors" \
        "fat_count:fats" "bytes_per_sector:sector size"; do
        ours=$(awk -v k="${pair%%:*}:" '$1 == k { print $2 }' "$W/info")
        theirs=$(awk -F': *' -v k="${pair#*:}" '$1 == k { split($2, a, " "); print a[1] }' "$W/minfo")
        [ -n "$ours" ] && [ "$ours" = "$theirs" ] && ok || bad "info msdos ${pair%%:*}: '$ours', minfo '$theirs'"
    done
    grep -q '^volume_label: *FSUTEST$' "$W/info" && ok || bad "info msdos: volume_label"
fi
"$FSU" info "$IMG" >"$W/info"
rc "info on ext4" 0 $?
dumpe2fs -h "$IMG" >"$W/dump" 2>/dev/null
for pair in "uuid:Filesystem UUID" "inode_count:Inode count" "block_count:Block count" \
    "block_size:Block size" "free_blocks:Free blocks" "free_inodes:Free inodes" \
    "inode_size:Inode size" "inodes_per_group:Inodes per group" "blocks_per_group:Blocks per group"; do
    ours=$(awk -v k="${pair%%:*}:" '$1 == k { print $2 }' "$W/info")
    theirs=$(awk -F':[ \t]*' -v k="${pair#*:}" '$1 == k { print $2 }' "$W/dump")
    [ -n "$ours" ] && [ "$ours" = "$theirs" ] && ok || bad "info ext4 ${pair%%:*}: '$ours', dumpe2fs '$theirs'"
done
"$FSU" info "$IMG" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["type"] == "ext2fs" and d["block_size"] == "1024" and "features" in d, d' &&
    ok || bad "info --json"
SOURCE_DATE_EPOCH=1700000000 "$FSU" mkiso -V INFOVOL "$S/t" "$W/info.iso" &&
    "$FSU" info "$W/info.iso" >"$W/info"
grep -q '^volume_id: *INFOVOL$' "$W/info" && grep -q '^tree: *Rock Ridge$' "$W/info" &&
    [ "$(awk '$1 == "volume_space_size:" { print $2 }' "$W/info")" = \
      "$(isoinfo -d -i "$W/info.iso" | awk -F': ' '/^Volume size is/ { print $2 }')" ] &&
    ok || { bad "info on cd9660"; cat "$W/info"; }
# ---- fsu shell on a terminal: line editing, completion, history ----------------------------
if command -v script >/dev/null; then
    printf 'ech\tx hi\ncat /d/a.\t\nexit\n' |
        FSU_HISTORY="$W/hist" timeout 20 script -qec "$FSU shell $IMG" /dev/null >"$W/tty" 2>&1
    tr -d '\r' <"$W/tty" | grep -qx 'x hi' && ok || { bad "shell: Tab completes a command"; cat -A "$W/tty"; }
    tr -d '\r' <"$W/tty" | grep -qx 'world' && ok || bad "shell: Tab completes a path in the image"
    grep -q 'cat\\040/d/a.txt' "$W/hist" && ok || { bad "shell: history saved"; cat "$W/hist"; }
    mkdir -p "$W/prog"
    timeout 60 script -qec "$FSU ecp $IMG -R /d $W/prog" /dev/null >"$W/tty" 2>&1
    tr '\r' '\n' <"$W/tty" | grep -Eq '^(.\[K)?[0-9.]+ (B|KiB|MiB) +[0-9]+ files +[0-9.]+ (B|KiB|MiB)/s' &&
        ok || { bad "ecp on a terminal shows progress"; cat -A "$W/tty"; }
fi
rm -rf "$W/prog" && mkdir -p "$W/prog"
"$FSU" ecp "$IMG" -R /d "$W/prog" 2>"$W/err"
[ ! -s "$W/err" ] && ok || bad "ecp: no progress when stderr is not a terminal"

# ---- populate: a tree, an mtree spec on top, no root needed ---------------------------------
P=$W/pop
mkdir -p "$P/d/e" "$P/f"
echo hello >"$P/d/a"
ln "$P/d/a" "$P/d/hard"
ln -s ../d/a "$P/f/sl"
mkfifo "$P/f/fifo"
head -c 300000 /dev/urandom >"$P/big"
touch -d @1900000000 "$P/big"
cat >"$W/spec" <<'SPEC'
/set type=file uname=root gname=root mode=0644
. type=dir mode=0755
./d type=dir mode=0700 uid=5 gid=6
./dev type=dir mode=0755
./dev/null type=char device=native,1,3 mode=0666
./dev/sda type=block device=native,8,0 mode=0660 gid=6
./d/a mode=0600 time=1500000000.0
SPEC
mke2fs -q -F -t ext4 -E root_owner=0:0 "$W/pop.img" 16M >/dev/null 2>&1
SOURCE_DATE_EPOCH=1600000000 "$FSU" populate "$W/pop.img" -F "$W/spec" -u 0 -g 0 "$P"
rc "populate -F spec" 0 $?
e2fsck -fn "$W/pop.img" >/dev/null 2>&1
rc "e2fsck -fn after populate" 0 $?
dstat() { debugfs -R "stat $1" "$W/pop.img" 2>/dev/null; }
dstat /d | grep -q 'Mode:  0700' && dstat /d | grep -q 'User:     5   Group:     6' && ok ||
    bad "populate: the spec's mode and owner on /d"
[ "$(dstat /d/a | awk '/^Inode:/ { print $2 }')" = "$(dstat /d/hard | awk '/^Inode:/ { print $2 }')" ] &&
    ok || bad "populate: hard links share an inode"
dstat /d/a | grep -q 'mtime: 0x59682f00:' && ok || bad "populate: the spec's time on /d/a"
dstat /big | grep -q 'mtime: 0x5f5e1000' && ok || bad "populate: a time after SOURCE_DATE_EPOCH is clamped"
dstat /dev/null | grep -q 'Device major/minor number: 01:03' && dstat /dev/sda | grep -q 'major/minor number: 08:00' &&
    ok || bad "populate: device nodes from the spec"
dstat /f/fifo | grep -q 'Type: FIFO' && [ "$(debugfs -R 'stat /f/sl' "$W/pop.img" 2>/dev/null | grep -c 'Fast link dest: "../d/a"')" = 1 ] &&
    ok || bad "populate: FIFO and symlink"
debugfs -R 'dump /big '"$W/big.out" "$W/pop.img" >/dev/null 2>&1
cmp -s "$P/big" "$W/big.out" && ok || bad "populate: file content read back by debugfs"
"$FSU" populate "$W/pop.img" "$P" 2>"$W/err"
rc "populate over existing files fails" 1 $?
grep -q '/big: exists in the image' "$W/err" && ok || bad "populate: names the existing path"

"$FSU" mkfs -t cd9660 -s 1m "$W/none.img" 2>"$W/err"
rc "mkfs of a type without mkfs" 1 $?
grep -q 'no mkfs for file system type "cd9660"' "$W/err" && ok || bad "mkfs: ENOTSUP message"
"$FSU" fsck "$IMG" 2>"$W/err"
rc "fsck of a type without a checker" 8 $?
grep -q 'no checker for file system type "ext2fs"' "$W/err" && ok || bad "fsck: ENOTSUP message"

finish fsu_test
