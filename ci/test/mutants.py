#!/usr/bin/env python3
"""make mutants: does the KUnit suite notice when the walker is broken?

Generate mutants of the code our stack adds to mm/hmm.c (the
HMM_PFN_REQ_MIGRATE walk), mm/migrate_device.c (migrate_hmm_range_setup(),
MIGRATE_VMA_FAULT) and mm/internal.h with mm/migrate_device.c (the prepare
and restore steps both walks share): a call statement deleted, a condition negated, an
unlock dropped, an error code changed, a && made || and the reverse, a
store deleted (a count, an output, a bookmark), an HMM_PFN_* or
MIGRATE_PFN_* flag dropped from a value written. Each
mutant is built and run in the UML tier (and, with TIERS="uml x86_64", the
x86_64 tier for what UML lets live; "x86_64-debug" and "swap", the swap
run, can follow); it is killed when a case fails, crashes, hangs or
splats. Mutants that do not build are not counted. Assertions
(lockdep_assert*, mmap_assert*, might_sleep, VM_WARN*) are not mutated:
without one, a correct caller sees nothing different.

usage: ci/test/mutants.py [--max N] [--seed S] [--min-rate PCT] [--list]
                         [--only FILE]
Prints the kill rate and every surviving mutant (file:line, operator, the
mutated line). --only runs the mutants FILE names, one "path:line: operator"
a line, as --list and the survivor lines print them (to check that new
cases kill the survivors of a full run). The working tree is restored after every mutant. With
--min-rate, exits 1 when fewer than PCT % of the mutants that build are
killed (make check runs a small seeded slice this way).
"""
import argparse
import fcntl
import os
import random
import re
import signal
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get('HMMWALK_CACHE', os.path.expanduser('~/.cache/hmmwalk'))
TREE = os.path.join(CACHE, 'src', 'linux-' + os.environ.get('BASE', '7.2.8'))

# (file, first marker, last marker): the added code, by its landmarks
REGIONS = [
    ('mm/hmm.c', 'struct hmm_migrate_walk {', '#endif /* CONFIG_DEVICE_MIGRATION */'),
    ('mm/migrate_device.c', 'static int migrate_vma_setup_fault(',
     'EXPORT_SYMBOL(migrate_vma_setup);'),
    ('mm/migrate_device.c', 'void migrate_hmm_range_setup(struct hmm_range *range)',
     'EXPORT_SYMBOL(migrate_hmm_range_setup);'),
    # The prepare and restore steps both walks share (patch 0002)
    ('mm/internal.h', 'migrate_device_prepare_pte(struct vm_area_struct *vma, unsigned long addr,',
     'void migrate_device_restore_folio(struct folio *folio,'),
    ('mm/migrate_device.c', 'void migrate_device_restore_folio(struct folio *folio, struct folio *fault_folio)',
     'static unsigned long migrate_device_unmap('),
]
UNLOCKS = ('spin_unlock', 'pte_unmap_unlock', 'folio_unlock',
           'hmm_migrate_invalidate_end', 'folio_put')
ERRNOS = {'-EFAULT': '-EBUSY', '-EBUSY': '0', '-EINVAL': '0', '-EPERM': '-EFAULT',
          '-EOPNOTSUPP': '0'}


def mutants_of(path, lines, lo, hi):
    for i in range(lo, hi):
        line = lines[i]
        code = line.split('/*')[0].split('//')[0]
        s = code.strip()
        if not s or s.startswith(('*', '#')) or \
                re.search(r'hmm_count\(|lockdep_assert|mmap_assert|might_sleep|VM_WARN', s):
            continue
        m = re.match(r'^(\s*)(if|while) \((.*)\)(\s*\{?)\s*$', code)
        if m and m.group(3).count('(') == m.group(3).count(')'):
            yield (path, i, 'negate condition',
                   f'{m.group(1)}{m.group(2)} (!({m.group(3)})){m.group(4)}\n')
        if re.match(r'^\s*[a-z_][a-z0-9_>.-]*\(.*\);\s*$', code) and \
                not s.startswith('return'):
            op = 'drop unlock' if s.startswith(UNLOCKS) else 'delete call'
            yield (path, i, op, '\n')
        for e, r in ERRNOS.items():
            if re.search(r'return ' + re.escape(e) + r'\b', code):
                yield (path, i, f'{e} -> {r}', line.replace(e, r, 1))
        if re.search(r'return 0;', code):
            yield (path, i, 'return 0 -> -EFAULT', line.replace('return 0;', 'return -EFAULT;', 1))
        # A statement that only stores: a count, an output, a bookmark
        if re.match(r'^\s*([a-z_][a-z0-9_>.\[\]*-]*\s*([-+|&]?=)[^=].*|[a-z_][a-z0-9_>.-]*(\+\+|--));\s*$',
                    code):
            yield (path, i, 'delete store', '\n')
        # A flag dropped from what is reported or installed
        m = re.search(r'(\|\s*\(?|\?\s*)((HMM_PFN|MIGRATE_PFN)_[A-Z_]+)\b', code)
        if m and not re.search(r'&\s*' + m.group(2), code):
            yield (path, i, 'drop ' + m.group(2),
                   line[:m.start(2)] + '0' + line[m.end(2):])
        if '&&' in code:
            yield (path, i, '&& -> ||', line.replace('&&', '||', 1))
        if '||' in code:
            yield (path, i, '|| -> &&', line.replace('||', '&&', 1))


