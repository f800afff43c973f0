#!/usr/bin/env python3
"""Copy a generated block into a document, or check it is there unchanged.

A block is the text from "<!-- NAME:begin -->" to "<!-- NAME:end -->",
both markers included. SRC is the file a command generated (docs/bench.md
from make bench); DST is the document that quotes it (docs/benchmark.md).

usage: ci/verdict/doc_block.py NAME SRC DST [--check]
Exits 1, naming the fix, when SRC or DST has no such block or (--check)
when the two differ.
"""
import re
import sys


def block(name, path):
    pat = re.compile(rf'<!-- {name}:begin -->.*?<!-- {name}:end -->', re.S)
    with open(path) as f:
        text = f.read()
    m = pat.search(text)
    if not m:
        sys.exit(f'doc_block.py: {path} has no <!-- {name}:begin --> ... '
                 f'<!-- {name}:end --> block')
    return pat, text, m.group(0)


def main():
    args = [a for a in sys.argv[1:] if a != '--check']
    if len(args) != 3:
        sys.exit(__doc__.strip().splitlines()[-3])
    name, src, dst = args
    _, _, want = block(name, src)
    pat, text, have = block(name, dst)
    if '--check' in sys.argv:
        if have != want:
            sys.exit(f'doc_block.py: the {name} block of {dst} differs from {src}')
        return
    with open(dst, 'w') as f:
        f.write(pat.sub(lambda m: want, text))


if __name__ == '__main__':
    main()
