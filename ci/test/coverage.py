#!/usr/bin/env python3
"""Coverage of the lines a series adds: for the patches of a series (in
order), an lcov tracefile and the files to report, print line and branch
coverage of the added lines of each file and list the lines whose branch
outcomes were not all taken.

Line numbers are those of the tree after the whole series: each patch's
hunks move the lines added by the earlier patches to their new place.

Each line listed gets its reason from REASONS (kunit/coverage.tsv: a piece
of the line's source, a tab, why the suite cannot take that outcome); a
line no entry matches is "no reason recorded" and is counted.

usage: coverage.py [--reasons REASONS] LCOV_INFO FILE... -- PATCH...
(run from the top of the tree the lcov data was taken on)
"""
import re
import sys

args = sys.argv[1:]
reasons = []
if args[0] == '--reasons':
    for line in open(args[1]):
        if line.strip() and not line.startswith('#'):
            piece, why = line.rstrip('\n').split('\t', 1)
            reasons.append((piece, why))
    args = args[2:]
sep = args.index('--')
info, files, patches = args[0], args[1:sep], args[sep + 1:]
HUNK = re.compile(r'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')


def hunks(patch):
    """Yield (file, old, old_len, new_len, added): added are new line numbers."""
    cur = None
    h = None
    for line in open(patch, errors='replace'):
        if line.startswith('+++ '):
            path = line[4:].strip().split('\t')[0]
            cur = path[2:] if path.startswith('b/') else path
            continue
        m = HUNK.match(line)
        if m and cur:
            if h:
                yield h
            h = (cur, int(m.group(1)), int(m.group(2) or 1),
                 int(m.group(4) or 1), [])
            new = int(m.group(3))
        elif h and line.startswith('+'):
            h[4].append(new)
            new += 1
        elif h and line.startswith(' '):
            new += 1
        elif h and not line.startswith(('-', '\\')):
            yield h
            h = None
    if h:
        yield h


def move(n, fh):
    """Where old line n of a file goes after its hunks fh, None if replaced."""
    shift = 0
    for _, old, old_len, new_len, _ in fh:
        if old <= n < old + old_len:
            return None
        if n >= old + old_len:
            shift += new_len - old_len
    return n + shift


added = {f: set() for f in files}
for patch in patches:
    hs = list(hunks(patch))
    for f in files:
        fh = [h for h in hs if h[0] == f]
        if fh:
            added[f] = {m for m in (move(n, fh) for n in added[f]) if m}
            for h in fh:
                added[f].update(h[4])

lines, branches = {}, {}
src = None
for line in open(info):
    line = line.strip()
    if line.startswith('SF:'):
        src = next((f for f in files if line.endswith('/' + f)), None)
    elif src and line.startswith('DA:'):
        n, hits = line[3:].split(',')[:2]
        lines.setdefault(src, {})[int(n)] = int(hits)
    elif src and line.startswith('BRDA:'):
        n, _, _, taken = line[5:].split(',')
        branches.setdefault(src, {}).setdefault(int(n), []).append(
            0 if taken == '-' else int(taken))

unexplained = 0
for f in files:
    a = added[f]
    la = {n: h for n, h in lines.get(f, {}).items() if n in a}
    ba = {n: t for n, t in branches.get(f, {}).items() if n in a}
    nb = sum(len(t) for t in ba.values())
    hb = sum(1 for t in ba.values() for x in t if x)
    print(f'{f}: {len(a)} added lines, {sum(1 for h in la.values() if h)}/{len(la)} '
          f'executable lines run, {hb}/{nb} branch outcomes taken'
          f' ({100.0 * hb / nb if nb else 100:.1f}%)')
    text = open(f, errors='replace').read().split('\n')
    for n in sorted(ba):
        missed = sum(1 for x in ba[n] if not x)
        if missed:
            why = next((w for p, w in reasons if p in text[n - 1]), None)
            unexplained += why is None
            print(f'  {f}:{n}: {missed} of {len(ba[n])} outcomes never taken: '
                  f'{text[n - 1].strip()}\n      -> {why or "no reason recorded"}')
if reasons:
    print(f'lines with outcomes never taken and no reason recorded: {unexplained}')
