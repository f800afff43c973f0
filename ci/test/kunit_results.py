#!/usr/bin/env python3
"""Judge a KUnit run: kunit.py --json results and the kernel log against the
list of cases a tier expects.

usage: ci/test/kunit_results.py EXPECTED LOG JSON [JSON...] [--write-expected]
       ci/test/kunit_results.py --not-run CASES JSON

--not-run prints the suite.case lines of CASES that JSON has no finished
(PASS, FAIL, SKIP) result for: what a crash or hang kept from running.

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


def main():
    if sys.argv[1:2] == ['--not-run']:
        return not_run(sys.argv[2], sys.argv[3])
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
        with open(expected_path) as f:
            for line in f:
                if line.strip() and not line.startswith('#'):
                    status, cid = line.rstrip('\n').split('\t', 1)
                    expected[cid] = status

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
