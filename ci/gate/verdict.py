#!/usr/bin/env python3
"""Write the gate's verdict from its steps: verdict.md, a table a maintainer
reads in ten seconds and then every failure with its log and the command
that reproduces it, and verdict.json in KCIDB's I/O schema (v5.0): one
checkout (the base plus the posted patches), one build per gate step, and
tests under it (the step's summary, "gate.<step>", and each of its checks,
"gate.<step>.<check>"). Log URLs are file:// URLs of the logs on this
machine. ci/gate/verdict.schema.json describes the fields we emit.

The verdict is PASS only when every requested step ran and passed; else the
worst status among them in KCIDB's order (FAIL, ERROR, MISS; a requested
step that was skipped counts as MISS). Warnings are PASS checks marked
misc.warning, listed in verdict.md.

usage: verdict.py OUT_DIR INPUT BASE SECONDS
  reads OUT_DIR/steps.tsv and OUT_DIR/steps/<step>/checks.tsv (ci/gate/gate.sh)
  exit 0 PASS, 1 FAIL, 2 ERROR or MISS
"""
import datetime
import hashlib
import json
import os
import re
import sys
import urllib.parse

ORDER = ['FAIL', 'ERROR', 'MISS', 'PASS', 'DONE', 'SKIP']
ORIGIN = 'hmmwalk'
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tiers():
    """kunit/tiers.tsv: tier -> (arch, its kconfigs fragments)"""
    rows = {}
    with open(os.path.join(TOP, 'kunit', 'tiers.tsv')) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                tier, arch, configs = line.split()[:3]
                rows[tier] = (arch, 'kconfigs/' + configs)
    return rows


# What each step builds: KCIDB build fields
TIERS = tiers()
BUILDS = {
    'bisect': ('x86_64', 'kconfigs/bisect.config'),
    'matrix': ('x86_64', 'kconfigs/matrix/*.config'),
    'hmm-tests': TIERS['x86_64-debug'],
    'perf': TIERS['x86_64'],
    'kunit-swap': TIERS['x86_64'],
}
BUILDS.update({'kunit-' + t: v for t, v in TIERS.items()})


def tsv(path, n):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    rows.append((line.rstrip('\n').split('\t') + [''] * n)[:n])
    return rows


def url(path):
    return 'file://' + urllib.parse.quote(os.path.abspath(path)) if path else ''


def path_part(text):
    """A KCIDB test path component: [a-zA-Z0-9_-]+"""
    return re.sub(r'[^a-zA-Z0-9_-]', '_', text) or '_'


def test_path(step, check):
    parts = ['gate', path_part(step)]
    if check:
        parts += [path_part(c) for c in check.split('.')]
    return '.'.join(parts)


def worst(statuses):
    return min(statuses, key=ORDER.index) if statuses else 'MISS'


def drop_empty(d):
    return {k: v for k, v in d.items() if v not in ('', None)}


