#!/usr/bin/env python3
"""What a gate verdict.json says, for the self-tests.

usage: ci/tests/verdict_query.py VERDICT_JSON verdict
           print the verdict (PASS, FAIL, ERROR)
       ci/tests/verdict_query.py VERDICT_JSON has STATUS REGEX
           exit 0 when a test (a step "gate.STEP" or a check
           "gate.STEP.CHECK") has STATUS and its path and comment match
           REGEX; STATUS WARN is a PASS marked as a warning
"""
import json
import re
import sys


def status(test):
    return 'WARN' if test.get('misc', {}).get('warning') else test['status']


def main():
    a = sys.argv[1:]
    if len(a) < 2 or (a[1], len(a)) not in (('verdict', 2), ('has', 4)):
        sys.exit(__doc__.split('\n\n')[1])
    with open(a[0]) as f:
        doc = json.load(f)
    if a[1] == 'verdict':
        print(doc['checkouts'][0]['misc']['verdict'])
        return 0
    want, rx = a[2], a[3]
    return 0 if any(status(t) == want and
                    re.search(rx, t['path'] + ' ' + t.get('comment', ''))
                    for t in doc['tests']) else 1


if __name__ == '__main__':
    sys.exit(main())
