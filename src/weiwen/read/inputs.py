"""The roster files a command was given: folders, wildcards and open-file lock files sorted out.

A clerk on Windows types ``weiwen validate 花名册\\*.xlsx`` or drags a folder onto the window;
no shell expands the wildcard for them.  :func:`expand_inputs` turns each argument into files:

- an existing file is itself (whatever its name: the reader reports what it is);
- a folder is the ``.xlsx``/``.xls``/``.xlsm``/``.csv`` files directly in it (not its subfolders);
- a name with ``*``, ``?`` or ``[`` that is not an existing file is a wildcard, expanded here
  (``\\`` and ``/`` both separate folders on Windows; on other systems ``\\`` is part of a name);
- anything else is passed on unchanged, so the reader reports the missing file as it always has.

All the files come in natural order (``2-李家湾村`` before ``10-赵寨村``), also when a shell
expanded the wildcard (bash sorts ``10-`` before ``2-``): villages are listed in the order of
their numbered files.  A file named twice is read once.  The lock file
Excel/WPS (``~$1-王楼村.xlsx``) or LibreOffice (``.~lock.1-王楼村.xlsx#``) keeps beside an
open workbook is never a roster: it is skipped with a note, wherever it came from.  A folder or
wildcard that yields no roster is a problem naming it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from weiwen.core import problems as P

ROSTER_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".csv", ".et")  # .et: WPS 表格's own format (read by its content)
# What weiwen writes itself, never a village's roster: outputs written into the rosters' folder
# (an annotated copy, the lists of allocate, budget, check-duplicates and sample).
OWN_OUTPUTS = frozenset({"慰问明细.xlsx", "公示名单.xlsx", "审批表.xlsx", "经费预算.xlsx", "重复核查.xlsx", "抽查名单.xlsx",
                         "allocation.csv", "persons.csv", "与上次名单对比.xlsx"})
_MAGIC = re.compile(r"[*?\[]")
_DIGITS = re.compile(r"(\d+)")
_LISTED = 5  # names of other files a note lists before "等 N 个"


@dataclass
class Expanded:
    """What the arguments name: the files to read, notes on what was skipped (Chinese, one line
    each), and problems (a folder or wildcard that names no roster)."""

    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[P.Problem] = field(default_factory=list)


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key comparing runs of digits as numbers: 2-李家湾村 before 10-赵寨村."""
    parts = _DIGITS.split(text)
    return (*(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)), text)


def lock_note(path: Path) -> str | None:
    """The note for an office suite's lock file, or ``None`` when ``path`` is not one."""
    name = path.name
    if name.startswith("~$"):
        suite = "Excel/WPS"
    elif name.startswith(".~lock.") and name.endswith("#"):
        suite = "LibreOffice"
    else:
        return None
    return f"已跳过 {suite} 的临时锁定文件 {name}（该花名册正在被打开；请保存并关闭后再运行）"


def is_pattern(arg: str) -> bool:
    return _MAGIC.search(arg) is not None


def _listing(names: list[str]) -> str:
    shown = "、".join(names[:_LISTED])
    return shown + (f" 等 {len(names)} 个" if len(names) > _LISTED else "")


def _is_roster(path: Path) -> bool:
    return path.suffix.lower() in ROSTER_SUFFIXES


def _sorted(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: natural_key(str(p)))


def _choose(found: list[Path], where: str, out: Expanded) -> list[Path]:
    """The rosters among ``found`` (a folder's entries, a wildcard's matches); notes for the rest."""
    kept, locks, others, folders, own = [], [], [], [], []
    for path in _sorted(found):
        if path.is_dir():
            folders.append(path.name)
        elif (note := lock_note(path)) is not None:
            locks.append(note)
        elif path.name.startswith("."):
            continue  # a hidden file (.DS_Store and the like) is nobody's roster
        elif path.name in OWN_OUTPUTS or path.name.endswith(".标注.xlsx"):
            own.append(path.name)
        elif _is_roster(path):
            kept.append(path)
        else:
            others.append(path.name)
    out.notes.extend(locks)
    if others:
        out.notes.append(f"{where}有不是花名册的文件，未读取（只读 {'/'.join(ROSTER_SUFFIXES)}）：{_listing(others)}")
    if own:
        out.notes.append(f"{where}有 weiwen 写出的结果（不是花名册），未读取：{_listing(own)}")
    if folders:
        out.notes.append(f"{where}有文件夹，未读取（不读取子文件夹；要读取请直接写子文件夹）：{_listing(folders)}")
    return kept


def _nothing(arg: str, message: str, hint: str) -> P.Problem:
    return P.Problem(code="file-not-found", severity=P.Severity.ERROR, file=arg, message=message, hint=hint)


def expand_inputs(args: Sequence[str | Path], *, windows: bool | None = None) -> Expanded:
    """Each argument as the roster files it names (see the module's docstring).  ``windows``
    (default: whether this is Windows) makes ``\\`` a folder separator in wildcards."""
    if windows is None:
        windows = os.sep == "\\"
    out = Expanded()
    seen: set[str] = set()

    def add(path: Path) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.files.append(path)

    for arg in args:
        text = str(arg)
        path = Path(text)
        if path.is_dir():
            kept = _choose([p for p in path.iterdir()], f"文件夹 {text} 中", out)
            if not kept:
                out.problems.append(_nothing(text, f"文件夹 {text} 中没有花名册文件（{'/'.join(ROSTER_SUFFIXES)}）。",
                                             "请确认文件夹是否写对；子文件夹中的文件不会读取，请直接写子文件夹。"))
            for p in kept:
                add(p)
        elif (note := lock_note(path)) is not None:
            out.notes.append(note)
        elif path.exists() or not is_pattern(text):
            add(path)  # a file, or a missing one the reader reports as it always has
        else:
            pattern = text.replace("\\", "/") if windows else text
            matches = [Path(m) for m in glob.glob(pattern)]
            kept = _choose(matches, f"与 {text} 匹配的文件中", out)
            if not kept:
                said = (f"与 {text} 匹配的只有临时锁定文件或不是花名册的文件。" if matches
                        else f"没有找到与 {text} 匹配的文件。")
                out.problems.append(_nothing(text, said,
                                             "请检查文件夹和文件名是否写对，例如 花名册\\*.xlsx；也可以直接写文件夹名。"))
            for p in kept:
                add(p)
    out.files = _sorted(out.files)
    return out
