"""Read one file in a child process under a memory and time budget: the backstop behind the checks.

The checks before parsing (:mod:`weiwen.read.ole` for an .xls's sector chains,
:func:`weiwen.read.sniff.check_member` for an .xlsx's real member sizes, the grid checks of
:mod:`weiwen.read.sheet_xml`) refuse what is known to make a reader grow without end.  A legacy
.xls is parsed by two libraries (python-calamine, xlrd) over a format with many more ways to lie
than those checks know, so it is read in a forked child whose address space may grow by at most
:data:`MEMORY_BYTES` beyond what the parent had, for at most :data:`SECONDS`.  A child that runs
out (a ``MemoryError``, or calamine aborting the process when an allocation fails) or out of time
(killed) is reported as ``file-over-budget``, and the other files are read as usual.

Forking costs about a millisecond and an .xls holds at most 65,536 rows a sheet, so sending the
result back is cheap; an .xlsx (a million rows: seconds to send) is read in the process itself,
its sizes bounded by the checks.  Where there is no ``fork`` or no ``resource`` (Windows), files
are read in the process itself.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TypeVar

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

T = TypeVar("T")
MEMORY_BYTES = 1 << 30  # address space the child may add to what it had when forked
SECONDS = 60.0
_OUT_OF_MEMORY = "memory"


class OverBudget(Exception):
    """The child ran out of memory (``what == "memory"``) or time (``"time"``); ``limit`` in Chinese."""

    def __init__(self, what: str, limit: str):
        super().__init__(what, limit)
        self.what, self.limit = what, limit


def available() -> bool:
    return resource is not None and hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def run(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` computed in a forked child under the budget; raises :class:`OverBudget`."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, args, MEMORY_BYTES), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(SECONDS):
            raise OverBudget("time", f"{SECONDS:g} 秒")
        try:
            kind, value = receive.recv()
        except (EOFError, OSError):  # the child died before it answered: an abort on a failed allocation
            raise OverBudget(_OUT_OF_MEMORY, f"{MEMORY_BYTES >> 20} MB") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if kind == _OUT_OF_MEMORY:
        raise OverBudget(_OUT_OF_MEMORY, f"{MEMORY_BYTES >> 20} MB")
    return value  # type: ignore[no-any-return]


def _child(send: Connection, fn: Callable[..., object], args: tuple[object, ...], extra: int) -> None:
    faulthandler.disable()  # an abort here is the budget at work, not a crash to dump
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # calamine's "memory allocation failed" before its abort is no message for a clerk
    limit = _address_space() + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result: tuple[str, object] = ("ok", fn(*args))
    except MemoryError:
        result = (_OUT_OF_MEMORY, None)
    send.send(result)
    send.close()


def _address_space() -> int:
    """This process's current virtual size in bytes (the limit counts from here)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 * 4
