# check.sh: what the tool tests share. Source it first: it sets the locale, time zone and
# umask the expected outputs assume, and counts checks.
#   ok / bad MESSAGE      a check passed / failed (the failure is printed)
#   same NAME FILE1 FILE2 the two outputs must be identical (a diff is printed if not)
#   rc NAME EXPECTED ACTUAL    an exit status
#   is NAME EXPECTED ACTUAL    a value
#   workdir NAME          W = a new scratch directory, removed at exit
#   finish NAME           print the counts; the status is 0 only when no check failed
set -u
export TZ=UTC LC_ALL=C
umask 022
fails=0 checks=0

ok() { checks=$((checks + 1)); }
bad() {
    checks=$((checks + 1)) fails=$((fails + 1))
    echo "FAIL: $*"
}
same() {
    if cmp -s "$2" "$3"; then ok; else bad "$1"; diff -u "$2" "$3" | head -30; fi
}
rc() { if [ "$2" = "$3" ]; then ok; else bad "$1: exit status $3, expected $2"; fi; }
is() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$3', expected '$2'"; fi; }

workdir() {
    W=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf "$W"' EXIT
}

finish() {
    echo "$1: $checks checks, $fails failed"
    [ "$fails" -eq 0 ]
}
