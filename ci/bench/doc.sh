#!/bin/bash
# The measured benchmark in the repo: docs/bench.md, docs/bench.png and the
# summary block of docs/benchmark.md, all from one `make bench` run.
#
# usage: ci/bench/doc.sh           copy the last run of make bench in
#        ci/bench/doc.sh --check   they were measured on the stack as it is
#        ci/bench/doc.sh --id      print the id of the stack as it is
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

# The stack's id: what the benchmark kernels are built from. The tests
# patch counts by the files the benchmark uses (a new test case does not
# change a number); the benchmark's own patch counts whole.
stack_id() {
	{ cat series
	  series_patches series | grep -v -- '-mm-tests-add-KUnit-tests-' | sed 's|^|patches/|' | xargs cat
	  cat kunit/mm/tests/hmm_kunit.h kunit/mm/tests/hmm_kunit_fixtures.c \
	      kunit/mm/tests/hmm_kunit_devmem.c kunit/Kconfig kunit/Makefile
	} | sha256sum | cut -c1-16
}

run=$CACHE/results/bench
case "${1:-}" in
--id)
	stack_id
	;;
--check)
	[ -f docs/bench.md ] || die "no docs/bench.md: run 'make bench bench-doc'"
	have=$(sed -n '1s/.*measured on stack \([0-9a-f]*\).*/\1/p' docs/bench.md)
	[ "$have" = "$(stack_id)" ] ||
		die "docs/bench.md was measured on stack $have, the stack is now $(stack_id): run 'make bench bench-doc'"
	python3 "$TOP/ci/verdict/doc_block.py" summary docs/bench.md docs/benchmark.md --check ||
		die "docs/benchmark.md's summary differs from docs/bench.md: run 'make bench-doc'"
	echo "docs/bench.md and docs/benchmark.md: measured on the stack as it is ($have)"
	;;
"")
	[ -f "$run/bench.md" ] || die "no benchmark run in $run: run 'make bench' first"
	have=$(sed -n '1s/.*measured on stack \([0-9a-f]*\).*/\1/p' "$run/bench.md")
	[ "$have" = "$(stack_id)" ] ||
		die "$run/bench.md was measured on stack $have, not on the stack as it is: run 'make bench'"
	mkdir -p docs
	cp "$run/bench.md" docs/bench.md
	cp "$run/bench.png" docs/bench.png
	python3 "$TOP/ci/verdict/doc_block.py" summary "$run/bench.md" docs/benchmark.md
	echo "docs/bench.md, docs/bench.png, docs/benchmark.md: from the run of stack $have"
	;;
*)
	die "usage: ci/bench/doc.sh [--check|--id]"
	;;
esac
