#!/usr/bin/env python3
"""Write the gate's verdict from its records: verdict.md, a table a
maintainer reads in ten seconds and then the details with the command that
reproduces each failure, and verdict.json, one KernelCI-like record per check.

usage: verdict.py OUT_DIR INPUT BASE SECONDS      exit 1 if any check failed
"""
import json
import os
import sys

out, series, base, seconds = sys.argv[1:5]
rows = []
with open(os.path.join(out, 'records.tsv')) as f:
    for line in f:
        s, step, check, reason, log, repro = (line.rstrip('\n').split('\t') + [''] * 6)[:6]
        rows.append(dict(status=s, step=step, check=check, reason=reason,
                         log=log, reproduce=repro))

rank = {'FAIL': 3, 'WARN': 2, 'PASS': 1, 'SKIP': 0}
steps = []
for r in rows:
    if r['step'] not in steps:
        steps.append(r['step'])
failed = [r for r in rows if r['status'] == 'FAIL']
verdict = 'FAIL' if failed or not rows else 'PASS'

md = [f'# Gate verdict: **{verdict}**', '',
      f'series: `{series}`  ',
      f'base: Linux {base}; {len(rows)} checks in {seconds} s', '',
      '| step | verdict | checks | summary |', '| --- | --- | --- | --- |']
for st in steps:
    rs = [r for r in rows if r['step'] == st]
    worst = max(rs, key=lambda r: rank.get(r['status'], 3))
    n = {k: sum(1 for r in rs if r['status'] == k) for k in rank}
    counts = ', '.join(f'{v} {k.lower()}' for k, v in n.items() if v)
    md.append(f"| {st} | {worst['status']} | {counts} | "
              f"{worst['check']}: {worst['reason'][:110]} |")
for kind in ('FAIL', 'WARN'):
    sel = [r for r in rows if r['status'] == kind]
    if not sel:
        continue
    md += ['', f'## {"Failures" if kind == "FAIL" else "Warnings"}', '']
    for r in sel:
        md.append(f"- **{r['step']} / {r['check']}**: {r['reason']}")
        if r['log']:
            md.append(f"  - log: `{r['log']}`")
        if r['reproduce']:
            md.append(f"  - reproduce: `{r['reproduce']}`")
with open(os.path.join(out, 'verdict.md'), 'w') as f:
    f.write('\n'.join(md) + '\n')

doc = {'series': series, 'base': f'linux-{base}', 'verdict': verdict,
       'duration_s': int(seconds),
       'tests': [{'path': f"gate.{r['step']}.{r['check']}", 'status': r['status'],
                  'kind': 'build' if r['step'] in ('bisect', 'matrix') else
                          'test' if r['step'].startswith(('kunit', 'hmm-tests')) else 'check',
                  'reason': r['reason'], 'log': r['log'],
                  'reproduce': r['reproduce']} for r in rows]}
with open(os.path.join(out, 'verdict.json'), 'w') as f:
    json.dump(doc, f, indent=1)

print('\n'.join(md[:8 + len(steps)]))
print(f'\nverdict: {verdict} ({len(failed)} failed checks) -> {out}/verdict.md')
sys.exit(1 if verdict == 'FAIL' else 0)
