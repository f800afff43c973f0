#!/bin/bash
# Import a posted series into a quilt directory.
#
# usage: ci/gate/import.sh INPUT OUT
#   INPUT: an mbox (one or many messages, a b4 thread with its cover letter
#   and replies), a directory of git format-patch files, a quilt directory
#   (with a series file; patches in sub-folders too), or a quilt series
#   file (our own stack: series, its patches in patches/ next to it).
#
# Mail is split with b4 (--offline-mode am), or with git mailsplit where b4
# fails; each message is read with git mailinfo. A cover letter (patch 0/N,
# or no diff in a 0/N message) and replies (Re: ...) are skipped. A quilt
# series keeps its sub-folders; its test/ and bench/ patches are left out
# (the gate applies our own test/ on top; bench/ is not for upstream). Writes OUT/patches/ (the patches and their
# series file) and OUT/import.tsv ("status<TAB>check<TAB>reason" records
# for the verdict). Exit 1 when nothing usable was found.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# = 2 ] || die "usage: ci/gate/import.sh INPUT OUT"
in=$1 out=$2
rm -rf "$out"
mkdir -p "$out/patches" "$out/msgs"
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$out/import.tsv"; }
: > "$out/import.tsv"

[ -e "$in" ] || { rec FAIL import "no such file or directory: $in"; exit 1; }

# A quilt series: SERIES names patches relative to PDIR, maybe in
# sub-folders (test/, bench/): copied with their folders
quilt_import() {	# SERIES PDIR
	local series=$1 pdir=$2 p n=0 missing=
	while read -r p; do
		case $p in
		test/*|bench/*)	continue ;;
		/*|../*|*/../*) rec FAIL import "the series names $p, outside $pdir"; missing=1; continue ;;
		esac
		if [ ! -f "$pdir/$p" ]; then
			rec FAIL import "the series names $p, which is not in $pdir: fix the series or add the patch"
			missing=1; continue
		fi
		mkdir -p "$out/patches/$(dirname "$p")"
		cp "$pdir/$p" "$out/patches/$p"
		echo "$p" >> "$out/patches/series"
		n=$((n + 1))
	done < <(series_patches "$series")
	[ "$n" -gt 0 ] || { rec FAIL import "the series $series names no patch (test/ and bench/ patches left out)"; exit 1; }
	local skipped
	skipped=$(series_patches "$series" | grep -cE '^(test|bench)/' || true)
	[ "$skipped" != 0 ] || skipped=
	rec PASS import "quilt series $series: $n patches${skipped:+, $skipped test/ and bench/ patches left out (ours are applied on top)}"
	[ -z "$missing" ] || exit 1
	exit 0
}
if [ -f "$in" ] && [ "$(basename "$in")" = series ]; then
	pdir=$(dirname "$in")
	[ -d "$pdir/patches" ] && pdir=$pdir/patches
	quilt_import "$in" "$pdir"
elif [ -d "$in" ] && [ -f "$in/series" ]; then
	pdir=$in
	[ -d "$in/patches" ] && [ ! -f "$in/$(series_patches "$in/series" | head -n1)" ] && pdir=$in/patches
	quilt_import "$in/series" "$pdir"
fi

# One message per file in $out/msgs
if [ -d "$in" ]; then
	n=0
	for f in $(find "$in" -maxdepth 1 -type f \( -name '*.patch' -o -name '*.diff' -o -name '*.eml' \) | sort); do
		n=$((n + 1))
		cp "$f" "$out/msgs/$(printf '%04d' $n)"
	done
	how="$n files"
elif b4 --offline-mode -n am -m "$in" -o "$out/b4" -Q > "$out/b4.log" 2>&1 &&
     [ -f "$(ls "$out"/b4/*/series 2>/dev/null | head -n1)" ]; then
	n=0
	for f in $(series_patches "$(ls "$out"/b4/*/series | head -n1)"); do
		n=$((n + 1))
		cp "$(dirname "$(ls "$out"/b4/*/series | head -n1)")/$f" "$out/msgs/$(printf '%04d' $n)"
	done
	how="b4 am: $n patches"
else
	git mailsplit -o"$out/msgs" "$in" > /dev/null 2>&1
	# Not an mbox at all: read the file as one message
	[ -n "$(ls "$out/msgs")" ] || cp "$in" "$out/msgs/0001"
	how="git mailsplit: $(ls "$out/msgs" | wc -l) messages"
	[ -s "$out/b4.log" ] && how="$how (b4 failed: $(grep -m1 -E 'Error|error' "$out/b4.log" | cut -c1-80))"
fi
[ -n "$(ls "$out/msgs")" ] || { rec FAIL import "no message found in $in ($how)"; exit 1; }

# Each message: its subject, author and diff
: > "$out/patches/series"
seen= total=
for m in "$out"/msgs/*; do
	git mailinfo -k "$out/msg.txt" "$out/diff.txt" < "$m" > "$out/info.txt" 2>/dev/null
	subject=$(sed -n 's/^Subject: //p' "$out/info.txt")
	author=$(sed -n 's/^Author: //p' "$out/info.txt")
	email=$(sed -n 's/^Email: //p' "$out/info.txt")
	# [PATCH v2 1/3] -> 1 and 3
	nm=$(grep -oE '\[[^]]*\b[0-9]+/[0-9]+\]' <<<"$subject" | grep -oE '[0-9]+/[0-9]+' | head -n1)
	num=${nm%/*} of=${nm#*/}
	if grep -qiE '^(re|aw|fwd?): ' <<<"$subject"; then
		rec PASS reply "skipped: $subject"
		continue
	fi
	if [ "${num:-}" = 0 ] || { [ ! -s "$out/diff.txt" ] && grep -qi 'cover' <<<"$subject$m"; }; then
		rec PASS cover-letter "skipped: $subject"
		continue
	fi
	if [ ! -s "$out/diff.txt" ]; then
		rec FAIL "not-a-patch" "$(basename "$m"): no diff in \"${subject:-(no subject)}\""
		continue
	fi
	name=$(printf '%04d-%s.patch' "${num:-$(($(wc -l < "$out/patches/series") + 1))}" \
		"$(tr -c 'A-Za-z0-9._-' '-' <<<"${subject#*] }" | tr -s '-' | cut -c1-52 | sed 's/-*$//')")
	{
		echo "From: $author <$email>"
		echo "Subject: $subject"
		echo
		cat "$out/msg.txt"
		echo "---"
		cat "$out/diff.txt"
	} > "$out/patches/$name"
	echo "$name" >> "$out/patches/series"
	[ -n "${num:-}" ] && seen="$seen $num" && total=$of
done
sort -o "$out/patches/series" "$out/patches/series"

count=$(wc -l < "$out/patches/series")
[ "$count" -gt 0 ] || { rec FAIL import "no patch in $in ($how)"; exit 1; }
rec PASS import "$how, $count patches"
if [ -n "$total" ]; then
	missing=$(for i in $(seq 1 "$total"); do grep -qw "$i" <<<"$seen" || echo "$i/$total"; done)
	[ -z "$missing" ] || rec WARN partial-series "missing $(echo $missing): testing the $count patches present"
fi
exit 0
