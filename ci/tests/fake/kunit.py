#!/usr/bin/env python3
"""A fake tools/testing/kunit/kunit.py for the gate's self-tests: builds no
kernel and boots none. It answers from kunit/expected/<tier>.expected:

  config: writes BUILD_DIR/.config from the --kunitconfig files
  build:  fails when HMMWALK_FAKE_BUILD=fail, as a compile error would
  exec:   HMMWALK_FAKE_KUNIT=pass (default): every expected case with its
          expected status; panic: the kernel panics at boot, no case runs;
          zero: the kernel boots and runs no case; hang: never returns;
          fail:SUITE.CASE: that case fails, the others as expected;
          nameless: as pass, nested in a nameless group, as kunit.py
          gives it when a kernel line lands inside the KTAP header
          FILTER_GLOB hmm_bench: BENCH lines of the calls drivers make today
          (the benchmark); HMMWALK_FAKE_BENCH=slow:R makes plain_setup R
          times slower outside the base's tree (bench-base), once:R only
          in the first such boot, none prints no BENCH line there, cut
          stops there after the first state, as a kernel panic would;
          lucky:R makes the base's fastest run of plain_setup R times
          faster, its median as it was (one disturbed run); busy:R makes
          the series' median R times slower, its fastest run as it was
          (other work in most runs)

usage: kunit.py config|build|exec [kunit.py options] [FILTER_GLOB]
"""
import json
import os
import sys
import time

cmd, args = sys.argv[1], sys.argv[2:]
opt = {}
pos = []
kunitconfigs = []
VALUED = {'timeout', 'filter', 'filter_action', 'make_options', 'kunitconfig',
          'arch', 'jobs', 'build_dir', 'json', 'kconfig_add', 'qemu_args',
          'kernel_args'}
it = iter(args)
for a in it:
    if a.startswith('--'):
        k, eq, v = a[2:].partition('=')
        if not eq:
            v = next(it, '') if k in VALUED else True
        if k == 'kunitconfig':
            kunitconfigs.append(v)
        opt[k] = v
    else:
        pos.append(a)
build = opt.get('build_dir', '.kunit')
os.makedirs(build, exist_ok=True)

if cmd == 'config':
    with open(os.path.join(build, '.config'), 'w') as f:
        for k in kunitconfigs:
            f.write(open(k).read())
    sys.exit(0)
if cmd == 'build':
    if os.environ.get('HMMWALK_FAKE_BUILD') == 'fail':
        print('mm/hmm.c:42:1: error: fake build break (HMMWALK_FAKE_BUILD=fail)')
        print('ERROR:root:the kernel did not build')
        sys.exit(1)
    sys.exit(0)

# exec of the benchmark: instructions per page, base or series
if pos and pos[0] == 'hmm_bench':
    bench = os.environ.get('HMMWALK_FAKE_BENCH', '')
    series = 'bench-base' not in os.getcwd()
    slow = float(bench[5:]) if bench.startswith('slow:') and series else 1.0
    once = os.path.join(build, 'fake-bench-once')
    if bench.startswith('once:') and series and not os.path.exists(once):
        open(once, 'w').close()     # slow in the first boot only
        slow = float(bench[5:])
    lines = []
    states = ('present', 'none', 'thp')
    if bench == 'cut' and series:
        states = states[:1]
    if not (bench == 'none' and series):
        for state in states:
            for kib in (64, 4096):
                n = kib // 4
                lines.append(f'BENCH reference anon {kib} 2600 2600 2600 0 0 0 0 0 0 0 {2600 * n} {2600 * n}')
                lines.append(f'BENCH plain_fault {state} {kib} 80 80 80 0 0 0 0 0 0 0 {80 * n} {80 * n}')
                ns = int(780 * slow)
                fastest = ns * n
                if bench.startswith('lucky:') and not series:
                    fastest = int(fastest / float(bench[6:]))
                median = ns * n
                if bench.startswith('busy:') and series:
                    median = int(median * float(bench[5:]))     # other work in most runs, not the fastest
                lines.append(f'BENCH plain_setup {state} {kib} {ns} {fastest // n} {ns} 0 0 0 0 0 1 1 {fastest} {median}')
    with open(os.path.join(build, 'test.log'), 'w') as f:
        f.write('\n'.join(['TAP version 14'] + lines + ['ok 1 hmm_bench']) + '\n')
    sys.exit(0)

# exec: the tier's expected cases
kc = kunitconfigs[0]
tier = os.path.basename(kc).split('.')[0]
expected = {}
top = os.path.dirname(os.path.dirname(os.path.abspath(kc)))
with open(os.path.join(top, 'kunit', 'expected', tier + '.expected')) as f:
    for line in f:
        if line.strip() and not line.startswith('#'):
            status, cid = line.rstrip('\n').split('\t', 1)
            expected[cid] = status
if opt.get('list_tests'):
    for cid in sorted({'.'.join(c.split('.')[:2]) for c in expected}):
        print(cid)
    sys.exit(0)

mode = os.environ.get('HMMWALK_FAKE_KUNIT', 'pass')
if mode == 'hang':
    time.sleep(3600)
log = ['TAP version 14']
root = {'name': 'KUnit Test Group', 'sub_groups': [], 'test_cases': []}
if mode == 'panic':
    log.append('Kernel panic - not syncing: Attempted to kill init! (HMMWALK_FAKE_KUNIT=panic)')
elif mode == 'zero':
    log.append('1..0')
else:
    want = pos[0] if pos else ''
    for cid, status in sorted(expected.items()):
        if want and not (cid == want or cid.startswith(want + '.')):
            continue
        node = root
        parts = cid.split('.')
        for p in parts[:-1]:
            sub = [g for g in node['sub_groups'] if g['name'] == p]
            if not sub:
                sub = [{'name': p, 'sub_groups': [], 'test_cases': []}]
                node['sub_groups'].append(sub[0])
            node = sub[0]
        if mode == 'fail:' + '.'.join(parts[:2]):
            status = 'FAIL'
        node['test_cases'].append({'name': parts[-1], 'status': status})
        log.append(f'ok 1 {parts[-1]}')
with open(os.path.join(build, 'test.log'), 'w') as f:
    f.write('\n'.join(log) + '\n')
if mode == 'nameless':
    root['sub_groups'] = [{'name': '', 'sub_groups': root['sub_groups'],
                           'test_cases': []}]
if 'json' in opt:
    with open(opt['json'], 'w') as f:
        json.dump(root, f)
sys.exit(1 if mode == 'panic' else 0)
