#!/bin/bash
# The CI gate for a posted series: import it, apply it to the base with our
# KUnit patches on top, build it patch by patch, check it, build the matrix,
# run the KUnit tiers and upstream's hmm-tests, and give a verdict.
#
# usage: ci/gate.sh SERIES          (make gate SERIES=... [BASE=7.1.8])
#   SERIES: an mbox, a directory of format-patch files, a quilt directory,
#   or a quilt series file (our own stack: ci/gate.sh series).
#   HMMWALK_GATE_STEPS: the steps to run (default: all of them, in order):
#   apply bisect checkpatch matrix kunit-uml kunit-uml-nomigrate kunit-x86_64
#   kunit-x86_64-debug hmm-tests
#
# Writes $CACHE/gate/<name>/verdict.md and verdict.json, a log per check;
# exit 0 only if no check failed. Every step records "status<TAB>step<TAB>
# check<TAB>reason<TAB>log<TAB>reproduce" lines in records.tsv.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ -n "${1:-}" ] || die "no series given: make gate SERIES=path/to/mbox-or-patches"
input=$(realpath -m "$1")
steps=${HMMWALK_GATE_STEPS:-apply bisect checkpatch matrix kunit-uml kunit-uml-nomigrate kunit-x86_64 kunit-x86_64-debug hmm-tests}
name=$(printf %s "$(basename "$input")" | tr -c 'A-Za-z0-9._-' '_')
out=$CACHE/gate/$name
rm -rf "$out"
mkdir -p "$out/logs"
records=$out/records.tsv
: > "$records"
start=$SECONDS

rec() {	# status step check reason [log [reproduce]]
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4//$'\t'/ }" "${5:-}" "${6:-}" >> "$records"
}
want() { [[ " $steps " == *" $1 "* ]]; }
finish() {
	python3 "$TOP/ci/gate/verdict.py" "$out" "$input" "$BASE" $((SECONDS - start))
	exit $?
}

# 1. import: the posted patches, as a quilt directory
if [ -f "$input" ] && [ "$(basename "$input")" = series ]; then
	mkdir -p "$out/import/patches"
	grep -v '^test/' "$input" > "$out/import/patches/series"
	for p in $(series_patches "$out/import/patches/series"); do
		cp "$(dirname "$input")/patches/$p" "$out/import/patches/"
	done
	rec PASS import import "our stack: $(series_patches "$out/import/patches/series" | wc -l) patches"
else
	"$TOP/ci/gate/import.sh" "$input" "$out/import"
	while IFS=$'\t' read -r s c r; do rec "$s" import "$c" "$r"; done < "$out/import/import.tsv"
fi
posted=$(series_patches "$out/import/patches/series" 2>/dev/null)
[ -n "$posted" ] || finish