def listed(name):
    """(path, operator, stripped original line) of ci/test/NAME"""
    out = set()
    with open(os.path.join(TOP, 'ci', 'test', name)) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                path, op, orig, _why = line.rstrip('\n').split('\t', 3)
                out.add((path, op, orig))
    return out


def all_mutants():
    out = []
    for path, first, last in REGIONS:
        with open(os.path.join(TREE, path)) as f:
            lines = f.readlines()
        lo = next(i for i, l in enumerate(lines) if first in l)
        hi = next(i for i in range(lo, len(lines)) if last in lines[i])
        out += list(mutants_of(path, lines, lo, hi + 1))
    return out


def killed_by(tier):
    """Build and run a tier: 'killed', 'alive' or 'invalid' (no build).
    Tier "swap" is the swap run (ci/test/swap.sh) on the x86_64 kernel."""
    # A clean run takes seconds: a mutant that hangs is killed sooner
    env = dict(os.environ, HMMWALK_KUNIT_TIMEOUT='120' if tier == 'uml' else '300')
    script = 'swap.sh' if tier == 'swap' else 'kunit.sh'
    args = [] if tier == 'swap' else [tier]
    r = subprocess.run([os.path.join(TOP, 'ci', 'test', script)] + args +
                       [os.path.join(CACHE, 'results', 'mutant-' + tier)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=1800, env=env)
    if 'BUILD FAILED' in r.stdout:
        return 'invalid'
    return 'killed' if r.returncode else 'alive'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--max', type=int, default=0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--min-rate', type=float, default=0)
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--only')
    a = ap.parse_args()
    tiers = os.environ.get('TIERS', 'uml').split()
    # Killed (a CI timeout, kill): still restore the tree in the finally
    # below, or the next run of any tier would test the mutant
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    subprocess.run([os.path.join(TOP, 'ci', 'apply', 'tree.sh')], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # From here the tree holds mutants: ci/apply/tree.sh refuses to run
    lock = open(os.path.join(CACHE, 'mutants.lock'), 'w')
    fcntl.flock(lock, fcntl.LOCK_EX)
    muts = all_mutants()
    lines = {}
    for path in {m[0] for m in muts}:
        with open(os.path.join(TREE, path)) as f:
            lines[path] = f.read().splitlines()

    def leave_out(name, what):
        out = listed(name)
        kept = [m for m in muts if (m[0], m[2], lines[m[0]][m[1]].strip()) not in out]
        if len(kept) != len(muts):
            print(f'mutants: {len(muts) - len(kept)} {what} (ci/test/{name})')
        return kept

    # Equivalent mutants (each with its argument) are left out before the
    # sample is drawn
    muts = leave_out('mutants-equivalent', 'equivalent left out')
    # A slice that must kill all it draws (--min-rate) leaves out the known
    # survivors of the full run (each with what it needs): it is there to
    # catch new ones. The full run still runs them.
    if a.min_rate and a.max:
        muts = leave_out('mutants-alive', 'known survivors left out of the slice')
    random.Random(a.seed).shuffle(muts)
    if a.only:
        with open(a.only) as f:
            want = {':'.join(l.strip().split(':')[:3]).strip() for l in f if l.strip()}
        muts = [m for m in muts if f'{m[0]}:{m[1] + 1}: {m[2]}' in want]
        if not muts:
            print(f'mutants: none of the mutants {a.only} names exists')
            return 1
    if a.max:
        muts = muts[:a.max]
    if a.list:
        for path, i, op, new in muts:
            print(f'{path}:{i + 1}: {op}: {new.strip()}')
        return 0

    # A mutant counts as killed when a tier fails: on a tree that fails
    # without one, every mutant would be "killed"
    for tier in tiers:
        if killed_by(tier) != 'alive':
            print(f'mutants: the tree without a mutant fails the {tier} tier '
                  f'(see {os.path.join(CACHE, "results", "mutant-" + tier)}): fix it first')
            return 1

    counts = {'killed': 0, 'alive': 0, 'invalid': 0}
    survivors = []
    for n, (path, i, op, new) in enumerate(muts, 1):
        full = os.path.join(TREE, path)
        orig = open(full).read()
        lines = orig.splitlines(True)
        old = lines[i]
        lines[i] = new
        try:
            with open(full, 'w') as f:
                f.write(''.join(lines))
            verdict = 'alive'
            for tier in tiers:
                verdict = killed_by(tier)
                if verdict != 'alive':
                    break
        finally:
            with open(full, 'w') as f:
                f.write(orig)
        counts[verdict] += 1
        print(f'[{n}/{len(muts)}] {verdict:7} {path}:{i + 1}: {op}', flush=True)
        if verdict == 'alive':
            survivors.append(f'{path}:{i + 1}: {op}: {new.strip() or "(deleted) " + old.strip()}')
    valid = counts['killed'] + counts['alive']
    print(f"\nmutants: {len(muts)} generated, {counts['invalid']} do not build, "
          f"{counts['killed']} of {valid} killed "
          f"({100.0 * counts['killed'] / valid if valid else 0:.1f}%) by {' + '.join(tiers)}")
    for s in survivors:
        print('  survived: ' + s)
    if not valid:
        print('mutants: none of them builds: the generator or the tree is broken')
        return 1
    rate = 100.0 * counts['killed'] / valid
    if rate < a.min_rate:
        print(f'mutants: kill rate {rate:.1f}% is below {a.min_rate:g}%')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
