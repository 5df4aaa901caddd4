#!/bin/bash
# The manual pages render without a warning (groff -ww), and fsu.1 has an entry for every
# command `fsu --help` lists. Usage: man_test.sh MAN_DIR PATH/TO/fsu. Exit 77 without groff.
set -u
MAN=$1 FSU=$2
command -v groff >/dev/null || { echo "SKIP: groff is missing (Debian package groff-base)"; exit 77; }
export LC_ALL=C.UTF-8
fails=0
for page in "$MAN"/*.1; do
    out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    if [ -n "$out" ]; then
        echo "FAIL: $(basename "$page"): groff warns:"
        echo "$out"
        fails=$((fails + 1))
    fi
    lines=$(groff -man -Tutf8 "$page" 2>/dev/null | wc -l)
    if [ "$lines" -lt 50 ]; then
        echo "FAIL: $(basename "$page"): only $lines lines rendered"
        fails=$((fails + 1))
    fi
    if command -v man >/dev/null; then
        out=$(MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null)
        if [ -n "$out" ]; then
            echo "FAIL: $(basename "$page"): man -l warns:"
            echo "$out"
            fails=$((fails + 1))
        fi
    fi
done
# Every command of fsu's usage text has its tag line ("\fBNAME\fP ...") in fsu.1.
cmds=$("$FSU" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "FAIL: no commands in fsu --help"; fails=$((fails + 1)); }
for c in $cmds; do
    if ! grep -q "^\\\\fB$c\\\\fP" "$MAN/fsu.1"; then
        echo "FAIL: fsu.1 has no entry for $c"
        fails=$((fails + 1))
    fi
done
echo "$(ls "$MAN"/*.1 | wc -l) pages, $(echo $cmds | wc -w) fsu commands, $fails failures"
[ "$fails" -eq 0 ]
