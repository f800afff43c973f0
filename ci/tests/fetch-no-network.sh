#!/bin/bash
# fetch from a mirror nobody answers for: fails quickly, naming the network
# or mirror problem and the fixes, and leaves no tarball behind.
. "$(dirname "$0")/testlib.bash"

export MIRROR=http://127.0.0.1:9/debian	# nothing listens on port 9
sum=$(base_field "$BASE" 3)
run "$tmp/log" timeout 120 "$TOP/ci/fetch/tarball.sh" "$BASE" "$(base_field "$BASE" 2)" "$sum" "$tmp/dl"
[ $rc -ne 124 ] || fail "it hung (killed after 120s)"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" 'apt-get update of http://127\.0\.0\.1:9/debian unstable failed \(no network or mirror down\?\)' "the cause"
says "$tmp/log" 'fix the network, set MIRROR=' "the fix"
[ -z "$(ls -A "$tmp/dl")" ] || fail "it left files in DESTDIR: $(ls -A "$tmp/dl")"
ok
