#!/bin/bash
# apply a patch that writes ../x, outside the tree: refused, nothing written.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/patches"
printf -- '--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+escaped\n' > "$tmp/patches/up.patch"
echo up.patch > "$tmp/series"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$tmp/series" "$tmp/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'up\.patch +failed \(touches a path outside the source tree: \.\./x\)' "the cause"
[ -z "$(find "$tmp" -name x)" ] || fail "x was written: $(find "$tmp" -name x)"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
