#!/bin/bash
# One screen: what was tested (base, patches) and how each tier went.
#
# usage: ci/verdict/summary.sh TIER...   (make summary: every tier of kunit/tiers.tsv)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

tree=$TREE
sum=$(base_field "$BASE" 3)
echo "== hmmwalk: one page walk to fault and prepare for migration =="
echo "base:    Linux $BASE, linux_$BASE.orig.tar.xz sha256 ${sum:0:16}..."
echo "tree:    $tree"
if [ -f "$tree/.hmmwalk-applied" ]; then
	echo "patches: $(wc -l < "$tree/.hmmwalk-applied") applied:" \
	     "$(cut -f2 "$tree/.hmmwalk-applied" | sort | uniq -c |
		awk '{ printf "%s%d %s", sep, $1, $2 " " $3; sep = ", " }')"
fi
status=0
for tier in "$@"; do
	out=$CACHE/results/$tier
	if [ ! -f "$out/results.tsv" ]; then
		printf '%-14s not run\n' "$tier:"
		status=1
		continue
	fi
	line=$(python3 "$TOP/ci/test/kunit_results.py" "$TOP/kunit/expected/$tier.expected" \
		"$out/test.log" "$out"/results.json "$out"/isolated-*.json 2>/dev/null)
	rc=$?
	printf '%-14s %s %s\n' "$tier:" "$( [ $rc = 0 ] && echo PASS || echo FAIL)" \
		"$(head -n1 <<<"$line")"
	[ $rc = 0 ] || { tail -n +2 <<<"$line" | head -n 10; status=1; }
	echo "               log: $out/test.log, results: $out/results.tsv"
done
exit $status
