#!/bin/bash
# apply a diff cut off in the middle of its first hunk: reported as a
# truncated patch, not applied.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/patches"
p=$(series_patches "$TOP/series" | head -n1)
n=$(grep -n -m1 '^@@' "$TOP/patches/$p" | cut -d: -f1)
head -n $((n + 2)) "$TOP/patches/$p" > "$tmp/patches/cut.patch"
echo cut.patch > "$tmp/series"
before=$(state "$tmp/src")
run "$tmp/log" "$TOP/ci/apply/report.sh" "$tmp/src" "$tmp/series" "$tmp/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'cut\.patch +failed \(.*unexpected(ly)? end' "the cause"
[ "$(state "$tmp/src")" = "$before" ] || fail "the base was changed"
ok
