#!/bin/bash
# apply a series that names a patch that does not exist: refused up front.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/patches"
echo nothere.patch > "$tmp/series"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$tmp/series" "$tmp/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'nothere\.patch, which does not exist' "the cause"
says "$tmp/log" 'fix the series or add the patch' "the fix"
[ ! -e "$tmp/out" ] || fail "it wrote $tmp/out anyway"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
