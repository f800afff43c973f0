#!/bin/bash
# kunit/ is the source of truth of two patches of the stack, the KUnit
# tests (kunit/) and the benchmark (kunit/bench/): each committed patch must
# be exactly what ci/apply/kunit-patch.sh makes from its source.
#
# usage: make kunit-sync   (the patches: $KUNIT_PATCH, $BENCH_PATCH)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# Their names live in the Makefile only
: "${KUNIT_PATCH:?not set: run make kunit-sync}"
: "${BENCH_PATCH:?not set: run make kunit-sync}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cd "$TOP"
for pair in "kunit $KUNIT_PATCH" "kunit/bench $BENCH_PATCH"; do
	read -r src patch <<<"$pair"
	[ -f "$patch" ] || die "no $patch: run 'make kunit-patch' and commit it"
	"$TOP/ci/apply/kunit-patch.sh" "$src" "$patch" "$tmp"
	cmp -s "$tmp" "$patch" ||
		die "$(basename "$patch") is out of sync with $src/: run 'make kunit-patch' and commit both"
	echo "kunit: $(basename "$patch") matches $src/"
done
