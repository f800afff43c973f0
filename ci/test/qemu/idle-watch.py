#!/usr/bin/env python3
"""Run QEMU, pass its output on, and stop it when the guest goes quiet.

usage: idle-watch.py SECONDS QEMU [QEMU_ARG...]

A KUnit case that hangs leaves the serial console silent until kunit.py's
whole-run timeout (minutes). Runs print a line at least every few seconds
(the longest gap measured: 5 s, x86_64-debug under TCG), so SECONDS of
silence means a hang: QEMU is stopped and the run ends there, as a crash
does. kunit.py then reports the cases that did not finish.
"""
import os
import select
import signal
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    idle = float(sys.argv[1])
    qemu = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)

    def stop(signum, frame):
        qemu.terminate()
        sys.exit(128 + signum)
    # kunit.py's own timeout terminates us: take QEMU along
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    out = sys.stdout.buffer
    fd = qemu.stdout.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], idle)
        if not ready:
            out.write(b'\nci/qemu: no output for %d s: the guest hangs, '
                      b'stopped (HMMWALK_QEMU_IDLE)\n' % idle)
            out.flush()
            qemu.terminate()
            try:
                qemu.wait(timeout=10)
            except subprocess.TimeoutExpired:
                qemu.kill()
            return 124
        data = os.read(fd, 65536)
        if not data:
            break
        try:
            out.write(data)
            out.flush()
        except BrokenPipeError:
            # The reader (kunit.py) is done: stop the guest, quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
            qemu.terminate()
            qemu.wait()
            return 0
    return qemu.wait()


if __name__ == '__main__':
    sys.exit(main())
