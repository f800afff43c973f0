#!/bin/bash
# The gate judged by injection, one row per way a run can go wrong (the
# verdict must not be PASS) and per input form that must import and apply
# (the verdict must be PASS). No kernel is built or booted: the gate runs on
# a cache of its own whose base holds only the files the series touches,
# with a fake kunit.py, merge_config.sh and checkpatch.pl in that base, a
# fake make, clang-19 and sparse first on PATH and a fake ci/test/hmm-tests.sh
# (HMMWALK_HMM_TESTS) for the per-patch boots and the hmm-tests step
# (ci/tests/fake/). Everything else is real: ci/gate/gate.sh, its steps, import,
# apply, tree, kunit.sh and the judges. Every verdict.json is validated (ci/gate/validate.py).
#
# usage: ci/tests/gate-table.sh [ROW...]    (no ROW: every row)
. "$(dirname "$0")/testlib.bash"

fake=$TOP/ci/tests/fake
cache=$tmp/cache
in=$tmp/in
base=$cache/base/linux-$BASE

# The fake base: the touched files of the real one, plus the fake tools
fake_tree "$base"
install -D "$fake/kunit.py" "$base/tools/testing/kunit/kunit.py"
install -D "$fake/merge_config.sh" "$base/scripts/kconfig/merge_config.sh"
install -D "$fake/checkpatch.pl" "$base/scripts/checkpatch.pl"
touch "$base/.hmmwalk-pristine"
mkdir -p "$tmp/bin" "$cache/src"
cp "$fake/make" "$tmp/bin/make"
cp "$fake/tool" "$tmp/bin/clang-19"
cp "$fake/tool" "$tmp/bin/sparse"
export PATH=$tmp/bin:$PATH
: > "$cache/src/blocker"		# HMMWALK_TREE=blocker/x: a tree that cannot be made

