# hmmwalk: one page table walk to fault pages in and prepare them for device
# migration. The targets read like README.md; each runs a small script of ci/.
#
#   make            fetch the base, apply the stack, run the KUnit suite (UML)
#   make check      the tests (CI): everything make does, the x86_64 tier,
#                   the swap run, each patch built and booted with upstream's
#                   hmm-tests, the gate's own checks; fits a cold CI run
#   make check-full all of make check's checks at full size: every gate step
#                   (build matrix, debug tier, i386, uml-nomigrate, perf)
#
# Everything big lives in $(HMMWALK_CACHE) (default ~/.cache/hmmwalk).

SHELL := /bin/bash
export HMMWALK_CACHE ?= $(HOME)/.cache/hmmwalk
export BASE ?= 7.2.8
# The two patches made from kunit/: the tests and the benchmark
export KUNIT_PATCH := patches/test/0002-mm-tests-add-KUnit-tests-for-the-HMM-fault-and-migra.patch
export BENCH_PATCH := patches/test/0004-mm-tests-add-a-KUnit-benchmark-of-the-HMM-fault-and-.patch
# The KUnit tiers: kunit/tiers.tsv
KUNIT_TIERS := $(shell ci/tiers.sh)

.PHONY: all run check check-full deps deps-all base tree $(KUNIT_TIERS) swap summary push pop \
	stack-check kunit-patch kunit-sync \
	checkpatch matrix hmm-tests gate series-mbox selftest expected bench bench-doc perf coverage coverage-doc \
	mutants clean

all: run

# The main job
run: deps tree uml
	@ci/verdict/summary.sh uml

# The tests; ends with "N passed, N failed"
check: deps-all
	@ci/verdict/check.sh
check-full: deps-all
	@ci/verdict/check.sh full

deps:
	@ci/fetch/deps.sh
deps-all:
	@ci/fetch/deps.sh all

base:
	@ci/fetch/base.sh $(BASE)

# The working tree: the base with the stack applied (zero fuzz)
tree: base
	@ci/apply/tree.sh >/dev/null

$(KUNIT_TIERS): tree
	@ci/test/kunit.sh $@

# The hmm_swap suites on the x86_64 kernel booted with zram swap and ksmd,
# then with swap on a loop device
swap: tree
	@ci/test/swap.sh

summary:
	@ci/verdict/summary.sh $(KUNIT_TIERS)

# Push the stack onto your own tree, and take it off again
push:
	@ci/apply/push.sh push "$(KSRC)" $(FUZZ)
pop:
	@ci/apply/push.sh pop "$(KSRC)"

# The stack applies to the pinned base with no fuzz and no offset
stack-check:
	@ci/apply/zero-fuzz.sh

# kunit/ is the source of the KUnit patch: regenerate it, or check it is
# in sync
kunit-patch:
	@ci/apply/kunit-patch.sh kunit $(KUNIT_PATCH)
	@ci/apply/kunit-patch.sh kunit/bench $(BENCH_PATCH)
kunit-sync:
	@ci/apply/kunit-sync.sh

checkpatch:
	@ci/build/checkpatch.sh

# Build matrix on the tip of the stack (per patch: BISECT=1)
matrix: deps-all tree
	@ci/build/matrix.sh

# Upstream's lib/test_hmm.c + selftests/mm/hmm-tests, under QEMU
hmm-tests: deps-all tree
	@ci/test/hmm-tests.sh

# The CI gate for a posted series: make gate SERIES=path [BASE=...]
gate: deps-all
	@ci/gate/gate.sh "$(SERIES)"

# The upstream patches as one mbox, as posted: patches/cover-letter as 0/N
# (make gate SERIES=$(HMMWALK_CACHE)/series-v3.mbox judges it)
series-mbox:
	@ci/apply/series_mbox.py . $(HMMWALK_CACHE)/series-v3.mbox

# Time and count every strategy on our stack and the existing calls on
# 7.2.8 (two boots): table and plot under $(HMMWALK_CACHE)/results/bench
bench: deps-all
	@ci/bench/bench.sh

# The calls drivers make today on the working tree against 7.2.8, in
# instructions (the gate's perf step); FAIL beyond 1.02x
perf: deps-all tree
	@ci/bench/perf.sh

# Put the last bench run into docs/ (a check keeps them in
# sync with the stack)
bench-doc:
	@ci/bench/doc.sh

# Branch coverage of the walker by the suite (UML, gcov, lcov HTML); then
# put its table into docs/coverage.md (a check keeps it in sync)
coverage: deps-all tree
	@ci/test/coverage.sh
coverage-doc:
	@ci/test/coverage.sh --doc

# Mutation self-test of the suite: MAX=N mutants (0: all), TIERS="uml x86_64"
MAX ?= 0
mutants: deps-all tree
	@ci/test/mutants.py --max $(MAX)

# Self-tests of the scripts (bad input gives clear errors)
selftest:
	@ci/tests/run.sh

# After reviewing a run: record the cases each tier expects
expected:
	@for t in $(KUNIT_TIERS); do \
		python3 ci/test/kunit_results.py kunit/expected/$$t.expected - \
			$(HMMWALK_CACHE)/results/$$t/results.json --write-expected; \
	done

clean:
	rm -rf $(HMMWALK_CACHE)/results $(HMMWALK_CACHE)/build
