#!/usr/bin/env python3
"""Judge a KUnit run: kunit.py --json results and the kernel log against the
list of cases a tier expects.

usage: ci/test/kunit_results.py EXPECTED LOG JSON [JSON...] [--write-expected]
       ci/test/kunit_results.py --not-run CASES JSON
       ci/test/kunit_results.py --splats LOG
       ci/test/kunit_results.py --gate-records RESULTS_TSV TIER LOG REPRODUCE SUMMARY

--not-run prints the suite.case lines of CASES that JSON has no finished
(PASS, FAIL, SKIP) result for: what a crash or hang kept from running.
--splats prints the splats of any kernel log (one a line, by the case
running, if any) and exits 1 when there is one.
--gate-records turns a results.tsv into gate check records (see
gate_records()).

EXPECTED lists one case per line: "PASS<TAB>suite.case[.param]" for cases
that must run and pass in this tier, "SKIP<TAB>..." for cases that must skip
there (the reason is in the test's kunit_skip()). A case that fails, crashes,
is missing, or is not listed is a failure: kunit.py exits 0 when every case
skips, so its exit code says nothing.

Kernel splats (lockdep, KASAN, BUG, WARNING, sleeping in atomic) in LOG are
failures too, each named by the case that was running.

Prints "id<TAB>expected<TAB>got<TAB>note" records to results.tsv next to the
first JSON, a summary on stdout, and exits 1 on any failure.
"""
import json
import os
import re
import sys

SPLAT = re.compile(r'(BUG: |WARNING: |Oops|kernel BUG at|'
                   r'possible circular locking|possible recursive locking|'
                   r'inconsistent lock state|suspicious RCU usage|'
                   r'sleeping function called from invalid context|'
                   r'UBSAN:|KASAN:|general protection fault)')


def tsv(path):
    """The tab-separated rows of PATH, without blank and # lines."""
    with open(path) as f:
        return [line.rstrip('\n').split('\t') for line in f
                if line.strip() and not line.startswith('#')]


def cases(group, prefix=''):
    """Yield (id, status) for every leaf of a kunit.py JSON group."""
    for tc in group.get('test_cases', []):
        yield prefix + tc['name'], tc['status']
    # kunit.py nests the run in a nameless group when a kernel line lands
    # inside the KTAP header: the cases are the same
    for sg in group.get('sub_groups', []):
        yield from cases(sg, prefix + sg['name'] + '.' if sg['name'] else prefix)


def splats(log_path):
    """Map case id -> first splat line, from a KTAP kernel log."""
    found = {}
    stack = []          # names of the open (sub)tests, by depth
    pending = []
    if not os.path.exists(log_path):
        return found
    with open(log_path, errors='replace') as f:
        for line in f:
            m = re.match(r'^(\s*)# Subtest: (.*)$', line.rstrip('\n'))
            if m:
                depth = len(m.group(1)) // 4
                del stack[depth:]
                stack.append(m.group(2).strip())
                continue
            m = re.match(r'^(\s*)(not ok|ok) \d+ (.*?)(\s+#.*)?$',
                         line.rstrip('\n'))
            if m:
                depth = len(m.group(1)) // 4
                name = '.'.join(stack[:depth] + [m.group(3).strip()])
                if pending and name not in found:
                    found[name] = pending[0]
                pending = []
                del stack[depth:]
                continue
            if SPLAT.search(line) and 'EXPECTATION' not in line:
                pending.append(line.strip())
    if pending:
        found['(after the last case)'] = pending[0]
    return found


def not_run(cases_path, json_path):
    """The cases of CASES without a finished result in JSON."""
    done = {}
    try:
        with open(json_path) as f:
            for cid, status in cases(json.load(f)):
                case = '.'.join(cid.split('.')[:2])
                finished = status in ('PASS', 'FAIL', 'SKIP')
                done[case] = done.get(case, True) and finished
    except (OSError, ValueError):
        pass
    with open(cases_path) as f:
        for case in f.read().split():
            if not done.get(case, False):
                print(case)
    return 0


