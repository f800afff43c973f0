#!/bin/bash
# apply a "patch" that is not a diff at all: reported as such, status 1.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/patches"
printf 'Hello,\n\nplease apply the walker.\n' > "$tmp/patches/junk.patch"
echo junk.patch > "$tmp/series"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$tmp/series" "$tmp/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'junk\.patch +failed \(not a patch: no diff in it\)' "the cause"
grep -qP '^junk\.patch\tfailed\t' "$tmp/out/apply.tsv" || fail "apply.tsv does not say failed"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
