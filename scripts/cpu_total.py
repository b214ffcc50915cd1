"""Run a command and print all the CPU it cost, including the processes it orphaned.

`time` (and the suite table) count a process tree only through wait(): a grandchild whose parent exits first (a
policy pack, a plugin, a server started with setsid) is re-parented to init and its CPU is lost. Here this process
becomes the tree's child subreaper, so every orphan is re-parented to it and reaped by it.

    .venv/bin/python scripts/cpu_total.py bash scripts/test.sh
"""

import ctypes
import os
import resource
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    start = time.monotonic()
    child = os.fork()
    if child == 0:
        os.execvp(argv[0], argv)
    status, direct, orphans = 0, 0.0, 0.0
    while True:
        try:
            pid, wait_status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            break
        cpu = usage.ru_utime + usage.ru_stime
        if pid == child:
            status, direct = os.waitstatus_to_exitcode(wait_status), cpu
        else:
            orphans += cpu
    total = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"[cpu_total] wall {time.monotonic() - start:.0f} s; CPU {total.ru_utime + total.ru_stime:.1f} s "
          f"(user {total.ru_utime:.0f}, sys {total.ru_stime:.0f}): {direct:.1f} s through the command's own waits "
          f"(what `time` reports), {orphans:.1f} s in processes it orphaned", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
