"""An output set switched into its folder all at once: what ``weiwen allocate`` writes is all new or all old.

The folder given with ``-o`` may hold the user's own files, so it is never swapped as a whole.
Instead :func:`output_set` gives the writers a hidden staging folder inside it, on the same file
system, and switches the finished set into place:

1. under a lock (``.weiwen/锁``; a second writer exits with ``ExitCode.LOCKED``), whatever a
   killed writer left is settled first: a complete journal is finished (rolled forward), a staging
   folder without one is discarded, and stale ``.*.tmp`` files of atomic writes
   (:data:`weiwen.core.atomic.TMP_NAME`) in the folder and its first level of subfolders are
   removed when they are older than this writer;
2. every writer writes into ``.weiwen/写出中/`` (mirroring the folder's layout);
3. the commit: the staging folders are fsynced (each file was synced as it was written: writers
   write through :mod:`weiwen.core.atomic`), then the journal ``.weiwen/提交.json``
   (the files to move in, and the files of the previous set the new one does not have) is written
   atomically — from here on the new set is decided; each file is renamed into place (JSON files
   last), the old set's leftovers are deleted, and the journal becomes the set's list
   ``.weiwen/输出清单.json`` in one rename.

The guarantee, exactly: a writer killed at any moment leaves, in the folder outside ``.weiwen``,
the complete previous set, or the complete new set, or — only when killed during step 3, after
every file was written and synced, a matter of milliseconds — the journal with some of the new
files renamed in.  That last state is never what a weiwen command sees: the next ``allocate``
into the folder, and every reader of a set (:func:`settle`, called by ``publish``/``approve``/
``payment`` and ``ledger record``), first finishes the switch, which gives the complete new set.
A clerk opening the folder in those milliseconds could see a mix, until the next weiwen command.
Files of the previous set that the new set does not have (the sign sheet of a village no longer
listed, last time's year comparison) are deleted in the switch: the folder then holds exactly the
new set and the user's own files.  Files written before this mechanism existed (no
``输出清单.json`` yet) are replaced when the new set has them and otherwise left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from weiwen.core.atomic import TMP_NAME, remove_stale_tmp, write_text_atomic
from weiwen.core.errors import ExitCode, WeiwenError

STATE = ".weiwen"  # in the output folder: the lock, the staging folder, the journal, the set's list
STAGING = "写出中"
JOURNAL = "提交.json"
LISTED = "输出清单.json"
LOCK = "锁"
FORMAT = "weiwen-output-set-1"
WAIT = 60  # seconds a reader waits for a writer that holds the lock while a journal is pending


class OutputSet:
    """The staging folder writers write into; after the switch, :meth:`final` says where a file went."""

    def __init__(self, target: Path, folder: Path) -> None:
        self.target = target
        self.folder = folder

    def final(self, paths: Sequence[Path]) -> list[Path]:
        """Where the staged ``paths`` are once the set is switched into place."""
        return [self.target / p.relative_to(self.folder) if p.is_relative_to(self.folder) else p for p in paths]


@contextlib.contextmanager
def output_set(target: Path, *, inputs: Sequence[Path] = ()) -> Iterator[OutputSet]:
    """Write a set of outputs for ``target`` into a staging folder; switched into place when the
    block ends without an exception, discarded when it raises.  ``inputs`` are never replaced or
    deleted (a set that would replace one is refused before anything moves)."""
    from filelock import FileLock, Timeout  # only writers need it

    if target.exists() and not target.is_dir():
        raise WeiwenError(f"输出位置 {target} 是一个文件，请用 -o 指定一个文件夹。")
    state = target / STATE
    state.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(state / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise WeiwenError(f"另一个 weiwen 正在向文件夹 {target} 写出结果，本次没有写出。请等它结束后再运行，或换一个 -o 文件夹。",
                          code="output-locked", exit_code=ExitCode.LOCKED) from None
    try:
        started = time.time()
        _settle_locked(target)
        remove_stale_tmp([target, state, *(p for p in target.iterdir() if p.is_dir() and p.name != STATE)],
                         before=started)  # the journal's own, too
        staging = state / STAGING
        staging.mkdir(mode=0o750)
        try:
            yield OutputSet(target, staging)
            _commit(target, inputs)
        except BaseException:
            if (state / JOURNAL).is_file():  # the switch had begun: finish it now if possible
                with contextlib.suppress(OSError):
                    _finish(target)
            else:
                shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        lock.release()
        if not (state / LISTED).exists() and not (state / JOURNAL).exists() and not (state / STAGING).exists():
            with contextlib.suppress(OSError):  # nothing was ever switched in here: leave no trace
                (state / LOCK).unlink()
                state.rmdir()


def settle(folder: Path) -> None:
    """Finish a switch that a killed writer left half done in ``folder`` (a no-op, writing nothing,
    when there is none).  Readers of an output set call this before they read it."""
    if not (folder / STATE / JOURNAL).is_file():
        return
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(folder / STATE / LOCK), timeout=WAIT):
            if (folder / STATE / JOURNAL).is_file():
                _finish(folder)
    except Timeout:
        raise WeiwenError(f"另一个 weiwen 正在向文件夹 {folder} 写出结果，请等它结束后再运行。",
                          code="output-locked", exit_code=ExitCode.LOCKED) from None


def _settle_locked(target: Path) -> None:
    state = target / STATE
    if (state / JOURNAL).is_file():
        _finish(target)
    shutil.rmtree(state / STAGING, ignore_errors=True)  # without a journal: a set never decided


def _staged(staging: Path) -> list[str]:
    """The staged files, relative and in switching order: JSON files (summary, manifest) last."""
    files = [PurePosixPath(p.relative_to(staging).as_posix()) for p in staging.rglob("*")
             if p.is_file() and not TMP_NAME.fullmatch(p.name)]
    return [str(p) for p in sorted(files, key=lambda p: (p.suffix == ".json", p.parts))]


def _commit(target: Path, inputs: Sequence[Path]) -> None:
    state = target / STATE
    staging = state / STAGING
    files = _staged(staging)
    kept = {p.resolve() for p in inputs}
    for name in files:
        place = target / name
        if place.resolve() in kept:
            raise WeiwenError(f"输出会覆盖输入文件 {place}，请换一个 -o 文件夹。")
        if place.is_dir():
            raise WeiwenError(f"{place} 是一个文件夹，挡住了要写出的同名文件：请移走它，或换一个 -o 文件夹。")
        above = Path(name).parents
        blocking = next((target / q for q in above if q != Path(".") and (target / q).is_file()), None)
        if blocking is not None:  # a file where the set needs a folder (公示名单 …)
            raise WeiwenError(f"{blocking} 是一个文件，挡住了要写出的文件夹：请移走它，或换一个 -o 文件夹。")
    previous = set(_listed(state))
    stale = sorted(n for n in previous - set(files) if (target / n).resolve() not in kept)
    for folder in [*(p for p in staging.rglob("*") if p.is_dir()), staging]:
        _fsync(folder)  # the files' names in the staging folders (each file synced itself when written)
    doc = {"格式": FORMAT, "文件": files, "删除": stale}
    write_text_atomic(state / JOURNAL, json.dumps(doc, ensure_ascii=False, indent=1))
    _fsync(state)
    _finish(target)


def _names(doc: object, key: str, target: Path) -> list[str]:
    """The file names a journal or list holds under ``key``: only names inside ``target`` (a file
    someone edited to say ``../../x`` moves or deletes nothing outside the folder)."""
    assert isinstance(doc, dict)
    names = [str(n) for n in doc[key]]
    inside = target.resolve()
    if not all(".." not in PurePosixPath(n).parts and (target / n).resolve().is_relative_to(inside) for n in names):
        raise ValueError("not a name inside the folder")
    return names


def _listed(state: Path) -> list[str]:
    """The files of the set last switched in (none when there is no readable list)."""
    try:
        return _names(json.loads((state / LISTED).read_text(encoding="utf-8")), "文件", state.parent)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return []


def _finish(target: Path) -> None:
    """The switch from the journal on: idempotent, so a killed switch is finished by running it again."""
    state = target / STATE
    staging = state / STAGING
    try:
        doc = json.loads((state / JOURNAL).read_text(encoding="utf-8"))
        files, stale = _names(doc, "文件", target), _names(doc, "删除", target)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):  # not a journal weiwen wrote: nothing decided
        (state / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        return
    touched = {target}
    for name in files:
        src, dst = staging / name, target / name
        if src.is_file():  # else: moved before the kill
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            touched.add(dst.parent)
    for name in stale:
        gone = target / name
        with contextlib.suppress(OSError):  # in use, or a folder now: left, the switch goes on
            gone.unlink(missing_ok=True)
        for folder in gone.parents:  # a folder the old set had and the new one has not
            if folder == target or not folder.is_relative_to(target):
                break
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: the user's files in it stay
            touched.add(folder.parent)
    for folder in touched:
        if folder.is_dir():
            _fsync(folder)
    os.replace(state / JOURNAL, state / LISTED)
    _fsync(state)
    shutil.rmtree(staging, ignore_errors=True)


def _fsync(folder: Path) -> None:
    """Flush a folder's entries (POSIX only: Windows cannot open a folder this way)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
