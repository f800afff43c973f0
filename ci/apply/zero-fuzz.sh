#!/bin/bash
# The stack must apply to the pinned base with zero fuzz and zero offset:
# every patch "clean".
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=$CACHE/results/stack-check
"$TOP/ci/apply/report.sh" "$("$TOP/ci/fetch/base.sh")" "$TOP/series" "$TOP/patches" "$out" 0
bad=$(awk -F'\t' '$2 != "clean"' "$out/apply.tsv")
[ -z "$bad" ] || die "not clean on $BASE (refresh these patches with quilt refresh -p ab --no-timestamps --no-index):
$bad"
echo "stack: $(wc -l < "$out/apply.tsv") patches apply clean to $BASE"
