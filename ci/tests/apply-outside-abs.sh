#!/bin/bash
# apply a patch that writes an absolute path: refused (not quietly turned
# into a path inside the tree by -p1), nothing written.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/patches"
printf -- '--- /dev/null\n+++ %s/abs-x\n@@ -0,0 +1 @@\n+escaped\n' "$tmp" > "$tmp/patches/abs.patch"
echo abs.patch > "$tmp/series"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$tmp/series" "$tmp/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" "abs\.patch +failed \(touches a path outside the source tree: $tmp/abs-x\)" "the cause"
[ -z "$(find "$tmp" -name abs-x)" ] || fail "abs-x was written: $(find "$tmp" -name abs-x)"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
