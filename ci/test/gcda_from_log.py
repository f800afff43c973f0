#!/usr/bin/env python3
"""Write the gcov counters a guest printed back into its build directory.

The x86_64 coverage guest prints each .gcda file of debugfs's gcov tree in
base64 between "GCDA-BEGIN <path>" and "GCDA-END" lines on its console;
each is written to BUILD_DIR at its path from mm/ on, for lcov to read.

usage: ci/test/gcda_from_log.py CONSOLE_LOG BUILD_DIR
"""
import base64
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    log, build = sys.argv[1:]
    name, data, n = None, [], 0
    with open(log, errors='replace') as f:
        for line in f:
            line = line.strip()
            if line.startswith('GCDA-BEGIN '):
                name, data = line.split()[1], []
            elif line == 'GCDA-END' and name:
                rel = name[name.index('/mm/') + 1:]
                with open(os.path.join(build, rel), 'wb') as out:
                    out.write(base64.b64decode(''.join(data)))
                name, n = None, n + 1
            elif name:
                data.append(line)
    print(f'{n} .gcda files written into {build}')


if __name__ == '__main__':
    main()
