#!/bin/bash
# Import a posted series into a quilt directory.
#
# usage: ci/gate/import.sh INPUT OUT
#   INPUT: an mbox (one or many messages), a directory of git format-patch
#   files, or a quilt directory (with a series file).
#
# Mail is split with b4 (--offline-mode am), or with git mailsplit where b4
# fails; each message is read with git mailinfo. A cover letter (patch 0/N,
# or no diff in a 0/N message) is skipped. Writes OUT/patches/*.patch,
# OUT/patches/series and OUT/import.tsv ("status<TAB>check<TAB>reason"
# records for the verdict). Exit 1 when nothing usable was found.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

in=$1 out=$2
rm -rf "$out"
mkdir -p "$out/patches" "$out/msgs"
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$out/import.tsv"; }
: > "$out/import.tsv"

[ -e "$in" ] || { rec FAIL import "no such file or directory: $in"; exit 1; }

if [ -d "$in" ] && [ -f "$in/series" ]; then
	cp -r "$in"/. "$out/patches/"
	rec PASS import "quilt directory: $(series_patches "$in/series" | wc -l) patches"
	exit 0
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
