"""The weiwen command, paused at a chosen moment: for tests that must act exactly then (kill the
process, start a second run) instead of guessing the moment with a sleep.

    python tests/paused_weiwen.py POINT ARG...

runs ``weiwen ARG...``.  When POINT is reached, it writes one line saying so to the file
descriptor named by the environment variable PAUSED_READY_FD, then waits until it can read a
line from stdin (or stdin is closed) and goes on.  The points:

- ``after:NAME``: in ``weiwen run``, right after NAME (``write_duplicates``, ``write_outputs`` or
  ``write_budget``, as the run module calls them) has written its files into the run's folder;
- ``latest``: in ``weiwen run``, when the new folder is in place and the pointer file
  最新结果.txt is about to be switched to it;
- ``commit``: at the first database commit (``weiwen ledger record``'s one transaction); the line
  says how many records the transaction holds then.

Used by tests/test_batch.py and tests/test_ledger.py.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path

HANG = 180  # seconds: only to fail rather than hang; nothing waits for it


def pause(said: str) -> None:
    fd = int(os.environ["PAUSED_READY_FD"])
    os.write(fd, (said + "\n").encode())
    os.close(fd)
    sys.stdin.readline()


def install(point: str) -> None:
    if point.startswith("after:"):
        from weiwen.app import run

        name = point.split(":", 1)[1]
        real = getattr(run, name)  # fails loudly if the run no longer calls it by that name

        def then_pause(*args: object, **kwargs: object) -> object:
            got = real(*args, **kwargs)
            pause(name)
            return got

        setattr(run, name, then_pause)
    elif point == "latest":
        real_replace = os.replace

        def replace(src: object, dst: object, *args: object, **kwargs: object) -> None:
            if Path(str(dst)).name == "最新结果.txt":
                pause("latest")
            real_replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

        os.replace = replace  # type: ignore[assignment]
    elif point == "commit":
        import sqlalchemy as sa
        from sqlalchemy import event

        seen: list[int] = []

        @event.listens_for(sa.engine.Engine, "commit")
        def before_commit(conn: sa.Connection) -> None:
            if not seen:
                seen.append(1)
                held = conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
                pause(f"commit {held}")
    else:
        raise SystemExit(f"unknown pause point {point!r}")


def main() -> None:
    point, *args = sys.argv[1:]
    install(point)
    from weiwen.cli import app

    app(args=args, prog_name="weiwen")


def start(point: str, args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``weiwen ARG...`` in ``cwd``; return the process once it is paused at ``point``, and
    the line it said then.  Let it go on with ``go_on``, or ``kill`` it.  (A process that neither
    reaches the point nor ends within ``HANG`` seconds fails the test instead of hanging it.)"""
    read, write = os.pipe()
    env = {**os.environ, "PAUSED_READY_FD": str(write)}
    err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by go_on or kill; a file, not a pipe: never blocks the process
    proc = subprocess.Popen([sys.executable, __file__, point, *args], cwd=cwd, env=env, pass_fds=(write,),
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    proc.err = err  # type: ignore[attr-defined]
    os.close(write)
    with os.fdopen(read) as ready:
        if not select.select([ready], [], [], HANG)[0]:
            kill(proc)
            raise AssertionError(f"weiwen neither reached {point} nor ended")
        said = ready.readline().strip()  # "" when the process ended without reaching the point
    if not said:
        proc.wait()
        assert proc.stdin is not None
        proc.stdin.close()
        raise AssertionError(f"weiwen ended (exit {proc.returncode}) before reaching {point}: {_said(proc)}")
    return proc, said


def go_on(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Let a paused weiwen go on to its end: its exit code and what it wrote on stderr."""
    proc.communicate(input=b"", timeout=HANG)
    said = _said(proc)
    proc.err.close()  # type: ignore[attr-defined]
    return proc.returncode, said


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill (SIGKILL) a paused weiwen: it stops where it is, with no chance to clean up."""
    proc.kill()
    proc.wait()
    assert proc.stdin is not None
    proc.stdin.close()
    proc.err.close()  # type: ignore[attr-defined]


def _said(proc: subprocess.Popen[bytes]) -> str:
    err = proc.err  # type: ignore[attr-defined]
    err.seek(0)
    return err.read().decode("utf-8", "replace")


if __name__ == "__main__":
    main()
