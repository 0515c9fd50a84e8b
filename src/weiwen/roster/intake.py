"""Load and validate roster files: the public entry point of the intake step.

``load_rosters(paths)`` reads every file, finds each sheet's table, validates every row and
returns an :class:`Intake`: the roster frame of all persons, every problem found, and a
summary per file and sheet.  It never raises for a bad input; problems are data.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from weiwen.core import problems as P
from weiwen.core.errors import ExitCode
from weiwen.core.ids import mask_id
from weiwen.read.workbook import read_roster_file
from weiwen.roster.layout import HEADER_SCAN_ROWS, find_layout
from weiwen.model.frames import PERSONS, check, empty_persons
from weiwen.roster.build import SheetRoster, build_roster
from weiwen.model.recipients import RecipientKind
from weiwen.roster.line_fields import EXAMPLE_CAMPAIGN, WHAT, list_kind
from weiwen.model.vocab import Vocabulary, load_vocabulary


@dataclass
class SheetSummary:
    name: str
    rows: int = 0
    valid: int = 0
    errors: int = 0
    warnings: int = 0


@dataclass
class FileSummary:
    path: str
    format: str | None
    readable: bool
    sheets: list[SheetSummary] = field(default_factory=list)
    errors: int = 0  # file-level errors (unreadable, no header …)


@dataclass
class Intake:
    """The rosters read and checked: one row per person listed (a household roster) or per line
    (a unit list, an event roster: :mod:`weiwen.roster.lines`), every problem found."""

    files: list[FileSummary]
    frame: pd.DataFrame  # model.frames.PERSONS
    problems: list[P.Problem]
    kind: RecipientKind = RecipientKind.HOUSEHOLD  # what one recipient of these rosters is
    events: pd.DataFrame | None = None  # an event roster's events (model.frames.EVENTS), by household

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def valid_rows(self) -> int:
        return int(self.frame["valid"].sum()) if len(self.frame) else 0

    @property
    def errors(self) -> list[P.Problem]:
        return [p for p in self.problems if p.severity is P.Severity.ERROR]

    @property
    def warnings(self) -> list[P.Problem]:
        return [p for p in self.problems if p.severity is P.Severity.WARNING]

    @property
    def infos(self) -> list[P.Problem]:
        return [p for p in self.problems if p.severity is P.Severity.INFO]

    @property
    def unreadable(self) -> bool:
        return any(not f.readable for f in self.files)

    def exit_code(self) -> ExitCode:
        if self.unreadable:
            return ExitCode.USAGE
        return ExitCode.PROBLEMS if self.errors else ExitCode.OK

    def to_json(self) -> dict[str, object]:
        return {
            "files": [
                {
                    "file": f.path,
                    "format": f.format,
                    "readable": f.readable,
                    "sheets": [s.__dict__ for s in f.sheets],
                }
                for f in self.files
            ],
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "errors": [p.as_json() for p in self.errors],
            "warnings": [p.as_json() for p in self.warnings],
            "infos": [p.as_json() for p in self.infos],
        }


Progress = Callable[[str], None]
PARALLEL_MIN_FILES = 4  # below this, starting worker processes costs more than it saves
# Files handed to a worker at a time.  Village files take about 20 ms each: 25 of them are half a
# second, so the first results come early and both workers finish together.  2,000 village files
# on two workers: 125 at a time 23.5 s, 50 21.4 s, 25 20.9-21.4 s, 10 22.1 s.
CHUNK_FILES = 25


def load_rosters(
    paths: Iterable[Path],
    *,
    sheet: str | None = None,
    vocab: Vocabulary | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Intake:
    """Read and validate ``paths``; ``today`` is the date birth dates are checked against.

    Several files are read in parallel on ``jobs`` processes (default: one per core); the
    result does not depend on ``jobs``.
    """
    with no_cyclic_gc():
        return _load_rosters(list(paths), sheet, vocab or load_vocabulary(), today or date.today(), progress, jobs)


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything without
    a cycle).  Millions of row lists and cell strings hold no cycles; scanning them over and over
    costs a quarter of an intake, and a second in deciding and writing a prefecture's run."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load_rosters(paths: list[Path], sheet: str | None, vocab: Vocabulary, today: date,
                  progress: Progress | None, jobs: int | None) -> Intake:
    files: list[FileSummary] = []
    rosters: list[SheetRoster] = []
    problems: list[P.Problem] = []
    jobs = min(jobs or os.cpu_count() or 1, len(paths))
    load = functools.partial(_load_one, sheet=sheet, vocab=vocab, today=today)
    if jobs > 1 and len(paths) >= PARALLEL_MIN_FILES:
        # Files are independent: read and check them on every core, keep the input order.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = pool.map(load, paths, chunksize=max(1, min(CHUNK_FILES, len(paths) // (jobs * 8))))
            loaded = []
            for path, result in zip(paths, results, strict=True):
                if progress:
                    progress(str(path))
                loaded.append(result)
    else:
        loaded = []
        for path in paths:
            if progress:
                progress(str(path))
            loaded.append(load(path))
    for summary, sheet_rosters, file_problems in loaded:
        files.append(summary)
        rosters.extend(sheet_rosters)
        problems.extend(file_problems)
    frames = [r.frame for r in rosters if len(r.frame)]
    offset = 0
    for f in frames:  # each sheet numbers its households from 0: number them within the intake
        codes = f["household"].to_numpy()
        if offset:
            f["household"] = codes + offset
        offset += int(codes.max()) + 1
    if len(frames) == 1:
        frame = frames[0]
    else:
        frame = pd.concat(frames, ignore_index=True) if frames else empty_persons()
    dup_problems = _duplicates(frame)
    if dup_problems:
        problems.extend(dup_problems)
        bad = {(p.file, p.sheet, p.row) for p in dup_problems}
        key = list(zip(frame["file"], frame["sheet"], frame["row"], strict=True))
        frame["valid"] = frame["valid"].to_numpy() & np.array([k not in bad for k in key], dtype=bool)
    _summarise(files, frame, problems)
    return Intake(files=files, frame=check(PERSONS, frame), problems=problems)


def _load_one(path: Path, *, sheet: str | None, vocab: Vocabulary, today: date
              ) -> tuple[FileSummary, list[SheetRoster], list[P.Problem]]:
    read = read_roster_file(path, sheet=sheet)
    problems = list(read.problems)
    summary = FileSummary(path=read.display, format=read.format.value if read.format else None,
                          readable=read.readable)
    rosters: list[SheetRoster] = []
    no_header: list[str] = []
    for raw in read.sheets:
        if not any(c is not None and c != "" for row in raw.rows for c in row):
            problems.append(P.make("sheet-empty", file=read.display, sheet=raw.name))
            continue
        layout = find_layout(raw, vocab)
        if layout is None:
            no_header.append(raw.name)
            continue
        if list_kind(raw, vocab) is RecipientKind.PERSON:  # 姓名, 身份证号 and an event with its date: not households
            problems.append(P.make("list-needs-campaign", file=read.display, sheet=raw.name,
                                   what=WHAT[RecipientKind.PERSON], example=EXAMPLE_CAMPAIGN[RecipientKind.PERSON]))
            summary.readable = False
            continue
        roster = build_roster(raw, layout, vocab, today)
        raw.rows = []  # the cells are in the roster frame now; let them go before the next sheet
        rosters.append(roster)
        problems.extend(roster.problems)
        summary.sheets.append(SheetSummary(name=raw.name))
    scanned = HEADER_SCAN_ROWS
    if rosters and not any(len(r.frame) for r in rosters):  # a blank template: the village's people are missing
        problems.append(P.make("file-no-persons", file=read.display, sheet=rosters[0].sheet,
                               sheets="、".join(f"工作表“{r.sheet}”" for r in rosters)))
    if rosters:
        # Instructions or summary sheets beside the roster are normal: say so, no more.
        problems.extend(P.make("sheet-no-table", file=read.display, sheet=name) for name in no_header)
    elif read.readable:
        by_name = {raw.name: raw for raw in read.sheets}
        for name in no_header:
            kind = list_kind(by_name[name], vocab)  # a unit list or an event roster given without its campaign
            if kind is not None:
                problems.append(P.make("list-needs-campaign", file=read.display, sheet=name, what=WHAT[kind],
                                       example=EXAMPLE_CAMPAIGN[kind]))
            else:
                problems.append(P.make("header-not-found", file=read.display, sheet=name, scanned=scanned))
        if not no_header and not any(p.code in ("sheet-not-found", "list-needs-campaign") for p in problems):
            problems.append(P.make("file-no-data", file=read.display))
        summary.readable = False
    return summary, rosters, problems


def _duplicates(frame: pd.DataFrame) -> list[P.Problem]:
    if not len(frame):
        return []
    ids = frame["id_number"]
    dup = frame[ids.notna() & ids.duplicated(keep=False)]
    out: list[P.Problem] = []
    for id_number, group in dup.groupby("id_number", sort=True):
        places = list(zip(group["file"], group["sheet"], group["row"], strict=True))
        for f, s, r in places:
            others = "；".join(f"{of} 工作表“{os_}”第 {orow} 行" for of, os_, orow in places if (of, os_, orow) != (f, s, r))
            out.append(P.make("duplicate-person", file=f, sheet=s, row=int(r), column=None,
                              value=mask_id(str(id_number)), id=mask_id(str(id_number)), others=others))
    return out


def _summarise(files: list[FileSummary], frame: pd.DataFrame, problems: list[P.Problem]) -> None:
    counts: dict[tuple[str, str | None], list[int]] = {}
    for p in problems:
        c = counts.setdefault((p.file, p.sheet), [0, 0])
        if p.severity is P.Severity.ERROR:
            c[0] += 1
        elif p.severity is P.Severity.WARNING:
            c[1] += 1
    if len(frame):
        stats = frame.groupby(["file", "sheet"], sort=False)["valid"].agg(["size", "sum"])
    else:
        stats = None
    for f in files:
        f.errors = counts.get((f.path, None), [0, 0])[0]
        for s in f.sheets:
            if stats is not None and (f.path, s.name) in stats.index:
                s.rows = int(stats.loc[(f.path, s.name), "size"])
                s.valid = int(stats.loc[(f.path, s.name), "sum"])
            s.errors, s.warnings = counts.get((f.path, s.name), [0, 0])
