#!/bin/bash
# Build matrix on the working tree. Each kconfigs/matrix/<name>.config is an
# x86_64 allnoconfig plus that fragment, built whole (vmlinux and modules);
# a name ending in -clang builds with clang-19/lld-19 (LLVM=-19). Every line
# of a fragment must hold in the final .config, or the row says which one
# did not. Then ci/warnings.sh: W=1 and sparse, new warnings only.
#
# usage: ci/matrix.sh [OUT_DIR]     prints "PASS|FAIL <row> <detail>" lines
set -uo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE/results/matrix}
tree=$CACHE/src/linux-$BASE
[ -f "$tree/.hmmwalk-files" ] || die "no working tree: run ci/tree.sh (make tree) first"
mkdir -p "$out"
exec 9> "$CACHE/build.lock"
status=0

row() {	# name status detail
	printf '%s %s %s\n' "$2" "$1" "$3" | tee -a "$out/matrix.txt"
	[ "$2" = PASS ] || status=1
}

# The lines of fragment $1 that do not hold in .config $2. A "# CONFIG_X is
# not set" line holds when X is not set: hidden symbols have no such line.
config_missing() {
	local l sym
	grep -E '^(CONFIG_|# CONFIG_)' "$1" | while read -r l; do
		if [[ $l == "# "* ]]; then
			sym=${l#"# "}
			sym=${sym%% *}
			! grep -q "^$sym=" "$2" || echo "$l"
		else
			grep -qxF "$l" "$2" || echo "$l"
		fi
	done
}

: > "$out/matrix.txt"
for frag in "$TOP"/kconfigs/matrix/*.config; do
	name=$(basename "$frag" .config)
	build=$CACHE/build/matrix-$name
	log=$out/$name.log
	make=(make -C "$tree" O="$build" ARCH=x86_64 -j"$(nproc)")
	case $name in
	*-clang) need clang-19 clang-19; make+=(LLVM=-19 CC="ccache clang-19") ;;
	*) make+=(CC="ccache gcc") ;;
	esac
	mkdir -p "$build"
	flock 9
	{ "${make[@]}" allnoconfig &&
	  "$tree/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$frag" &&
	  "${make[@]}" olddefconfig; } > "$log" 2>&1
	# The fragment must mean what it says in this tree
	missing=$(config_missing "$frag" "$build/.config")
	if [ -n "$missing" ]; then
		flock -u 9
		row "$name" FAIL "config does not hold: $(echo $missing)"
		continue
	fi
	if "${make[@]}" >> "$log" 2>&1; then
		row "$name" PASS "$(grep -cE 'warning:' "$log") warnings, log $log"
	else
		row "$name" FAIL "$(grep -m3 -E 'error:|undefined|Error [0-9]' "$log" | sed "s|$tree/||" | paste -sd' ')"
	fi
	flock -u 9
done

if "$TOP/ci/warnings.sh" > "$out/warnings.txt" 2>&1; then
	row W=1+sparse PASS "$(head -n1 "$out/warnings.txt")"
else
	row W=1+sparse FAIL "$(head -n1 "$out/warnings.txt"), see $out/warnings.txt"
	sed -n '2,20p' "$out/warnings.txt"
fi
exit $status
