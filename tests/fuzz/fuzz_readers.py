"""Coverage-guided fuzzing of the roster readers (atheris + libFuzzer).

The byte entry point is ``weiwen.read.workbook.read_roster_file``, the readers' boundary: whatever a
file holds, it returns problems and never raises.  Each input is written to a file and read by it;
when the reader finds sheets, the file also goes through the intake (``load_rosters``, what ``weiwen
validate`` runs: layout, cells, households, the persons frame and its declared contract).  A finding
is anything else:

- an exception out of the reader or the intake (atheris prints it and saves the input as crash-*);
- a native abort (python-calamine, the standard library's C parts), a hang past ``-timeout``, or
  memory past ``-rss_limit_mb`` (libFuzzer saves the input as crash-*, timeout-* or oom-*);
- a problem whose message, hint or value carries a run of 11 or more digits (a full ID, phone or
  bank card number): :class:`Leak`.

The file's suffix follows its content (a zip is read as .xlsx, an OLE file as .xls, the rest as .csv,
the only way each reader is reached), except one input in eight, which gets a wrong suffix.  A zip
input is mutated inside: one of its XML parts is mutated and the zip rebuilt, so that the XML readers
meet the damage rather than the zip's CRC check.

Run (docs/hostile.md, 覆盖率引导的模糊测试)::

    prlimit --as=4000000000 python tests/fuzz/fuzz_readers.py /tmp/fuzz-work tests/fuzz/corpus \\
        -runs=100000 -max_total_time=1200 -timeout=20 -rss_limit_mb=3000 -artifact_prefix=/tmp/fuzz-found/

The first folder receives the inputs libFuzzer finds interesting; tests/fuzz/corpus is the seed corpus
(read only).  ``python tests/fuzz/fuzz_readers.py --replay FOLDER...`` reads a corpus uninstrumented
(under ``coverage run``: the coverage it reaches).  tests/fuzz/long_run.sh runs two such fuzzers on one corpus and restarts them after each
finding.  tests/fuzz/runaways/ keeps the inputs that still make a reader take all memory (python-calamine
lays an .xls grid out 65,536 columns wide and aborts): they join the corpus when each file is read under
a memory limit.  ``python tests/fuzz/fuzz_readers.py FILE...`` replays saved inputs.  ``check`` is also
what tests/fuzz/test_fuzz_readers.py calls on every corpus file with each suffix.
"""

from __future__ import annotations

import io
import random
import re
import sys
import tempfile
import zipfile
import zlib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
SUFFIXES = (".xlsx", ".xls", ".csv")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
LONG_RUN = re.compile(r"[0-9]{11,}")
TODAY = date(2027, 1, 15)


class Leak(AssertionError):
    """A problem's text carries a run of 11 or more digits: a full ID, phone or card number."""


def natural_suffix(data: bytes) -> str:
    """The suffix a file with these bytes would have: the only one each reader is reached with."""
    if data.startswith(ZIP_MAGIC):
        return ".xlsx"
    if data.startswith(OLE_MAGIC):
        return ".xls"
    return ".csv"


def fuzz_suffix(data: bytes) -> str:
    """The natural suffix, except for one input in eight (by its checksum): a wrong one."""
    natural = natural_suffix(data)
    turn = zlib.crc32(data) % 8
    if turn:
        return natural
    return SUFFIXES[(SUFFIXES.index(natural) + 1 + zlib.crc32(data[:64]) % 2) % 3]


class Reader:
    """Reads bytes as a roster file in one scratch folder, as ``weiwen validate`` would."""

    def __init__(self) -> None:
        from weiwen.model.vocab import load_vocabulary

        self.vocab = load_vocabulary()
        self.folder = Path(tempfile.mkdtemp(prefix="weiwen-fuzz-"))

    def check(self, data: bytes, suffix: str, whole: bool = True) -> list[object]:
        """The problems of ``data`` read as a file with ``suffix``; raises on any finding.

        When the reader finds sheets, each goes through the intake's steps (``find_layout``,
        ``build_roster``); with ``whole``, the file then goes through the whole intake as well
        (``load_rosters``: also the persons frame checked against its declaration, duplicates, the
        summary), which costs 25-80 ms a file, mostly the frame check: the fuzzer asks for it on one
        input in eight."""
        from weiwen.read.workbook import read_roster_file
        from weiwen.roster.build import build_roster
        from weiwen.roster.intake import load_rosters
        from weiwen.roster.layout import find_layout

        path = self.folder / f"花名册{suffix}"
        path.write_bytes(data)
        try:
            res = read_roster_file(path)
            problems = list(res.problems)
            for raw in res.sheets:
                layout = find_layout(raw, self.vocab)
                if layout is not None:
                    problems += build_roster(raw, layout, self.vocab, TODAY).problems
            if res.sheets and whole:
                problems += load_rosters([path], vocab=self.vocab, today=TODAY, jobs=1).problems
        finally:
            path.unlink()
        self.leak_check(problems)
        return problems

    @staticmethod
    def leak_check(problems: list[object]) -> None:
        """Raise :class:`Leak` when a problem's message, hint, value, sheet or column carries a run of
        11 or more digits."""
        for p in problems:
            for text in (p.message, p.hint, p.value or "", p.sheet or "", p.column or ""):  # type: ignore[attr-defined]
                if LONG_RUN.search(text):
                    raise Leak(f"{p.code}: {text!r}")  # type: ignore[attr-defined]


def _members(data: bytes) -> list[tuple[str, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(i.filename, z.read(i)) for i in z.infolist()]
    except Exception:  # noqa: BLE001 - a damaged zip is simply mutated as bytes
        return None


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, body in members:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """libFuzzer's custom mutator: inside a zip, mutate one XML part (sheets and shared strings most
    often) and rebuild the zip; otherwise, or one time in five, mutate the bytes themselves."""
    import atheris

    rng = random.Random(seed)
    members = _members(data) if data.startswith(ZIP_MAGIC) and rng.random() < 0.8 else None
    if members:
        parts = [k for k, (name, _) in enumerate(members) if name.endswith((".xml", ".rels"))] or list(range(len(members)))
        weights = [4 if "sheet" in members[k][0] or "sharedStrings" in members[k][0] else 1 for k in parts]
        k = rng.choices(parts, weights)[0]
        name, body = members[k]
        members[k] = (name, atheris.Mutate(body, max(64, len(body) + len(body) // 4)))
        out = _zip(members)
        if len(out) <= max_size:
            return out
    return atheris.Mutate(data, max_size)


def replay(folders: list[str]) -> None:
    """Read every file of ``folders`` as the fuzzer does, uninstrumented, and print the findings: with
    ``coverage run``, the line and branch coverage a corpus reaches (docs/hostile.md)."""
    reader = Reader()
    files = sorted(p for f in folders for p in Path(f).iterdir() if p.is_file())
    found = 0
    for path in files:
        data = path.read_bytes()
        try:
            reader.check(data, fuzz_suffix(data))
        except Exception as exc:  # noqa: BLE001 - every finding is printed, then the next file
            found += 1
            print(f"{path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"{len(files)} files, {found} findings")


def main(argv: list[str]) -> None:
    if argv[1:2] == ["--replay"]:
        replay(argv[2:])
        return
    import atheris

    with atheris.instrument_imports(include=["weiwen", "xlrd", "defusedxml", "csv"]):
        import weiwen.read.workbook  # noqa: F401
        import weiwen.roster.intake  # noqa: F401

    reader = Reader()

    def one(data: bytes) -> None:
        reader.check(data, fuzz_suffix(data), whole=zlib.crc32(data) % 8 == 1)

    atheris.Setup(argv, one, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
