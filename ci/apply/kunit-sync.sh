#!/bin/bash
# kunit/ is the source of truth of the KUnit test patch: the committed patch
# must be exactly what ci/apply/kunit-patch.sh makes from it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

patch=$(ls "$TOP"/patches/test/*-mm-tests-*.patch)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$TOP/ci/apply/kunit-patch.sh" "$tmp"
cmp -s "$tmp" "$patch" ||
	die "$(basename "$patch") is out of sync with kunit/: run 'make kunit-patch' and commit both"
echo "kunit: $(basename "$patch") matches kunit/"