# PATH without TOOL: every other command of PATH, linked into one directory
hide() {
	local farm=$tmp/hide-$1 d
	if [ ! -d "$farm" ]; then
		mkdir "$farm"
		IFS=: read -ra dirs <<<"$PATH"
		for d in "${dirs[@]}"; do
			[ -d "$d" ] && ln -s "$d"/* "$farm/" 2>/dev/null || true
		done
		rm -f "$farm/$1"
	fi
	echo "$farm"
}

# Step directories with one broken step (each wraps or replaces the real one)
stepdir() {	# NAME STEP-BODY-FOR-30-checkpatch
	local d=$tmp/steps-$1 f
	mkdir -p "$d"
	for f in "$TOP"/ci/gate/steps/*; do
		printf '#!/bin/bash\nexec %q\n' "$f" > "$d/$(basename "$f")"
	done
	printf '#!/bin/bash\n%s\n' "$2" > "$d/30-checkpatch"
	chmod +x "$d"/*
}
stepdir crash 'echo "checking..."; kill -SEGV $$'
stepdir silent 'echo "nothing to say"; exit 0'
stepdir lies '. '"$TOP"'/ci/gate/step.bash
check FAIL 0001 "an error in 0001"
result PASS "all good, honest"'

# The inputs
mkdir -p "$in/fp-dir" "$in/quilt" "$in/bad-dir" "$in/bad-quilt/sub"
p() { ls "$TOP"/patches/"$1"*.patch; }
cp "$(p 0001)" "$in/one.mbox"
cp "$TOP"/patches/000[1-5]-*.patch "$in/fp-dir/"
cp -r "$TOP"/patches/. "$in/quilt/"
cp "$TOP/series" "$in/quilt/series"
for q in $(series_patches "$TOP/series" | grep -vE '^(test|bench)/'); do
	cat "$TOP/patches/$q"
done > "$in/own.mbox"
"$TOP/ci/apply/series_mbox.py" "$TOP" "$in/series-v3.mbox" > /dev/null
# a b4 thread: cover letter, the five patches in reply to it, two replies
{
	printf 'From cover Mon Sep 17 00:00:00 2001\nFrom: A Developer <dev@example.org>\n'
	printf 'Date: Wed, 25 Nov 2026 14:16:00 +0000\nMessage-Id: <cover@example.org>\n'
	printf 'Subject: [PATCH 0/5] mm/hmm: fault and migrate in one walk\n\n'
	printf 'The cover letter.\n\n'
	for i in 1 2 3 4 5; do
		sed "1a Message-Id: <$i@example.org>\\nIn-Reply-To: <cover@example.org>\\nReferences: <cover@example.org>" "$(p 000$i)"
		echo
	done
	printf 'From reply Mon Sep 17 00:00:00 2001\nFrom: A Reviewer <rev@example.org>\n'
	printf 'Date: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-Id: <r1@example.org>\n'
	printf 'In-Reply-To: <3@example.org>\nReferences: <cover@example.org> <3@example.org>\n'
	printf 'Subject: Re: [PATCH 3/5] mm/hmm: fault and prepare for migration in one walk\n\n'
	printf '> +\tif (!range->notifier)\n\nLooks right.\n\nReviewed-by: A Reviewer <rev@example.org>\n\n'
	printf 'From reply2 Mon Sep 17 00:00:00 2001\nFrom: Someone <s@example.org>\n'
	printf 'Date: Thu, 26 Nov 2026 11:00:00 +0000\nMessage-Id: <r2@example.org>\n'
	printf 'In-Reply-To: <cover@example.org>\nReferences: <cover@example.org>\n'
	printf 'Subject: Re: [PATCH 0/5] mm/hmm: fault and migrate in one walk\n\nThanks!\n'
} > "$in/thread.mbox"
# a patch that does not apply (its context is not in 7.2.8), in each form
bad() {
	printf 'From bad Mon Sep 17 00:00:00 2001\nFrom: A Developer <dev@example.org>\n'
	printf 'Subject: [PATCH] mm/hmm: a patch for another tree\n\nFor another tree.\n\n---\n'
	printf -- '--- a/mm/hmm.c\n+++ b/mm/hmm.c\n@@ -10,7 +10,7 @@\n'
	printf ' not in 7.2.8 (1)\n not in 7.2.8 (2)\n not in 7.2.8 (3)\n'
	printf -- '-not in 7.2.8 (4)\n+the change\n'
	printf ' not in 7.2.8 (5)\n not in 7.2.8 (6)\n not in 7.2.8 (7)\n'
}
bad > "$in/bad.mbox"
bad > "$in/bad-dir/0001-bad.patch"
bad > "$in/bad-quilt/sub/0001-bad.patch"
echo sub/0001-bad.patch > "$in/bad-quilt/series"

# inputs that are not a series the gate can take
printf 'Subject: [PATCH 1/1] hello\n\nJust some text, no diff.\n' > "$in/notapatch.mbox"
mkdir -p "$in/outside" "$in/truncated"
printf 'From: Someone <someone@example.org>\nSubject: [PATCH] evil\n\n---\n' > "$in/outside/0001-evil.patch"
printf -- '--- a/../../etc/evil\n+++ b/../../etc/evil\n@@ -0,0 +1 @@\n+owned\n' >> "$in/outside/0001-evil.patch"
# a cut inside a hunk of mm/hmm.c (a cut between two files' diffs applies)
n=$(grep -n '^diff --git a/mm/hmm.c' "$(p 0003)" | cut -d: -f1)
[ -n "$n" ] || fail "0003 has no mm/hmm.c diff to cut"
head -n $((n + 40)) "$(p 0003)" > "$in/truncated/0003.patch"
# a cover letter and patches 1/3 and 2/3 of 3
{
	printf 'From nobody Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\n'
	printf 'Subject: [PATCH 0/3] a series\n\nThe cover letter.\n\n'
	sed -E "s/^Subject: \\[PATCH[^]]*\\]/Subject: [PATCH 1\/3]/" "$(p 0001)"
	echo
	sed -E "s/^Subject: \\[PATCH[^]]*\\]/Subject: [PATCH 2\/3]/" "$(p 0002)"
} > "$in/partial.mbox"

# One row: name | input | steps | env (@ is the test's tmp dir) | verdict |
# expected records "STATUS regex" (path and comment of a verdict.json test),
# separated by ";". Verdict "refused": the gate must refuse to run.
# step-times-out: the limit holds for the steps before the hung one too;
# 5 s was too short for apply beside a kernel build
K="apply bisect checkpatch matrix kunit-uml kunit-uml-nomigrate"
table="
own-stack-all-fakes-pass | $TOP/series      | $K | - | PASS | PASS ^gate\\.bisect ;PASS bisect\\.hmm-tests_after_0004;PASS ^gate\\.kunit-uml .*cases: [1-9];PASS ^gate\\.matrix ;PASS ^gate\\.tree ;PASS import.*bench/ patches left out
form-single-mbox         | @/in/one.mbox    | apply | - | PASS | PASS apply\\.0001
form-b4-thread           | @/in/thread.mbox | apply | - | PASS | PASS import.*5 patches;PASS apply\\.0005
form-format-patch-dir    | @/in/fp-dir      | apply | - | PASS | PASS apply\\.0005
form-quilt-subfolders    | @/in/quilt       | apply | - | PASS | PASS apply\\.0005;PASS apply\\.test_0002
form-series-mbox         | @/in/series-v3.mbox | apply | - | PASS | PASS import.*5 patches;PASS apply\\.0005
form-own-mbox-round-trip | @/in/own.mbox    | apply | - | PASS | PASS import.*5 patches;PASS apply\\.0005
input-not-a-patch        | @/in/notapatch.mbox | apply | - | FAIL | FAIL not-a-patch|no patch
input-outside-tree       | @/in/outside     | apply | - | FAIL | FAIL outside the source tree
input-truncated          | @/in/truncated   | apply | - | FAIL | FAIL apply.*(unexpected|malformed|ends|does not apply)
input-partial-series     | @/in/partial.mbox | apply | - | PASS | PASS cover-letter;WARN partial-series.*3/3;PASS apply\\.0001;PASS apply\\.0002
checkpatch-error         | $TOP/series      | checkpatch | HMMWALK_FAKE_CHECKPATCH=error | FAIL | FAIL checkpatch\\.0001.*1 errors;FAIL ^gate\\.checkpatch 
checkpatch-warning       | $TOP/series      | checkpatch | HMMWALK_FAKE_CHECKPATCH=warning | PASS | WARN checkpatch\\.0001.*1 warnings
checkpatch-breaks        | $TOP/series      | checkpatch | HMMWALK_FAKE_CHECKPATCH=broken | ERROR | ERROR checkpatch\\.0001.*checkpatch.pl broke
apply-fails-mbox         | @/in/bad.mbox    | $K | - | FAIL | FAIL apply\\..*does not apply;MISS ^gate\\.kunit-uml 
apply-fails-fp-dir       | @/in/bad-dir     | apply | - | FAIL | FAIL apply\\..*does not apply
apply-fails-quilt-dir    | @/in/bad-quilt   | apply | - | FAIL | FAIL apply\\.sub_0001-bad.*does not apply
kernel-does-not-build    | $TOP/series      | apply bisect kunit-uml | HMMWALK_FAKE_BUILD=fail | FAIL | FAIL bisect\\..*fake build break;FAIL kunit-uml\\.build.*does not build
hmm-tests-fail-mid-stack | $TOP/series      | apply bisect | HMMWALK_FAKE_HMM_TESTS=fail:3 | FAIL | FAIL bisect\\.hmm-tests_after_0003.*1 failed;PASS bisect\\.hmm-tests_after_0002
last-boot-in-hmm-tests   | $TOP/series      | apply bisect hmm-tests | - | PASS | SKIP bisect\\.hmm-tests_after_0004.*hmm-tests step;PASS bisect\\.hmm-tests_after_0003;PASS ^gate\\.hmm-tests 
hmm-tests-step-fails     | $TOP/series      | apply hmm-tests | HMMWALK_FAKE_HMM_TESTS=fail:1 | FAIL | FAIL ^gate\\.hmm-tests .*1 failed
kernel-does-not-boot     | $TOP/series      | apply bisect | HMMWALK_FAKE_HMM_TESTS=noboot:1 | FAIL | FAIL bisect\\.hmm-tests_after_0001.*no result
kunit-case-fails         | $TOP/series      | kunit-uml | HMMWALK_FAKE_KUNIT=fail:hmm_migrate.hmm_migrate_holes | FAIL | FAIL kunit-uml\\..*hmm_migrate_holes.*fails
kunit-json-nameless      | $TOP/series      | kunit-uml | HMMWALK_FAKE_KUNIT=nameless | PASS | PASS ^gate\\.kunit-uml .*cases: [1-9][0-9]* run, [1-9][0-9]* passed, 0 failed
kernel-panics-at-boot    | $TOP/series      | kunit-uml | HMMWALK_FAKE_KUNIT=panic | FAIL | FAIL ^gate\\.kunit-uml .*panicked
kunit-runs-zero-cases    | $TOP/series      | kunit-uml | HMMWALK_FAKE_KUNIT=zero | ERROR | ERROR ^gate\\.kunit-uml .*zero cases
missing-tool-quilt       | $TOP/series      | apply | HIDE=quilt | ERROR | ERROR ^gate\\.apply .*quilt.*not found
missing-tool-ccache      | $TOP/series      | kunit-uml | HIDE=ccache | ERROR | ERROR ^gate\\.kunit-uml .*ccache
step-crashes             | $TOP/series      | checkpatch | HMMWALK_GATE_STEPDIR=@/steps-crash | ERROR | ERROR ^gate\\.checkpatch .*crashed
step-leaves-no-result    | $TOP/series      | checkpatch | HMMWALK_GATE_STEPDIR=@/steps-silent | ERROR | ERROR ^gate\\.checkpatch .*no result
step-says-pass-over-fail | $TOP/series      | checkpatch | HMMWALK_GATE_STEPDIR=@/steps-lies | FAIL | FAIL ^gate\\.checkpatch 
step-times-out           | $TOP/series      | kunit-uml | HMMWALK_FAKE_KUNIT=hang HMMWALK_GATE_STEP_TIMEOUT=30 | ERROR | ERROR ^gate\\.kunit-uml .*timed out
tree-cannot-be-made      | $TOP/series      | kunit-uml | HMMWALK_TREE=blocker/x | ERROR | ERROR ^gate\\.tree .*tree.sh failed;MISS ^gate\\.kunit-uml 
perf-within-limit        | $TOP/series      | perf | HMMWALK_ACCEL=tcg | PASS | PASS ^gate\\.perf .*12 calls compared, worst 1.000x
perf-slower              | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=slow:1.35 | FAIL | FAIL perf\\.plain_setup.on.present.at.4096.KiB.*1.35x;FAIL ^gate\\.perf .*got slower
perf-just-beyond         | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=slow:1.03 | FAIL | FAIL perf\\.plain_setup.on.thp.*1.03x
perf-base-lucky-run      | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=lucky:1.03 | PASS | PASS ^gate\\.perf .*worst 1.000x
perf-series-busy-runs    | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=busy:1.06 | PASS | PASS ^gate\\.perf .*worst 1.000x
perf-slow-in-one-boot    | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=once:1.35 | PASS | PASS ^gate\\.perf .*worst 1.000x
perf-series-prints-none  | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=none | FAIL | FAIL ^gate\\.perf .*series benchmark printed nothing
perf-series-stops        | $TOP/series      | perf | HMMWALK_ACCEL=tcg HMMWALK_FAKE_BENCH=cut | FAIL | FAIL perf\\.series.boot.*8 of 12 calls missing;FAIL ^gate\\.perf .*8 missing from the series boot
unknown-step-refused     | $TOP/series      | apply kunit-umll | - | refused | kunit-umll
"

only=" $* "
rows=0 bad_rows=
while IFS='|' read -r row input steps envs want expect; do
	row=$(xargs <<<"$row")
	[ -n "$row" ] || continue
	[ "$only" = "  " ] || [[ $only == *" $row "* ]] || continue
	rows=$((rows + 1))
	input=$(xargs <<<"${input//@/$tmp}") steps=$(xargs <<<"$steps") want=$(xargs <<<"$want")
	env=(HMMWALK_CACHE="$cache" HMMWALK_GATE_STEPS="$steps"
	     HMMWALK_HMM_TESTS="$fake/hmm-tests.sh")
	for e in $(xargs <<<"$envs"); do
		case $e in
		-) ;;
		HIDE=*) env+=(PATH="$(hide "${e#HIDE=}")") ;;
		*) env+=("${e//@/$tmp}") ;;
		esac
	done
	start=$SECONDS
	run "$tmp/$row.out" env "${env[@]}" "$TOP/ci/gate/gate.sh" "$input"
	why=
	expect=$(sed 's/^ *//; s/ *$//' <<<"$expect")
	if [ "$want" = refused ]; then
		[ $rc != 0 ] && grep -q "$expect" "$tmp/$row.out" && ! grep -q '^verdict:' "$tmp/$row.out" ||
			why="not refused by name (exit $rc)"
		got=refused
	else
		verdict=$cache/gate/$(printf %s "$(basename "$input")" | tr -c 'A-Za-z0-9._-' '_')/verdict.json
		got=$(python3 "$TOP/ci/tests/verdict_query.py" "$verdict" verdict 2>/dev/null || echo none)
		[ "$got" = "$want" ] || why="verdict $got, expected $want"
		case $got in PASS) [ $rc = 0 ] ;; FAIL) [ $rc = 1 ] ;; *) [ $rc = 2 ] ;; esac ||
			why="$why${why:+; }exit status $rc for $got"
		grep -q 'verdict.json: valid against' "$tmp/$row.out" || why="$why${why:+; }verdict.json not valid"
		IFS=';' read -ra exps <<<"$expect"
		for x in "${exps[@]}"; do
			x=$(sed 's/^ *//' <<<"$x")
			[ -n "$x" ] || continue
			(has "${x%% *}" "${x#* }") > /dev/null || why="$why${why:+; }no ${x%% *} test matching '${x#* }'"
		done
	fi
	printf '  %-26s %-8s %3ds  %s\n' "$row" "$got" $((SECONDS - start)) "${why:-ok}"
	if [ -n "$why" ]; then
		bad_rows="$bad_rows $row"
		sed 's/^/      | /' "$tmp/$row.out" | tail -n 25
	fi
done <<<"$table"
[ "$rows" -gt 0 ] || fail "no row named $*"
[ -z "$bad_rows" ] || fail "rows that did not give their verdict:$bad_rows"
ok
