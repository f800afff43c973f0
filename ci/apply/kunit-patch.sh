#!/bin/bash
# Generate the KUnit test patch from kunit/, its source of truth.
#
# usage: ci/apply/kunit-patch.sh OUT
#
# The patch adds kunit/mm/tests/* to mm/tests/, kunit/Kconfig before the
# mm/damon source line of mm/Kconfig, kunit/Makefile after the lazy MMU
# test line of mm/Makefile and mm/tests/hmm_* to the HMM entry of
# MAINTAINERS, in the state the series leaves them in just
# before this patch (so it applies with no offset). kunit/commit-message
# is its changelog. The output is stable: same input, same bytes.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -eq 1 ] || die "usage: ci/apply/kunit-patch.sh OUT"
out=$1
name=$(grep -m1 -E '^test/[0-9]+-mm-tests-' "$TOP/series") ||
	die "series names no test/NNNN-mm-tests-*.patch"
base=$("$TOP/ci/fetch/base.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The series up to the test patch, applied to the files it touches
sed -n "1,/^${name//\//\\/}/p" "$TOP/series" | sed '$d' > "$work/series"
"$TOP/ci/apply/report.sh" "$base" "$work/series" "$TOP/patches" "$work/applied" \
	> "$work/apply.log" || { cat "$work/apply.log" >&2; die "the series before $name does not apply"; }

git init -q "$work/git"
cd "$work/git"
mkdir -p mm
for f in mm/Kconfig mm/Makefile MAINTAINERS; do
	if [ -f "$work/applied/tree/$f" ]; then
		cp "$work/applied/tree/$f" "$f"
	else
		cp "$base/$f" "$f"
	fi
	chmod u+w "$f"
done
export GIT_AUTHOR_NAME="Seed 74938b0d maintainers" GIT_COMMITTER_NAME="Seed 74938b0d maintainers"
export GIT_AUTHOR_EMAIL="maintainers@users.noreply.r-seed-74938b0d.example"
export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2026-11-25 00:00:00 +0000" GIT_COMMITTER_DATE="2026-11-25 00:00:00 +0000"
git add -A && git commit -q -m base

grep -q '^source "mm/damon/Kconfig"' mm/Kconfig || die "mm/Kconfig has no mm/damon source line to insert before"
grep -q 'tests/lazy_mmu_mode_kunit.o' mm/Makefile || die "mm/Makefile has no lazy MMU test line to insert after"
awk -v frag="$TOP/kunit/Kconfig" '
	/^source "mm\/damon\/Kconfig"/ { while ((getline l < frag) > 0) print l }
	{ print }' mm/Kconfig > mm/Kconfig.new && mv mm/Kconfig.new mm/Kconfig
awk -v frag="$TOP/kunit/Makefile" '
	{ print }
	/tests\/lazy_mmu_mode_kunit.o/ { while ((getline l < frag) > 0) print l }' \
	mm/Makefile > mm/Makefile.new && mv mm/Makefile.new mm/Makefile
grep -qx 'F:	mm/hmm\*' MAINTAINERS || die "MAINTAINERS has no 'F: mm/hmm*' line to add the tests after"
sed -i 's|^F:\tmm/hmm\*$|&\nF:\tmm/tests/hmm_*|' MAINTAINERS
cp -r "$TOP/kunit/mm/tests" mm/
{
	cat "$TOP/kunit/commit-message"
	echo
	echo "Signed-off-by: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"
} > "$work/msg"
git add -A && git commit -q -F "$work/msg"
git format-patch -q --zero-commit --no-signature -1 --stdout > "$work/out.patch"
cd - >/dev/null
mkdir -p "$(dirname "$out")"
mv "$work/out.patch" "$out"
