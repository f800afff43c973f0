#!/bin/bash
# Branch coverage of the walker by the KUnit suite, under UML (gcov, as in
# Documentation/dev-tools/kunit/running_tips.rst): build the UML tier with
# CONFIG_GCOV, run it, capture with lcov, and report the branches of the
# lines the series adds to mm/hmm.c and mm/migrate_device.c, with an HTML
# report of the whole files.
#
# usage: ci/coverage.sh [OUT_DIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE/results/coverage}
build=$CACHE/build/uml-gcov
need lcov lcov
[ -f "$TREE/.hmmwalk-files" ] || die "no working tree: run ci/tree.sh (make tree) first"
rm -rf "$out"
mkdir -p "$out"
args=(--build_dir="$build" --kunitconfig="$TOP/kconfigs/uml.kunitconfig"
      --kconfig_add CONFIG_DEBUG_KERNEL=y --kconfig_add CONFIG_DEBUG_INFO=y
      --kconfig_add CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y
      --kconfig_add CONFIG_GCOV=y --make_options "CC=ccache gcc"
      --make_options "KCFLAGS=-Dmangle_path=kernel_mangle_path")
# gcc >= 7's libgcov.a has its own mangle_path(), which clashes with
# fs/seq_file.c's when UML links libgcov in: rename the kernel's.
cd "$TREE"
exec 9> "$CACHE/build.lock"
flock 9
find "$build" -name '*.gcda' -delete 2>/dev/null || true
python3 tools/testing/kunit/kunit.py run "${args[@]}" --jobs "$(nproc)" \
	--json="$out/results.json" > "$out/kunit.log" 2>&1 || true
flock -u 9
grep -m1 'Testing complete' "$out/kunit.log" || die "the UML gcov run failed: see $out/kunit.log"

lcov -q --capture --directory "$build" --base-directory "$TREE" \
	--rc lcov_branch_coverage=1 -o "$out/all.info" 2> "$out/lcov.log"
lcov -q --extract "$out/all.info" '*/mm/hmm.c' '*/mm/migrate_device.c' \
	--rc lcov_branch_coverage=1 -o "$out/walker.info" 2>> "$out/lcov.log"
genhtml -q --branch-coverage -o "$out/html" "$out/walker.info" 2>> "$out/lcov.log"

# The lines the series adds to the walker's files
python3 "$TOP/ci/coverage.py" "$out/walker.info" mm/hmm.c mm/migrate_device.c -- \
	$(series_patches "$TOP/series" | grep -v '^test/' | sed "s|^|$TOP/patches/|") \
	> "$out/summary.txt"
cat "$out/summary.txt"
echo "HTML report: $out/html/index.html"
