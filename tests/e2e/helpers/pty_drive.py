#!/usr/bin/env python3
"""pty_drive.py — runs a command (kubectl exec -it / attach -it) on a terminal of its own
and plays a script against it, as a person at a terminal would.

Usage: pty_drive.py ROWS COLS STEP... -- COMMAND...
Steps: send:TEXT (\\n and \\r escapes allowed), expect:REGEX (waits up to 20 s on the output
so far), resize:ROWS,COLS (the terminal's new size; the command gets SIGWINCH), sleep:SEC, kill:
(ends the command with SIGTERM, as closing the terminal would).
Prints the terminal's output, then "exit=N" (the command's exit code); exits 1 when an
expect step timed out (after printing what arrived)."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    rows, cols = int(args[0]), int(args[1])
    split = args.index("--")
    steps, command = args[2:split], args[split + 1:]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    set_size(master, rows, cols)
    out = b""
    failed = None

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "send":
            os.write(master, arg.replace("\\n", "\n").replace("\\r", "\r").encode())
        elif kind == "expect":
            deadline = time.time() + 20
            while not re.search(arg.encode(), out) and time.time() < deadline:
                if not pump(0.2):
                    break
            if not re.search(arg.encode(), out):
                failed = arg
                break
        elif kind == "resize":
            r, c = arg.split(",")
            set_size(master, int(r), int(c))
            os.kill(pid, signal.SIGWINCH)
        elif kind == "kill":
            os.kill(pid, signal.SIGTERM)
        elif kind == "sleep":
            end = time.time() + float(arg)
            while time.time() < end:
                pump(0.05)
    if failed is not None:
        os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 20
    while time.time() < deadline and pump(0.2):
        pass
    try:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        code = -1
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.write("\nexit=%d\n" % code)
    if failed is not None:
        sys.stdout.write("TIMEOUT waiting for %r\n" % failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
