#!/bin/bash
# Branch coverage of the walker by the KUnit suite, in both tiers:
#  - UML: CONFIG_GCOV (Documentation/dev-tools/kunit/running_tips.rst); the
#    .gcda files are written at exit, into the build directory.
#  - x86_64: CONFIG_GCOV_KERNEL with only mm/hmm.o and mm/migrate_device.o
#    profiled (ci/build/kunit-kernel.sh x86_64-gcov); the suite runs at boot, then the
#    initramfs' /init prints the .gcda files from debugfs in base64 on the
#    serial console, and they are written back next to their .gcno.
# Then lcov per tier and merged, an HTML report of the two files, and the
# branches of the lines the series adds (ci/test/coverage.py).
#
# The run ends with OUT_DIR/block.md, the coverage block of
# docs/coverage.md; --doc copies it there, --check says whether the block
# there was measured on the stack as it is (make check runs it).
#
# usage: ci/test/coverage.sh [OUT_DIR]
#        ci/test/coverage.sh --doc | --check
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

doc=${HMMWALK_COVERAGE_DOC:-$TOP/docs/coverage.md}
case ${1:-} in
--check)
	have=$(sed -n 's/^Measured by `make coverage` on stack \([0-9a-f]*\).*/\1/p' "$doc")
	[ "$have" = "$(coverage_stack_id)" ] ||
		die "docs/coverage.md was measured on stack ${have:-(none)}, the stack is now $(coverage_stack_id): run 'make coverage coverage-doc'"
	echo "docs/coverage.md: measured on the stack as it is ($have)"
	exit 0 ;;
--doc)
	block=$CACHE/results/coverage/block.md
	[ -f "$block" ] || die "no coverage run in $(dirname "$block"): run 'make coverage' first"
	grep -q "on stack $(coverage_stack_id) " "$block" ||
		die "$block was measured on another stack: run 'make coverage'"
	python3 "$TOP/ci/verdict/doc_block.py" coverage "$block" "$doc"
	echo "docs/coverage.md: the coverage block of stack $(coverage_stack_id)"
	exit 0 ;;
-*) die "usage: ci/test/coverage.sh [OUT_DIR] | --doc | --check" ;;
esac

out=${1:-$CACHE/results/coverage}
need lcov lcov
[ -f "$TREE/.hmmwalk-files" ] || die "no working tree: run ci/apply/tree.sh (make tree) first"
rm -rf "$out"
# kunit.py makes the build directory, not its parent (a new cache has none)
mkdir -p "$out" "$BUILD"
cd "$TREE"
# The walker's files: the series' added lines in them are reported (the
# PTE prepare step, inlined in both walks, is in mm/internal.h)
files="mm/hmm.c mm/migrate_device.c mm/internal.h"

capture() {	# tier build-dir
	lcov -q --capture --directory "$2" --base-directory "$TREE" \
		--rc lcov_branch_coverage=1 -o "$out/$1-all.info" 2>> "$out/lcov.log"
	local f patterns=()
	for f in $files; do patterns+=("*/$f"); done
	lcov -q --extract "$out/$1-all.info" "${patterns[@]}" \
		--rc lcov_branch_coverage=1 -o "$out/$1.info" 2>> "$out/lcov.log"
}

uml() {
	local build=$BUILD/uml-gcov
	# gcc >= 7's libgcov.a has its own mangle_path(), which clashes with
	# fs/seq_file.c's when UML links libgcov in: rename the kernel's.
	local args=(--build_dir="$build" --kunitconfig="$TOP/kconfigs/uml.kunitconfig"
		--kconfig_add CONFIG_DEBUG_KERNEL=y --kconfig_add CONFIG_DEBUG_INFO=y
		--kconfig_add CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y
		--kconfig_add CONFIG_GCOV=y --make_options "CC=ccache gcc"
		--make_options "KCFLAGS=-Dmangle_path=kernel_mangle_path")
	exec 9> "$CACHE/build.lock"
	flock 9
	find "$build" -name '*.gcda' -delete 2>/dev/null || true
	python3 tools/testing/kunit/kunit.py run "${args[@]}" --jobs "$(nproc)" \
		--filter 'speed>very_slow' --json="$out/uml-results.json" \
		> "$out/uml-kunit.log" 2>&1 || true
	flock -u 9
	grep -m1 'Testing complete' "$out/uml-kunit.log" ||
		die "the UML gcov run failed: see $out/uml-kunit.log"
	capture uml "$build"
}

x86_64() {
	local build=$BUILD/x86_64-gcov
	"$TOP/ci/build/kunit-kernel.sh" x86_64-gcov > "$out/x86_64-build.log" 2>&1 ||
		die "the x86_64 gcov kernel does not build: see $out/x86_64-build.log"
	cat > "$out/init" <<'INIT'
dmesg -n 1
for f in $(find /sys/kernel/debug/gcov -name '*.gcda'); do
	echo "GCDA-BEGIN $f"
	base64 < "$f"
	echo "GCDA-END"
done
INIT
	"$TOP/ci/test/guest.sh" "$build/arch/x86/boot/bzImage" "$out/init" \
		"kunit.filter=speed>very_slow" "$out/x86_64-console.log"
	python3 tools/testing/kunit/kunit.py parse --json="$out/x86_64-results.json" \
		< "$out/x86_64-console.log" > "$out/x86_64-kunit.log" 2>&1 || true
	grep -a -q GCDA-END "$out/x86_64-console.log" ||
		die "the x86_64 gcov guest printed no counters: see $out/x86_64-console.log"
	find "$build" -name '*.gcda' -delete
	# Each file goes back next to its .gcno: same path below mm/
	python3 "$TOP/ci/test/gcda_from_log.py" "$out/x86_64-console.log" "$build" >> "$out/lcov.log"
	capture x86_64 "$build"
}

uml
x86_64
lcov -q -a "$out/uml.info" -a "$out/x86_64.info" --rc lcov_branch_coverage=1 \
	-o "$out/walker.info" 2>> "$out/lcov.log"
genhtml -q --branch-coverage -o "$out/html" "$out/walker.info" 2>> "$out/lcov.log"

# The lines the series adds to the walker's files
patches=$(series_patches "$TOP/series" | grep -v '^test/' | sed "s|^|$TOP/patches/|")
for t in uml x86_64; do
	echo "== $t tier"
	python3 "$TOP/ci/test/coverage.py" "$out/$t.info" $files -- \
		$patches | grep -v '^  '
done > "$out/summary.txt"
echo "== both tiers" >> "$out/summary.txt"
python3 "$TOP/ci/test/coverage.py" --reasons "$TOP/kunit/coverage.tsv" "$out/walker.info" \
	$files -- $patches >> "$out/summary.txt"
python3 "$TOP/ci/test/coverage_block.py" "$out/summary.txt" "$(coverage_stack_id)" \
	"$out/uml-results.json" "$out/x86_64-results.json" > "$out/block.md"
cat "$out/summary.txt"
echo "coverage: $out/block.md (make coverage-doc puts it into docs/coverage.md)"
echo "HTML report: $out/html/index.html"
