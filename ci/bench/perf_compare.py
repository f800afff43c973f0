#!/usr/bin/env python3
"""Compare the calls drivers make today, series against base, from two
benchmark boots (BENCH lines of mm/tests/hmm_bench_kunit.c under -icount).

usage: ci/bench/perf_compare.py BASE_TSV[,TSV...] SERIES_TSV[,TSV...] [--limit 1.02]

Each row: strategy state KiB median min max ... (ns per page), and last
the fastest and the median run's ns per call, unrounded (under -icount
shift=0 one ns is one guest instruction). A call is compared per call
(per page rounds 10.4 and 10.6 apart by 10%), by the median of its runs
and by its fastest run, and judged by the lower of the two ratios: a run
can be disturbed either way. Seen: in one boot of 7.2.8 the fastest run of
plain_setup on "half" at 256 KiB 2.7% below the fastest of other boots
(the median is not moved by one such run); and, on the series, the same
1,381 instructions of other work in three of the five runs of
plain_fault on "present" at 1 MiB, in both boots of one kernel, -icount
making each boot repeat the last (the fastest run is not moved by work
that runs in some runs only). A slower call is slower in every run, and
both ratios show it. Over several boots, each call's lowest median and
fastest run count. Rows with no median per call (an older benchmark) are
compared by the fastest run. Every plain_fault and plain_setup row of
the base must be in the series' boot too.

Last line: "perf: N calls compared, worst R (call state KiB), M beyond
LIMIT[, K missing from the series boot]". Exit 0: none beyond the limit;
1: some (the series is slower), or calls the base's boot gave are missing
from the series' boot (its kernel stopped the benchmark: a panic, an OOM;
the same test code ran to the end on the base); 2: nothing to compare.
"""
import sys

CALLS = ('plain_fault', 'plain_setup')


def rows(paths):
    """(median, fastest) of each call: the lowest of each over the boots of
    comma-separated paths"""
    out = {}
    for path in paths.split(','):
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) < 6:
                    continue
                # per call if given, else per page
                k = (w[0], w[1], int(w[2]))
                fastest = int(w[13] if len(w) > 13 else w[4])
                median = int(w[14]) if len(w) > 14 else fastest
                m, f = out.get(k, (median, fastest))
                out[k] = (min(m, median), min(f, fastest))
    return out


def ratio(series, base):
    """The lower of the median and the fastest run's ratios"""
    return min(s / b if b else float('inf') for s, b in zip(series, base))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    limit = 1.02
    if '--limit' in sys.argv:
        limit = float(sys.argv[sys.argv.index('--limit') + 1])
        args.remove(sys.argv[sys.argv.index('--limit') + 1])
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2])
        return 2
    base, series = rows(args[0]), rows(args[1])
    keys = sorted(k for k in base if k[0] in CALLS)
    if not keys:
        print(f'perf: no {" or ".join(CALLS)} row in {args[0]}: nothing to compare')
        return 2
    missing = [k for k in keys if k not in series]
    if len(missing) == len(keys):
        print(f'  FAIL series boot: none of the {len(keys)} calls: see its test log')
        print(f'perf: 0 calls compared, {len(keys)} missing from the series boot')
        return 1
    print(f"{'call':12} {'state':8} {'KiB':>6} {'base':>10} {'series':>10} ratio  (median instructions per call; ratio: the lower of the median's and the fastest run's)")
    worst, over = (0, None), []
    for k in keys + [k for k in sorted(base) if k[0] == 'reference']:
        if k not in series or not base[k][0]:
            continue
        r = ratio(series[k], base[k])
        judged = k[0] in CALLS
        flag = ' beyond' if judged and r > limit else ''
        print(f'{k[0]:12} {k[1]:8} {k[2]:6} {base[k][0]:10} {series[k][0]:10} '
              f'{r:.3f}{flag}{"" if judged else " (not judged)"}')
        if not judged:
            continue
        worst = max(worst, (r, k))
        if r > limit:
            over.append((r, k))
    for r, k in sorted(over, reverse=True)[:5]:
        print(f'  FAIL {k[0]} on {k[1]} at {k[2]} KiB: {r:.2f}x the base '
              f'({series[k][0]} against {base[k][0]} instructions per call, '
              f'fastest runs {series[k][1]} against {base[k][1]})')
    if missing:
        print(f'  FAIL series boot: {len(missing)} of {len(keys)} calls missing, '
              f'e.g. {" ".join(map(str, missing[0]))}: its kernel stopped the '
              f'benchmark (see its test log)')
    r, k = worst
    tail = f', {len(missing)} missing from the series boot' if missing else ''
    print(f'perf: {len(keys) - len(missing)} calls compared, worst {r:.3f}x ({k[0]} '
          f'on {k[1]} at {k[2]} KiB), {len(over)} beyond {limit}x{tail}')
    return 1 if over or missing else 0


if __name__ == '__main__':
    sys.exit(main())
