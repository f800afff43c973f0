#!/usr/bin/env python3
"""The coverage block of docs/coverage.md, from a make coverage run.

Reads the run's summary.txt (ci/test/coverage.py per tier and for both
tiers, each untaken line with its reason) and the kunit.py JSON of each
tier, and prints the block between "coverage" markers: lines run and
branch outcomes per tier and file, the number of lines with an outcome
never taken by reason, and the stack and case count it was measured on.

usage: ci/test/coverage_block.py SUMMARY_TXT STACK_ID JSON...
"""
import collections
import json
import re
import sys

def cases(group):
    n = len(group.get('test_cases', []))
    return n + sum(cases(g) for g in group.get('sub_groups', []))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    summary, stack, jsons = sys.argv[1], sys.argv[2], sys.argv[3:]
    tiers = collections.OrderedDict()
    reasons = collections.Counter()
    tier = None
    with open(summary) as f:
        for line in f:
            m = re.match(r'== (\S+) tier', line)
            if m:
                tier = {'both': 'both'}.get(m.group(1), m.group(1))
                tiers[tier] = {}
                continue
            m = re.match(r'(\S+): \d+ added lines, (\d+/\d+) executable lines run, '
                         r'(\d+/\d+) branch outcomes taken \(([\d.]+)%\)', line)
            if m and tier:
                tiers[tier][m.group(1)] = (m.group(2), f'{m.group(3)} ({m.group(4)} %)')
                continue
            m = re.match(r'\s+-> ([a-z ]+?): ', line)
            if m and tier == 'both':
                reasons[m.group(1)] += 1
    names = {'uml': 'UML', 'x86_64': 'x86_64', 'both': 'both'}
    ncases = []
    for path in jsons:
        with open(path) as f:
            ncases.append(cases(json.load(f)))
    # The files, in the order ci/test/coverage.sh reported them
    paths = list(dict.fromkeys(p for files in tiers.values() for p in files))
    print('<!-- coverage:begin -->')
    print('| tier | ' + ' | '.join(f'`{p}` lines run | `{p}` branch outcomes' for p in paths) + ' |')
    print('| --- |' + ' ---: |' * (2 * len(paths)))
    for t, files in tiers.items():
        cells = [c for p in paths for c in files.get(p, ('-', '-'))]
        print(f'| {names.get(t, t)} | ' + ' | '.join(cells) + ' |')
    print()
    print(f'Lines with an outcome never taken, by reason ({sum(reasons.values())} in all): '
          + ', '.join(f'{r} {n}' for r, n in reasons.most_common()) + '.')
    print()
    print(f'Measured by `make coverage` on stack {stack} '
          f'({" and ".join(str(n) for n in ncases)} cases run in the two tiers).')
    print('<!-- coverage:end -->')


if __name__ == '__main__':
    main()
