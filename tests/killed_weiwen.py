"""The weiwen command, killed by itself (SIGKILL) just before a chosen file-system step: for
tests/test_kill.py, to land a kill on a precise step (each rename of a switch, say) that a random
delay would almost never hit.

    python tests/killed_weiwen.py N[:PATTERN] COUNT_FILE ARG...

runs ``weiwen ARG...`` with every ``os.replace``, ``os.rename``, ``os.unlink`` and ``os.rmdir``
counted — when PATTERN (a regular expression) is given, only those where it is found in
``SOURCE -> TARGET`` (or the one path).  Just before the N-th
counted step the process sends itself SIGKILL: it stops there, with no chance to clean up.  With
N = 0, or fewer than N steps, it runs to its end and writes the number of counted steps to
COUNT_FILE.  Nothing here is part of weiwen: the test wraps the real command from outside.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import sys
from pathlib import Path


def install(at: int, pattern: str) -> list[int]:
    taken = [0]
    wanted = re.compile(pattern)

    def counted(real):  # type: ignore[no-untyped-def]
        def step(*args, **kwargs):  # type: ignore[no-untyped-def]
            paths = [os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]
            if wanted.search(" -> ".join(paths)):
                taken[0] += 1
                if taken[0] == at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return step

    for name in ("replace", "rename", "unlink", "rmdir"):
        setattr(os, name, counted(getattr(os, name)))
    return taken


def main() -> None:
    point, count_file, *args = sys.argv[1:]
    at, _, pattern = point.partition(":")
    taken = install(int(at), pattern)
    atexit.register(lambda: Path(count_file).write_text(str(taken[0]), encoding="utf-8"))
    from weiwen.cli import app

    app(args=args, prog_name="weiwen")


if __name__ == "__main__":
    main()
