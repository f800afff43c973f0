#!/bin/bash
# Build matrix on the working tree: each kconfigs/matrix/<name>.config is
# built by ci/build/config-kernel.sh (a name ending in -clang: clang-19/lld-19),
# then
# ci/build/warnings.sh reports W=1 and sparse diagnostics new relative to the base.
#
# usage: ci/build/matrix.sh [OUT_DIR]     prints "PASS|FAIL <row> <detail>" lines
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:-$CACHE/results/matrix}
[ -f "$TREE/.hmmwalk-files" ] || die "no working tree: run ci/apply/tree.sh (make tree) first"
mkdir -p "$out"
: > "$out/matrix.txt"
status=0

row() {	# name result...
	local name=$1
	shift
	printf '%s %s %s\n' "${1%% *}" "$name" "${1#* }" | tee -a "$out/matrix.txt"
	[[ $1 == PASS* ]] || status=1
}

for frag in "$TOP"/kconfigs/matrix/*.config; do
	name=$(basename "$frag" .config)
	llvm=
	[[ $name == *-clang ]] && llvm=-19
	row "$name" "$(LLVM=$llvm "$TOP/ci/build/config-kernel.sh" "$frag" \
		"$BUILD/matrix-$name" "$out/$name.log")"
done

if "$TOP/ci/build/warnings.sh" > "$out/warnings.txt" 2>&1; then
	row W=1+sparse "PASS $(head -n1 "$out/warnings.txt")"
else
	row W=1+sparse "FAIL $(head -n1 "$out/warnings.txt"), see $out/warnings.txt"
	sed -n '2,20p' "$out/warnings.txt"
fi
exit $status
