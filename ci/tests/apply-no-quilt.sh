#!/bin/bash
# apply with no quilt in PATH: the error names quilt and the apt-get line.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/bin"	# with what apply.sh runs before it looks for quilt
ln -s "$(command -v dirname)" "$tmp/bin/dirname"
run "$tmp/log" env PATH="$tmp/bin" "$TOP/ci/apply/report.sh" "$tmp/src" "$TOP/series" "$TOP/patches" "$tmp/out"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" "'quilt' not found" "the cause"
says "$tmp/log" 'apt-get install quilt' "the fix"
[ ! -e "$tmp/out" ] || fail "it wrote $tmp/out anyway"
ok