def print_splats(log_path):
    """Every splat of LOG, by the case that was running."""
    found = splats(log_path)
    for cid, line in found.items():
        print(line if cid.startswith('(') else f'{cid}: {line}')
    return 1 if found else 0


CASES_TSV = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'kunit', 'cases.tsv')


def gate_records(results, tier, log, repro, summary):
    """Gate check records (ci/gate/step.bash's checks.tsv) from a tier's
    results.tsv: one PASS record for the tier, or one FAIL record per case
    that failed, crashed, hung, splatted or is missing, named with what a
    failure of that case means (kunit/cases.tsv). No results.tsv at all is
    an ERROR record: the tier's tooling broke."""
    meaning = {row[0]: row[1] for row in tsv(CASES_TSV)}
    try:
        bad = [(row + [''] * 4)[:4] for row in tsv(results)]
        bad = [r for r in bad if r[3]]
    except FileNotFoundError:
        bad = [('(all)', 'PASS', 'ERROR', 'no results.tsv: ci/test/kunit.sh judged nothing')]

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
    return 0


def main():
    modes = {'--not-run': (not_run, 2), '--splats': (print_splats, 1),
             '--gate-records': (gate_records, 5)}
    if sys.argv[1:2] and sys.argv[1] in modes:
        fn, n = modes[sys.argv[1]]
        if len(sys.argv) != n + 2:
            sys.exit(__doc__.split('\n\n')[1])
        return fn(*sys.argv[2:])
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    write = '--write-expected' in sys.argv
    expected_path, log_path, jsons = args[0], args[1], args[2:]

    got = {}
    for path in jsons:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for cid, status in cases(json.load(f)):
                # a crash leaves nameless placeholders; the cases it kept
                # from running are reported missing (or re-run isolated)
                if not cid or cid.endswith('.'):
                    continue
                got[cid] = status

    if write:
        with open(expected_path, 'w') as f:
            f.write('# Cases this tier must pass (PASS) or skip (SKIP). Written by\n'
                    '# `make expected` from a reviewed run: review the diff.\n')
            for cid in sorted(got):
                if got[cid] in ('PASS', 'SKIP'):
                    f.write(f'{got[cid]}\t{cid}\n')
        print(f'wrote {len(got)} cases to {expected_path}')
        return 0

    expected = {}
    if os.path.exists(expected_path):
        expected = {row[1]: row[0] for row in tsv(expected_path)}

    rows = []
    for cid in sorted(set(expected) | set(got)):
        want, have = expected.get(cid, '-'), got.get(cid, 'MISSING')
        if want == '-':
            note = 'not in ' + os.path.basename(expected_path)
        elif have == 'ERROR':
            note = 'crashed or timed out'
        elif have != want:
            note = 'expected ' + want
        else:
            note = ''
        rows.append([cid, want, have, note])

    bad_splats = splats(log_path)
    for cid, line in bad_splats.items():
        rows.append([cid, 'no splat', 'SPLAT', line[:200]])

    out = os.path.join(os.path.dirname(jsons[0]) or '.', 'results.tsv')
    with open(out, 'w') as f:
        for r in rows:
            f.write('\t'.join(r) + '\n')

    failed = [r for r in rows if r[3]]
    count = {s: sum(1 for v in got.values() if v == s)
             for s in ('PASS', 'FAIL', 'SKIP', 'ERROR')}
    print(f"cases: {len(got)} run, {count['PASS']} passed, "
          f"{count['FAIL']} failed, {count['SKIP']} skipped, "
          f"{count['ERROR']} crashed; {len(expected)} expected; "
          f"{len(bad_splats)} splats")
    for r in failed[:40]:
        print(f'  FAIL {r[0]}: got {r[2]} ({r[3]})')
    if len(failed) > 40:
        print(f'  ... {len(failed) - 40} more in {out}')
    if not got:
        print('  FAIL: no case ran at all')
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
