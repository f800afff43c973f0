#!/bin/bash
# push onto a directory that is not a kernel tree: refused, nothing written.
. "$(dirname "$0")/testlib.bash"

mkdir "$tmp/src"
echo hello > "$tmp/src/README"
before=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/out" 'is not a Linux source tree' "the cause"
says "$tmp/out" 'KSRC to the top directory' "the fix"
[ "$(state "$tmp/src")" = "$before" ] || fail "$tmp/src was changed"
ok
