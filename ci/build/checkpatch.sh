#!/bin/bash
# checkpatch.pl --strict on every patch of the series: no error, warning or
# check. Uses the checkpatch of the pinned base.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

base=$("$TOP/ci/fetch/base.sh")
series=${1:-$TOP/series} pdir=${2:-$TOP/patches}
status=0
for p in $(sed -e 's/#.*//' "$series" | awk 'NF { print $1 }'); do
	res=$(cd "$base" && perl scripts/checkpatch.pl --strict --terse \
		--show-types "$pdir/$p" 2>&1 | grep -v '^total:' | sed "s|$pdir/||") || true
	if [ -n "$res" ]; then
		echo "$res"
		status=1
	else
		echo "  $p: clean"
	fi
done
exit $status
