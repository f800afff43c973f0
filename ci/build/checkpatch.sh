#!/bin/bash
# checkpatch.pl --strict on every patch of a series, with the checkpatch of
# the pinned base, and the one rule that judges it. One line per patch:
#
#   STATUS<TAB>PATCH<TAB>DETAIL<TAB>LOG
#
# STATUS is PASS (clean), WARN (warnings or checks, no error), FAIL (an
# error) or ERROR (checkpatch.pl broke: an exit status other than 0 or 1,
# or 1 with nothing reported; with --terse a clean patch prints nothing).
# The gate turns each line into a check; make checkpatch wants every patch
# clean (our own stack is kept --strict clean) and exits 1 otherwise.
#
# usage: ci/build/checkpatch.sh [SERIES [PATCH_DIR [LOG_DIR]]]
#        (default: ./series, ./patches, $CACHE/results/checkpatch)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

series=${1:-$TOP/series} pdir=${2:-$TOP/patches}
logs=${3:-$CACHE/results/checkpatch}
[ -f "$series" ] || die "no series file '$series': usage: ci/build/checkpatch.sh [SERIES [PATCH_DIR [LOG_DIR]]]"
base=$("$TOP/ci/fetch/base.sh")
mkdir -p "$logs"
status=0 n=0
for p in $(series_patches "$series"); do
	n=$((n + 1))
	log=$logs/checkpatch-$n.log
	rc=0
	(cd "$base" && perl scripts/checkpatch.pl --strict --terse --show-types "$pdir/$p") \
		2>&1 | sed "s|$pdir/||" > "$log" || rc=$?
	count() { grep -c ": $1:" "$log" || true; }
	if [ $rc -gt 1 ] || { [ $rc = 1 ] && ! grep -qE ': (ERROR|WARNING|CHECK):' "$log"; }; then
		s=ERROR detail="checkpatch.pl broke (exit $rc): $(tail -n1 "$log")"
	else
		if [ "$(count ERROR)" -gt 0 ]; then s=FAIL
		elif grep -qE ': (WARNING|CHECK):' "$log"; then s=WARN
		else s=PASS; fi
		detail="$(count ERROR) errors, $(count WARNING) warnings, $(count CHECK) checks"
		detail+=$(grep -m2 -E ': (ERROR|WARNING|CHECK):' "$log" | sed 's/^[^ ]*: /; /' | tr -d '\n' || true)
	fi
	[ $s = PASS ] || status=1
	printf '%s\t%s\t%s\t%s\n' "$s" "$p" "$detail" "$log"
done
[ $n -gt 0 ] || die "no patch in $series"
[ $status = 0 ] && note "$n patches, all clean" || note "$n patches, not all clean"
exit $status