# The posted patches with our test support patches on top
mkdir -p "$out/all"
cp "$out/import/patches"/*.patch "$out/all/" 2>/dev/null
ln -s "$TOP/patches/test" "$out/all/test"
{ echo "$posted"; grep '^test/' "$TOP/series"; } > "$out/all/series"
series=$out/all/series

# 2. apply, fuzz allowed (a warning)
base=$("$TOP/ci/base.sh") || { rec FAIL apply base "cannot get the base $BASE"; finish; }
"$TOP/ci/apply.sh" "$base" "$series" "$out/all" "$out/apply" 2 > "$out/logs/apply.txt" 2>&1
applied=ok
while IFS=$'\t' read -r p s d; do
	case $s in
	clean|offset) rec PASS apply "$p" "$s${d:+ ($d)}" ;;
	fuzz*) rec WARN apply "$p" "applies with $s ($d)" ;;
	*) applied=
	   what="does not apply to $BASE"
	   [[ $p == test/* ]] && what="(our KUnit support) does not apply on top of this series"
	   rec FAIL apply "$p" "$what: $d" "$out/apply" "ci/apply.sh $base $series $out/all /tmp/apply 2" ;;
	esac
done < "$out/apply/apply.tsv"
if [ -z "$applied" ]; then
	[ -s "$out/apply/apply.tsv" ] || rec FAIL apply apply "$(tail -n1 "$out/logs/apply.txt")" "$out/logs/apply.txt"
	finish
fi

# 3. bisect: every posted patch builds, in its own tree
if want bisect; then
	n=0
	for p in $posted; do
		n=$((n + 1))
		head -n "$n" <<<"$posted" > "$out/bisect-$n.series"
		log=$out/logs/bisect-$n.log
		HMMWALK_TREE=bisect "$TOP/ci/tree.sh" "$out/bisect-$n.series" "$out/all" 2 > /dev/null 2>&1
		res=$(HMMWALK_TREE=bisect "$TOP/ci/xbuild.sh" "$TOP/kconfigs/bisect.config" "$BUILD/bisect" "$log")
		rec "${res%% *}" bisect "after $p" "${res#* }" "$log" \
			"HMMWALK_TREE=bisect ci/tree.sh $out/bisect-$n.series $out/all 2 && HMMWALK_TREE=bisect ci/xbuild.sh kconfigs/bisect.config $BUILD/bisect"
	done
fi

# 4. checkpatch --strict: errors fail, warnings and checks warn
if want checkpatch; then
	for p in $posted; do
		log=$out/logs/checkpatch-$p.log
		(cd "$base" && perl scripts/checkpatch.pl --strict --terse --show-types "$out/all/$p") > "$log" 2>&1
		total="$(grep -c ': ERROR:' "$log") errors, $(grep -c ': WARNING:' "$log") warnings, $(grep -c ': CHECK:' "$log") checks"
		if grep -q ': ERROR:' "$log"; then s=FAIL
		elif grep -qE ': (WARNING|CHECK):' "$log"; then s=WARN
		else s=PASS; fi
		rec $s checkpatch "$p" "$total$(grep -m2 -E ': (ERROR|WARNING|CHECK):' "$log" | sed 's/^[^ ]*: /; /' | tr -d '\n')" \
			"$log" "scripts/checkpatch.pl --strict $out/all/$p"
	done
fi

# The working tree: the whole series, for the rest
if want matrix || want kunit-uml || want kunit-uml-nomigrate || want kunit-x86_64 ||
   want kunit-x86_64-debug || want hmm-tests; then
	"$TOP/ci/tree.sh" "$series" "$out/all" 2 > /dev/null 2>&1
fi

# 5. build matrix, W=1 and sparse
if want matrix; then
	"$TOP/ci/matrix.sh" "$out/matrix" > "$out/logs/matrix.txt" 2>&1
	while read -r s row detail; do
		rec "$s" matrix "$row" "$detail" "$out/matrix/$row.log" \
			"make tree && ci/xbuild.sh kconfigs/matrix/$row.config /tmp/build"
	done < "$out/matrix/matrix.txt"
	[ -f "$out/matrix/warnings.txt" ] && grep '^>>' "$out/matrix/warnings.txt" |
		while read -r l; do rec FAIL matrix "W=1+sparse" "$l" "$out/matrix/warnings.txt" "ci/warnings.sh"; done
fi

# 6. KUnit tiers: a crash or hang costs a boot per remaining case
for tier in uml uml-nomigrate x86_64 x86_64-debug; do
	want "kunit-$tier" || continue
	res=$out/kunit-$tier
	HMMWALK_ISOLATE=1 "$TOP/ci/kunit.sh" "$tier" "$res" > "$out/logs/kunit-$tier.txt" 2>&1
	repro="ci/tree.sh $series $out/all 2 && ci/kunit.sh $tier"
	if grep -q 'BUILD FAILED' "$out/logs/kunit-$tier.txt"; then
		err=$(grep -m1 -E 'error:|undefined' "$res/build.log" | sed "s|$TREE/||")
		if grep -q 'mm/tests/' <<<"$err"; then
			rec FAIL "kunit-$tier" build "the suite does not build against this API: $err" "$res/build.log" "$repro"
		else
			rec FAIL "kunit-$tier" build "the kernel does not build: $err" "$res/build.log" "$repro"
		fi
		continue
	fi
	python3 "$TOP/ci/gate/kunit_records.py" "$res/results.tsv" "$TOP/kunit/cases.tsv" \
		"$tier" "$res/test.log" "$repro" "$(head -n1 "$out/logs/kunit-$tier.txt")" >> "$records"
done

# 7. upstream's hmm-tests
if want hmm-tests; then
	"$TOP/ci/hmm-tests.sh" "$out/hmm-tests" > "$out/logs/hmm-tests.txt" 2>&1
	s=$([ $? = 0 ] && echo PASS || echo FAIL)
	rec $s hmm-tests hmm-tests "$(tail -n1 "$out/logs/hmm-tests.txt")" \
		"$out/hmm-tests/console.log" "ci/tree.sh $series $out/all 2 && ci/hmm-tests.sh"
fi

finish
