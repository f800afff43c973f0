#!/bin/bash
# Bring the working tree to "base + series" and print its path.
#
# usage: ci/apply/tree.sh [SERIES [PATCH_DIR [FUZZ]]]   (default: ./series without
#                                                   its bench/ patches, ./patches, 0)
#        ci/apply/tree.sh none                            (the pristine base)
#
# The default tree is the one the gate makes of our stack (the upstream and
# test/ patches), so the tiers, the mutants and the gate share their builds;
# make bench applies the bench/ patches too (ci/apply/tree.sh series).
#
# The working tree ($CACHE/src/linux-<base>) is a copy of the pristine base
# that only ever differs from it in files a series touched. Only files whose
# content changes are rewritten, so an incremental build (and ccache, which
# needs the same path) stays valid across series, resends and bisect steps.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

series=${1:-} pdir=${2:-$TOP/patches} fuzz=${3:-0}
if [ -z "$series" ]; then
	mkdir -p "$CACHE"
	series=$CACHE/stack.series
	grep -v '^bench/' "$TOP/series" > "$series"
fi
base=$("$TOP/ci/fetch/base.sh")
tree=$TREE
applied=$TREE.applied

# Nobody builds while files change under them
mkdir -p "$CACHE"
exec 9> "$CACHE/build.lock"
flock 9
# A mutant run edits the working tree in place: never rewrite it under one
exec 8> "$CACHE/mutants.lock"
flock -n 8 || die "a mutant run (ci/test/mutants.py) is using $TREE: wait for it, or stop it"
# Unlock it before build.lock: at exit the kernel may drop build.lock first,
# and a tree.sh waiting for it would find this one still held
trap 'flock -u 8' EXIT

if [ ! -f "$tree/.hmmwalk-files" ]; then
	note "copying $base to $tree"
	rm -rf "$tree"
	mkdir -p "$CACHE/src"
	cp -a "$base" "$tree"
	chmod -R u+w "$tree"
	rm -f "$tree/.hmmwalk-pristine"
	: > "$tree/.hmmwalk-files"
fi

# SERIES "none": the pristine base
rm -rf "$applied"
if [ "$series" = none ]; then
	mkdir -p "$applied/tree"
	: > "$applied/files"
	: > "$applied/apply.tsv"
else
	"$TOP/ci/apply/report.sh" "$base" "$series" "$pdir" "$applied" "$fuzz" >&2
fi

# Every file the previous or the new series touched gets the content it
# must have now: patched, or else pristine (or absent if not in the base).
sort -u "$tree/.hmmwalk-files" "$applied/files" | while read -r f; do
	[ -n "$f" ] || continue
	if [ -f "$applied/tree/$f" ]; then
		want=$applied/tree/$f
	elif grep -qxF "$f" "$applied/files"; then
		want=		# the series deletes it
	elif [ -f "$base/$f" ]; then
		want=$base/$f	# touched before, not now
	else
		want=
	fi
	if [ -z "$want" ]; then
		rm -f "$tree/$f"
	elif ! cmp -s "$want" "$tree/$f"; then
		mkdir -p "$tree/$(dirname "$f")"
		cp "$want" "$tree/$f"
		chmod u+w "$tree/$f"
	fi
done
cp "$applied/files" "$tree/.hmmwalk-files"
cp "$applied/apply.tsv" "$tree/.hmmwalk-applied"
echo "$tree"
