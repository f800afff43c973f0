#!/bin/bash
# Push the project's quilt stack onto your own kernel tree, one patch at a
# time, or pop it again. A push that fails pops what it pushed: the tree is
# never left half-patched. quilt keeps its state in KSRC/.pc, which we mark
# as ours (.pc/.hmmwalk) so that we never touch someone else's quilt stack.
#
# usage: ci/apply/push.sh push KSRC [FUZZ]   (FUZZ: default 2, KSRC is not our base)
#        ci/apply/push.sh pop KSRC
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

usage="usage: ci/apply/push.sh push KSRC [FUZZ] | ci/apply/push.sh pop KSRC"
[ $# -ge 2 ] || die "$usage"
cmd=$1 ksrc=$2 fuzz=${3:-2}
case $cmd in push|pop) ;; *) die "unknown command '$cmd': $usage" ;; esac
[ -n "$ksrc" ] || die "no kernel tree given: make $cmd KSRC=/path/to/linux"
need quilt quilt
is_kernel_tree "$ksrc" ||
	die "$ksrc is not a Linux source tree (no Makefile/Kbuild/mm): set KSRC to the top directory of your kernel source"
ksrc=$(cd "$ksrc" && pwd)
mark=$ksrc/.pc/.hmmwalk
log=$(mktemp)
trap 'rm -f "$log"' EXIT

export QUILT_PATCHES=$TOP/patches QUILT_SERIES=$TOP/series QUILT_PC=.pc
q() { (cd "$ksrc" && quilt --quiltrc - "$@"); }

# Pop all of our stack and drop .pc. quilt leaves behind the directories
# the stack created, empty: $dirs (saved in the marker) names them.
unpush() {
	if [ -s "$ksrc/.pc/applied-patches" ] && ! q pop -a > "$log" 2>&1; then
		cat "$log" >&2
		die "quilt pop failed in $ksrc (files changed since the push?): undo those changes and pop again, or drop them with: cd $ksrc && QUILT_PC=.pc quilt pop -af"
	fi
	while read -r d; do
		[ -z "$d" ] || rmdir "$ksrc/$d" 2>/dev/null || true
	done <<< "$dirs"
	rm -rf "$ksrc/.pc"
}

push() {
	[ ! -e "$mark" ] ||
		die "our stack is already pushed onto $ksrc: pop it first (make pop KSRC=$ksrc)"
	[ ! -e "$ksrc/.pc" ] ||
		die "$ksrc/.pc exists and is not ours (another quilt stack?): pop that stack ('quilt pop -a') and remove .pc, or use a clean copy of the tree"
	mapfile -t patches < <(series_patches "$TOP/series")
	for p in "${patches[@]}"; do
		[ -f "$TOP/patches/$p" ] ||
			die "series names $p, which does not exist in $TOP/patches: fix the series or add the patch"
		why=$(patch_problem "$TOP/patches/$p")
		[ -z "$why" ] || die "$p $why: fix the patch (nothing was changed in $ksrc)"
	done

	# Directories the stack will create, deepest first.
	dirs=$(for p in "${patches[@]}"; do touched "$TOP/patches/$p"; done |
		while read -r f; do
			d=$(dirname "$f")
			while [ "$d" != . ] && [ ! -e "$ksrc/$d" ]; do
				echo "$d"; d=$(dirname "$d")
			done
		done | sort -ru)

	for p in "${patches[@]}"; do
		if ! q push --fuzz="$fuzz" "$p" > "$log" 2>&1; then
			why=$(rejects "$log" "$TOP/patches/$p")
			printf '  %-60s FAILED: %s\n' "$p" "${why:-$(tail -n1 "$log")}"
			unpush
			die "$p does not apply to $ksrc; every patch was popped, the tree is as before. Rebase $p onto this tree, or use a base listed in ci/bases"
		fi
		echo "$dirs" > "$mark"	# quilt made .pc: mark it ours
		read -r how n _ <<<"$(pushed_how "$log")"
		case $how in
		fuzz) how="with fuzz $n" ;;
		offset) how="with offset ($n hunks)" ;;
		esac
		printf '  %-60s applied %s\n' "$p" "$how"
	done
	echo "pushed ${#patches[@]} patches onto $ksrc; undo with: make pop KSRC=$ksrc (or ci/apply/push.sh pop $ksrc)"
}

pop() {
	if [ ! -e "$mark" ]; then
		[ ! -e "$ksrc/.pc" ] ||
			die "$ksrc/.pc is not ours (another quilt stack?): not touching it; use quilt itself to pop that stack"
		note "our stack is not pushed onto $ksrc: nothing to pop"
		return
	fi
	dirs=$(cat "$mark")
	unpush
	echo "popped our stack from $ksrc: it is as before the push"
}

"$cmd"
