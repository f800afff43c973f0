#!/bin/bash
# Apply a quilt series to a copy of the files it touches, one patch at a
# time, and report each patch: clean, offset, fuzz N, or failed with the
# rejected hunks named. Stops at the first failure (later patches build on
# it). The base tree is only read.
#
# usage: ci/apply/report.sh BASE_TREE SERIES PATCH_DIR OUT [FUZZ]
#
# Writes OUT/tree (the touched files, patched), OUT/files (their paths, one
# per line), OUT/apply.tsv (patch, status, detail) and OUT/<n>.log per patch.
# Exit status: 0 when every patch applied (fuzz included), 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -ge 4 ] || die "usage: ci/apply/report.sh BASE_TREE SERIES PATCH_DIR OUT [FUZZ]"
base=$1 series=$2 pdir=$3 out=$4 fuzz=${5:-0}
need quilt quilt
is_kernel_tree "$base" ||
	die "$base is not a Linux source tree (no Makefile/Kbuild/mm): give the top directory of a kernel source tree"
[ -f "$series" ] || die "series file $series not found"
base=$(cd "$base" && pwd) series=$(cd "$(dirname "$series")" && pwd)/$(basename "$series")
pdir=$(cd "$pdir" && pwd)

mapfile -t patches < <(series_patches "$series")
[ ${#patches[@]} -gt 0 ] || die "series $series names no patch"
for p in "${patches[@]}"; do
	[ -f "$pdir/$p" ] || die "series names $p, which does not exist in $pdir: fix the series or add the patch"
done

rm -rf "$out"
mkdir -p "$out/tree"
: > "$out/apply.tsv"

report() {	# patch status detail
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$out/apply.tsv"
	printf '  %-60s %s%s\n' "$1" "$2" "${3:+ ($3)}"
}

for p in "${patches[@]}"; do
	touched "$pdir/$p"
done | sort -u > "$out/files"

while read -r f; do
	[ -n "$f" ] || continue
	case "$f" in /*|../*|*/../*|*/..|..) continue ;; esac
	if [ -e "$base/$f" ]; then
		mkdir -p "$out/tree/$(dirname "$f")"
		cp -p "$base/$f" "$out/tree/$f"
		chmod u+w "$out/tree/$f"
	fi
done < "$out/files"

export QUILT_PATCHES=$pdir QUILT_SERIES=$series QUILT_PC=.pc
status=0 n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	log=$out/$n.log
	why=$(patch_problem "$pdir/$p")
	if [ -n "$why" ]; then
		report "$p" failed "$why"
		status=1; break
	fi
	# --quiltrc -: a user's quiltrc must not change what we parse
	if (cd "$out/tree" && quilt --quiltrc - push --fuzz="$fuzz" "$p") > "$log" 2>&1; then
		read -r how n hunks <<<"$(pushed_how "$log")"
		case $how in
		fuzz) report "$p" "fuzz $n" "$hunks hunk(s)" ;;
		offset) report "$p" offset "$n hunk(s) moved" ;;
		*) report "$p" clean "" ;;
		esac
	else
		detail=$(rejects "$log" "$pdir/$p")
		report "$p" failed "${detail:-$(tail -n1 "$log")}"
		status=1; break
	fi
done
exit $status
