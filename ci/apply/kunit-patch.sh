#!/bin/bash
# Generate a KUnit patch of the stack from its source of truth: SRC is
# kunit (the tests, patches/test/*-mm-tests-add-KUnit-tests-*) or
# kunit/bench (the benchmark).
#
# usage: ci/apply/kunit-patch.sh SRC PATCH [OUT]   (OUT: PATCH itself)
#
# The patch adds SRC/mm/tests/* to mm/tests/, SRC/Kconfig before the
# mm/damon source line of mm/Kconfig, SRC/Makefile after the last mm/tests
# line of mm/Makefile and the F: patterns of SRC/maintainers to the HMM
# entry of MAINTAINERS, in the state the series leaves them in just before the
# patch PATCH (so it applies with no offset). SRC/commit-message is its
# changelog. The output is stable: same input, same bytes.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: ci/apply/kunit-patch.sh SRC PATCH [OUT]"
src=$(cd "$1" && pwd) patch=$2 out=${3:-$2}
for f in Kconfig Makefile commit-message maintainers mm/tests; do
	[ -e "$src/$f" ] || die "$1 has no $f: not a KUnit patch source"
done
name=$(series_patches "$TOP/series" | grep -m1 -xF "test/$(basename "$patch")") ||
	die "series names no test/$(basename "$patch")"
base=$("$TOP/ci/fetch/base.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The series up to the patch, applied to the files it touches
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
grep -q ' tests/' mm/Makefile || die "mm/Makefile has no mm/tests line to insert after"
awk -v frag="$src/Kconfig" '
	/^source "mm\/damon\/Kconfig"/ { while ((getline l < frag) > 0) print l }
	{ print }' mm/Kconfig > mm/Kconfig.new && mv mm/Kconfig.new mm/Kconfig
# After the last line of mm/Makefile that names mm/tests (or continues one)
last=$(awk '/ tests\// { n = NR; cont = /\\$/; next } cont { n = NR; cont = /\\$/ } END { print n }' mm/Makefile)
awk -v frag="$src/Makefile" -v last="$last" '
	{ print }
	NR == last { while ((getline l < frag) > 0) print l }' \
	mm/Makefile > mm/Makefile.new && mv mm/Makefile.new mm/Makefile
# SRC/maintainers: F: patterns for the HMM entry, after "F: mm/hmm*" and
# in order with the mm/tests ones already there
grep -qx 'F:	mm/hmm\*' MAINTAINERS || die "MAINTAINERS has no 'F: mm/hmm*' line to add the tests after"
awk -v frag="$src/maintainers" '
	function flush(i, j, t) {	# the block, sorted (a few lines)
		for (i = 2; i <= nb; i++)
			for (j = i; j > 1 && block[j - 1] > block[j]; j--) {
				t = block[j]; block[j] = block[j - 1]; block[j - 1] = t }
		for (i = 1; i <= nb; i++) print block[i]
		nb = 0 }
	/^F:\tmm\/hmm\*$/ { print; while ((getline l < frag) > 0) block[++nb] = "F:\t" l; intests = 1; next }
	intests && /^F:\tmm\/tests\/hmm_/ { block[++nb] = $0; next }
	{ if (intests) { flush(); intests = 0 } print }' \
	MAINTAINERS > MAINTAINERS.new && mv MAINTAINERS.new MAINTAINERS
cp -r "$src/mm/tests" mm/
{
	cat "$src/commit-message"
	echo
	echo "Signed-off-by: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"
} > "$work/msg"
git add -A && git commit -q -F "$work/msg"
git format-patch -q --zero-commit --no-signature -1 --stdout > "$work/out.patch"
cd - >/dev/null
mkdir -p "$(dirname "$out")"
mv "$work/out.patch" "$out"
