#!/usr/bin/env python3
"""Turn a tier's results.tsv (ci/test/kunit_results.py) into gate check records
(ci/gate/step.bash's checks.tsv): one PASS record for the tier, one FAIL
record per case that failed, crashed, hung, splatted or is missing, named
with what a failure of that case means (kunit/cases.tsv). No results.tsv
at all is an ERROR record: the tier's tooling broke.

usage: kunit_records.py RESULTS_TSV CASES_TSV TIER LOG REPRODUCE SUMMARY
"""
import sys

results, cases, tier, log, repro, summary = sys.argv[1:7]
meaning = {}
with open(cases) as f:
    for line in f:
        if line.strip() and not line.startswith('#'):
            case, text = line.rstrip('\n').split('\t', 1)
            meaning[case] = text

step = 'kunit-' + tier
bad = []
try:
    with open(results) as f:
        for line in f:
            cid, want, got, note = (line.rstrip('\n').split('\t') + [''] * 4)[:4]
            if note:
                bad.append((cid, want, got, note))
except FileNotFoundError:
    bad.append(('(all)', 'PASS', 'ERROR', 'no results.tsv: ci/test/kunit.sh judged nothing'))


def out(status, check, reason):
    cmd = repro + (f" (one case: kunit.py exec {'.'.join(check.split('.')[:2])})"
                   if check.count('.') else '')
    print('\t'.join([status, check, reason.replace('\t', ' '), log, cmd, '']))


if not bad:
    out('PASS', tier, summary)
for cid, want, got, note in bad:
    if cid == '(all)':
        out('ERROR', tier, note)
        continue
    case = '.'.join(cid.split('.')[:2])
    what = {'FAIL': 'fails', 'ERROR': 'crashed or hung', 'SKIP': 'skipped',
            'MISSING': 'did not run (its case crashed or hung before it, '
                       'even in a boot of its own)',
            'SPLAT': 'splat: ' + note}.get(got, got)
    if want == '-':
        what = f'{got} but not expected in this tier'
    out('FAIL', cid, f"{what}: {meaning.get(case, '(no description in kunit/cases.tsv)')}")
