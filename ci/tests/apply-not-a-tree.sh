#!/bin/bash
# apply onto a base that is not a kernel tree: refused up front.
. "$(dirname "$0")/testlib.bash"

mkdir "$tmp/src"
echo hello > "$tmp/src/README"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$TOP/series" "$TOP/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'is not a Linux source tree' "the cause"
says "$tmp/log" 'top directory of a kernel source tree' "the fix"
[ ! -e "$tmp/out" ] || fail "it wrote $tmp/out anyway"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
