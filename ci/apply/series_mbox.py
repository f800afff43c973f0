#!/usr/bin/env python3
"""make series-mbox: the upstream patches of our stack as one mbox, the way
they are posted: patches/cover-letter as [PATCH v3 0/N] with a shortlog and
a diffstat, then each patch as [PATCH v3 i/N], threaded under it.

usage: ci/apply/series_mbox.py TOP OUT_MBOX [VERSION]   (make series-mbox)

patches/cover-letter: a first line "Subject: ...", then the body.
"""
import hashlib
import os
import re
import sys
from email.utils import formatdate


def die(msg):
    sys.exit(f'series_mbox.py: error: {msg}')


def split(text):
    """Header lines (folded lines unfolded) and the body, verbatim"""
    head, _, body = text.partition('\n\n')
    lines = []
    for line in head.split('\n'):
        if line[:1] in (' ', '\t') and lines:
            lines[-1] += ' ' + line.strip()
        else:
            lines.append(line)
    return lines, body


def diffstat(texts):
    """The lines each patch adds and removes, summed per file"""
    files = {}
    for text in texts:
        name = None
        for line in text.split('\n'):
            if line.startswith('+++ '):
                name = re.sub(r'^b/', '', line[4:].split('\t')[0])
                files.setdefault(name, [0, 0])
            elif name and line.startswith('+') and not line.startswith('+++'):
                files[name][0] += 1
            elif name and line.startswith('-') and not line.startswith('---'):
                files[name][1] += 1
            elif line.startswith('diff --git') or line.startswith('-- '):
                name = None
    width = max(len(f) for f in files)
    most = max(a + d for a, d in files.values()) or 1
    scale = min(1.0, 50 / most)     # bars of at most 50 characters
    out = [f' {f:<{width}} | {a + d:5} {"+" * round(a * scale)}{"-" * round(d * scale)}'
           for f, (a, d) in sorted(files.items())]
    add, rem = sum(a for a, _ in files.values()), sum(d for _, d in files.values())
    out.append(f' {len(files)} files changed, {add} insertions(+), {rem} deletions(-)')
    return out


def main():
    if len(sys.argv) not in (3, 4):
        die(__doc__.strip().splitlines()[3])
    top, out = sys.argv[1], sys.argv[2]
    ver = sys.argv[3] if len(sys.argv) > 3 else 'v3'
    cover_path = os.path.join(top, 'patches', 'cover-letter')
    if not os.path.exists(cover_path):
        die(f'no {cover_path}: its first line is "Subject: ...", then the body')
    cover = open(cover_path).read()
    if not cover.startswith('Subject: '):
        die(f'{cover_path} must start with "Subject: ..."')
    subject, _, cover_body = cover.partition('\n')
    names = []
    for line in open(os.path.join(top, 'series')):
        line = line.split('#')[0].strip()
        if line and not re.match(r'(test|bench)/', line):
            names.append(line.split()[0])
    if not names:
        die('no upstream patch in series')
    texts = [open(os.path.join(top, 'patches', n)).read() for n in names]
    n = len(texts)
    tag = hashlib.sha256(''.join([cover] + texts).encode()).hexdigest()[:12]
    msgid = lambda i: f'<{ver}-{i}.{tag}@hmmwalk.invalid>'

    heads = [split(t)[0] for t in texts]
    frm = next(h for h in heads[0] if h.startswith('From: '))
    subjects = [re.sub(r'^Subject: \[PATCH[^]]*\] ', '', next(
        h for h in head if h.startswith('Subject: '))) for head in heads]

    mbox = ['From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
            frm, f'Date: {formatdate(localtime=False)}', f'Message-Id: {msgid(0)}',
            f'Subject: [PATCH {ver} 0/{n}] {subject[len("Subject: "):]}', '',
            cover_body.strip('\n'), '']
    mbox += [f'  {s}' for s in subjects] + [''] + diffstat(texts) + ['']
    for i, text in enumerate(texts, 1):
        head, body = split(text)
        for h in head:
            if h.startswith('Subject: '):
                h = re.sub(r'^Subject: \[PATCH[^]]*\]', f'Subject: [PATCH {ver} {i}/{n}]', h)
            mbox.append(h)
            if h.startswith('Date: '):
                mbox += [f'Message-Id: {msgid(i)}', f'In-Reply-To: {msgid(0)}',
                         f'References: {msgid(0)}']
        mbox += ['', body.rstrip('\n'), '']
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(mbox) + '\n')
    print(f'{out}: [PATCH {ver} 0/{n}] {subject[len("Subject: "):]}, {n} patches')


if __name__ == '__main__':
    main()