def main():
    out, series, base, seconds = sys.argv[1:5]
    seconds = int(seconds)
    steps = []
    for name, requested, status, reason, log, repro, secs in tsv(os.path.join(out, 'steps.tsv'), 7):
        checks = [dict(status=c[0], check=c[1], reason=c[2], log=c[3], reproduce=c[4],
                       warning=c[5] == 'warning')
                  for c in tsv(os.path.join(out, 'steps', name, 'checks.tsv'), 6)]
        steps.append(dict(step=name, requested=requested == 'yes', status=status,
                          reason=reason, log=log, reproduce=repro,
                          seconds=int(secs or 0), checks=checks))

    judged = [s for s in steps if s['requested']]
    bad = ['MISS' if s['status'] == 'SKIP' else s['status']
           for s in judged if s['status'] != 'PASS']
    verdict = worst(bad) if bad or not judged else 'PASS'
    if verdict not in ORDER:
        verdict = 'ERROR'
    nwarn = sum(c['warning'] for s in steps for c in s['checks'])

    # verdict.md
    md = [f'# Gate verdict: **{verdict}**', '',
          f'series: `{series}`  ',
          f'base: Linux {base}; {len(judged)} steps in {seconds} s'
          f'{f", {nwarn} warnings" if nwarn else ""}', '',
          '| step | status | checks | reason |', '| --- | --- | --- | --- |']
    for s in judged:
        n = {k: sum(1 for c in s['checks'] if c['status'] == k) for k in ORDER}
        counts = ', '.join(f'{v} {k.lower()}' for k, v in n.items() if v)
        w = sum(c['warning'] for c in s['checks'])
        counts += f' ({w} warn)' if w else ''
        md.append(f"| {s['step']} | {s['status']} | {counts or '-'} | {s['reason'][:110]} |")
    skipped = [s['step'] for s in steps if not s['requested']]
    if skipped:
        md += ['', f"Not requested: {', '.join(skipped)}."]
    lines = []
    for s in judged:
        if s['status'] != 'PASS':
            lines.append(f"- **{s['step']}**: {s['status']}: {s['reason']}")
            if s['log']:
                lines.append(f"  - log: `{s['log']}`")
            if s['reproduce']:
                lines.append(f"  - reproduce: `{s['reproduce']}`")
        for c in s['checks']:
            if c['status'] in ('PASS', 'SKIP'):
                continue
            lines.append(f"- **{s['step']} / {c['check']}**: {c['status']}: {c['reason']}")
            if c['log']:
                lines.append(f"  - log: `{c['log']}`")
            if c['reproduce']:
                lines.append(f"  - reproduce: `{c['reproduce']}`")
    if lines:
        md += ['', '## What did not pass', ''] + lines
    warns = [f"- **{s['step']} / {c['check']}**: {c['reason']}"
             for s in steps for c in s['checks'] if c['warning']]
    if warns:
        md += ['', '## Warnings', ''] + warns
    with open(os.path.join(out, 'verdict.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')

    # verdict.json: KCIDB I/O v5.0
    posted = os.path.join(out, 'import', 'patches')
    files = [p for p, in tsv(os.path.join(posted, 'series'), 1) if not p.startswith('#')]
    hashes = []
    for p in files:
        with open(os.path.join(posted, p), 'rb') as f:
            hashes.append(hashlib.sha256(f.read()).hexdigest())
    phash = hashlib.sha256(''.join(h + '\n' for h in hashes).encode()).hexdigest() if hashes else ''
    end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = (end - datetime.timedelta(seconds=seconds)).isoformat()
    name = os.path.basename(out.rstrip('/'))
    checkout_id = f'{ORIGIN}:{name}:{phash[:16] or "nopatch"}:{int(end.timestamp())}'
    by = {s['step']: s for s in steps}
    valid = all(by.get(s, {}).get('status') == 'PASS' for s in ('import', 'apply'))
    apply_log = by.get('apply', {}).get('log', '')
    checkout = drop_empty({
        'id': checkout_id, 'origin': ORIGIN, 'tree_name': f'linux-{base}',
        'patchset_files': [{'name': os.path.basename(p), 'url': url(os.path.join(posted, p))}
                           for p in files],
        'comment': f'{series} on Linux {base}',
        'start_time': start, 'log_url': url(apply_log), 'valid': valid,
        'misc': {'verdict': verdict, 'input': series, 'base': base,
                 'duration_s': seconds, 'warnings': nwarn,
                 'requested_steps': [s['step'] for s in judged],
                 'verdict_md': os.path.join(out, 'verdict.md')},
    })
    # KCIDB: an empty patchset_hash means no patch was applied (an import
    # that found none), so it is kept when empty
    checkout['patchset_hash'] = phash
    builds, tests = [], []
    for s in steps:
        bid = f"{checkout_id}:{s['step']}"
        arch, config = BUILDS.get(s['step'], ('', ''))
        builds.append(drop_empty({
            'id': bid, 'checkout_id': checkout_id, 'origin': ORIGIN,
            'status': s['status'], 'comment': f"{s['step']}: {s['reason']}",
            'architecture': arch, 'config_name': config,
            'command': s['reproduce'], 'log_url': url(s['log']),
            'duration': s['seconds'],
            'misc': {'step': s['step'], 'requested': s['requested']},
        }))
        tests.append(drop_empty({
            'id': f'{bid}:step', 'build_id': bid, 'origin': ORIGIN,
            'path': test_path(s['step'], ''), 'status': s['status'],
            'comment': s['reason'], 'log_url': url(s['log']), 'duration': s['seconds'],
            'misc': drop_empty({'step': s['step'], 'requested': s['requested'],
                                'reproduce': s['reproduce']}),
        }))
        for i, c in enumerate(s['checks'], 1):
            tests.append(drop_empty({
                'id': f'{bid}:{i}', 'build_id': bid, 'origin': ORIGIN,
                'path': test_path(s['step'], c['check']), 'status': c['status'],
                'comment': c['reason'], 'log_url': url(c['log']),
                'misc': drop_empty({'step': s['step'], 'check': c['check'],
                                    'reproduce': c['reproduce'],
                                    'warning': c['warning']}),
            }))
    doc = {'version': {'major': 5, 'minor': 0}, 'checkouts': [checkout],
           'builds': builds, 'tests': tests}
    with open(os.path.join(out, 'verdict.json'), 'w') as f:
        json.dump(doc, f, indent=1)

    print('\n'.join(md[:7 + len(judged)]))
    print(f'\nverdict: {verdict} ({len(bad)} of {len(judged)} requested steps did not pass'
          f'{f", {nwarn} warnings" if nwarn else ""}) -> {out}/verdict.md')
    return {'PASS': 0, 'FAIL': 1}.get(verdict, 2)


if __name__ == '__main__':
    sys.exit(main())
