#!/bin/bash
# Apply a quilt series to a copy of the files it touches, one patch at a
# time, and report each patch: clean, offset, fuzz N, or failed with the
# rejected hunks named. Stops at the first failure (later patches build on
# it). The base tree is only read.
#
# usage: ci/apply.sh BASE_TREE SERIES PATCH_DIR OUT [FUZZ]
#
# Writes OUT/tree (the touched files, patched), OUT/files (their paths, one
# per line), OUT/apply.tsv (patch, status, detail) and OUT/<n>.log per patch.
# Exit status: 0 when every patch applied (fuzz included), 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 4 ] || die "usage: ci/apply.sh BASE_TREE SERIES PATCH_DIR OUT [FUZZ]"
base=$1 series=$2 pdir=$3 out=$4 fuzz=${5:-0}
need quilt quilt
is_kernel_tree "$base" || die "$base is not a Linux source tree (no Makefile/Kbuild/mm)"
[ -f "$series" ] || die "series file $series not found"
base=$(cd "$base" && pwd) series=$(cd "$(dirname "$series")" && pwd)/$(basename "$series")
pdir=$(cd "$pdir" && pwd)

# The patch names of a quilt series file (comments and -pN options dropped).
mapfile -t patches < <(sed -e 's/#.*//' "$series" | awk 'NF { print $1 }')
[ ${#patches[@]} -gt 0 ] || die "series $series names no patch"
for p in "${patches[@]}"; do
	[ -f "$pdir/$p" ] || die "series names $p, which does not exist in $pdir: fix the series or add the patch"
done

rm -rf "$out"
mkdir -p "$out/tree"
: > "$out/apply.tsv"

# Paths a patch touches (-p1), from its ---/+++ lines.
touched() {
	awk '/^(---|\+\+\+) / {
		p = $2; sub(/\t.*/, "", p)
		if (p == "/dev/null") next
		sub(/^[^\/]*\//, "", p); print p }' "$1" | sort -u
}

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
	outside=$(touched "$pdir/$p" | grep -E '(^/|(^|/)\.\.(/|$))' || true)
	if [ -n "$outside" ]; then
		report "$p" failed "touches a path outside the source tree: $(echo $outside)"
		status=1; break
	fi
	if ! grep -qE '^(---|\+\+\+) ' "$pdir/$p"; then
		report "$p" failed "not a patch: no diff in it"
		status=1; break
	fi
	if (cd "$out/tree" && quilt push --fuzz="$fuzz" "$p") > "$log" 2>&1; then
		f=$(grep -oE 'with fuzz [0-9]+' "$log" | awk '{ print $3 }' | sort -n | tail -n1 || true)
		o=$(grep -cE 'offset -?[0-9]+ lines?' "$log" || true)
		if [ -n "$f" ]; then
			report "$p" "fuzz $f" "$(grep -c 'with fuzz' "$log") hunk(s)"
		elif [ "$o" -gt 0 ]; then
			report "$p" offset "$o hunk(s) moved"
		else
			report "$p" clean ""
		fi
	else
		# Name each rejected hunk by its file and @@ header.
		detail=$(awk -v pf="$pdir/$p" '
			/^patching file / { file = $3 }
			/^Hunk #[0-9]+ FAILED/ {
				n = substr($2, 2)
				cmd = "awk -v f=\"" file "\" -v n=" n " -f '"$TOP"'/ci/hunk.awk \"" pf "\""
				cmd | getline h; close(cmd)
				printf "%s%s hunk #%d %s", sep, file, n, h; sep = "; " }
			/can.t find file to patch/ { printf "%sa file it changes is missing", sep; sep = "; " }
			/Only garbage|malformed patch|unexpectedly ends/ {
				printf "%s%s", sep, $0; sep = "; " }' "$log")
		report "$p" failed "${detail:-$(tail -n1 "$log")}"
		status=1; break
	fi
done
exit $status
