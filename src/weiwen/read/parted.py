"""Read an .xlsx sheet faster than python-calamine alone: in parts on both cores when it is
large, in memory in one pass when it is small, always with the same result.

python-calamine parses a sheet on one core, and reads its whole XML twice: once for the cells,
and once more only to find ``<mergeCells>``, which comes after the rows (a million-row sheet:
about 5.5 s and 3.5 s).  For a large sheet (:func:`read_in_parts`) weiwen therefore:

1. streams the sheet's XML once, cutting it at row boundaries into a few parts, each saved
   uncompressed as a small workbook of its own in a temporary folder (the same workbook parts
   — styles, shared strings, sheet list — with only that sheet's rows, and an empty
   ``<mergeCells>`` placed before the rows, so calamine's second pass stops at once);
2. collects on the way what calamine would not say or now cannot see: hidden rows, formulas
   with no saved result and error values (:class:`~weiwen.read.sheet_xml.MarkScanner`), and the
   merged ranges listed after the rows;
3. lets calamine parse each part on a worker thread as soon as it is written (it does not hold
   the GIL while parsing), while this thread turns the parsed parts, in order, into Python rows;
4. puts the rows back at their places: every part's rows carry their own row numbers (``r``),
   so the result is the list calamine would have given for the whole sheet, cell for cell.

A small sheet (a village's file, :func:`read_in_one_part`) is one part, built in memory: weiwen
inflates its XML once (it needs the marks anyway), and calamine parses the stored copy without
inflating it again or reading it twice.

Whenever this cannot be done safely (a part starting with a row without a row number, parts
out of order, no room for the temporary files, anything calamine refuses) these functions
return ``None`` and the sheet is read whole the usual way, which also reports what is wrong.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import python_calamine as calamine

from weiwen.read.sniff import check_member
from weiwen.read.sheet_xml import (
    MarkScanner,
    SheetMarks,
    SheetTooLarge,
    check_extent,
    ExtentWatch,
    after_last_row,
    calamine_errors,
    merged_ranges,
    pieces,
)

SMALL_BYTES = 16 << 20  # a sheet whose XML is smaller than this is read as one part in memory
SPLIT_BYTES = 48 << 20  # a sheet whose XML is at least this large (about 80,000 rows) is read in parts
PART_BYTES = 128 << 20  # about the XML of a part; at most MAX_PARTS parts
MAX_PARTS = 4
PIECE = 4 << 20
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*>")
_ROW_WITH_NUMBER = re.compile(rb'\s*<(?:\w+:)?row\b[^>]*\sr\s*=\s*["\'][0-9]+["\']')
_NO_MERGES = b"<mergeCells></mergeCells>"  # found first, calamine's search for merged cells ends here
# What makes weiwen read the sheet the usual way instead (which then reports what is wrong);
# NotImplementedError: a compression Python's zipfile cannot inflate (Deflate64), calamine can.
_FAILURES = (calamine.CalamineError, calamine.ZipError, calamine.XmlError, OSError, ValueError,
             zipfile.BadZipFile, zlib.error, EOFError, KeyError, NotImplementedError)


@dataclass
class PartedSheet:
    rows: list[list[object]]
    merged: list[tuple[int, int, int, int]]
    marks: SheetMarks


def part_count(sheet_bytes: int, shared_strings_bytes: int) -> int:
    """How many parts to cut a sheet into (1: not worth it).

    Every part is a workbook of its own, so calamine parses the shared-string table once per
    part: where that table is large against the sheet (Excel and WPS keep all text there), fewer
    parts.  Measured on a million-row roster: inline text 11.1 s whole, 5.7-6.1 s in 4 parts;
    an 82 MB shared-string table beside a 416 MB sheet 10.1 s whole, 7.5 s in 2, 8.4 s in 4."""
    if sheet_bytes < SPLIT_BYTES:
        return 1
    n = min(MAX_PARTS, max(2, -(-sheet_bytes // PART_BYTES)))
    if shared_strings_bytes * 8 > sheet_bytes:
        n = min(n, 2)
    return n


def read_in_one_part(zf: zipfile.ZipFile, member: str, sheet: str) -> PartedSheet | None:
    """A small sheet (XML under :data:`SMALL_BYTES`) read as one part, in memory: the same
    workbook stored, with the empty ``<mergeCells>`` before the rows, so that calamine neither
    inflates the sheet nor reads it twice, and the marks and merged ranges found on the one
    inflate weiwen does anyway.  A village's file (500 rows): 7.3-7.9 ms -> 4.8-5.9 ms.
    ``None`` when it must be read the usual way.

    A member Python cannot inflate because it is damaged (a CRC that does not match, a broken
    deflate stream) raises: calamine, which checks no CRC, would read the damaged XML whole, past
    :func:`check_extent`, and a flipped bit can make a cell reference that lays out 512 GB (found by
    tests/fuzz/fuzz_readers.py; the process aborted)."""
    try:
        # Never more than declared: ``zf.read`` inflates all the data there is before cutting it to
        # the declared size (a member declared as 1 KB that holds 500 MB took 1 GB here, #19).
        with zf.open(member) as stream:
            xml = stream.read(zf.getinfo(member).file_size)
    except zipfile.BadZipFile:  # the CRC does not match: a member longer than declared is said as such
        if zf.fp is not None:
            check_member(zf.fp, zf.getinfo(member))
        raise
    except NotImplementedError:  # a compression zipfile does not implement (Deflate64): calamine reads it
        return None
    try:
        m = _SHEET_DATA.search(xml)
        if m is None or m.group(0).endswith(b"/>"):
            return None
        check_extent(xml)  # before calamine lays the grid out: a far cell would abort the process
        scanner = MarkScanner()
        scanner.feed(xml)
        end = after_last_row(xml)
        merged = merged_ranges(xml[:m.start()]) or merged_ranges(xml[end if end >= 0 else m.end():])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for name, data in _carried(zf):
                out.writestr(name, data)
            out.writestr(member, xml[:m.start()] + _NO_MERGES + calamine_errors(xml[m.start():]))
        buf.seek(0)
        with calamine.CalamineWorkbook.from_filelike(buf) as wb:
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except _FAILURES:
        return None
    return PartedSheet(rows=rows, merged=merged, marks=scanner.marks)


def read_in_parts(path: Path, member: str, sheet: str, parts: int) -> PartedSheet | None:
    """The sheet ``sheet`` (XML in the zip member ``member`` of ``path``) read in ``parts`` parts,
    or ``None`` when it must be read whole."""
    try:
        with tempfile.TemporaryDirectory(prefix="weiwen-") as folder, \
                ThreadPoolExecutor(max_workers=2) as pool:
            cutter = _Cutter(path, member, sheet, parts, Path(folder), pool)
            producer = threading.Thread(target=cutter.run, name="weiwen-cut", daemon=True)
            producer.start()
            try:
                placed = _Placer()
                for future in cutter.parsed():
                    sh = future.result()
                    placed.add(sh.start, sh.end, sh.to_python(skip_empty_area=True))
                    del sh, future  # the part's cells, as calamine holds them, are freed here
            finally:
                cutter.stop = True
                producer.join()
            if isinstance(cutter.failure, SheetTooLarge):
                raise cutter.failure
            if cutter.failure is not None or not cutter.whole:
                return None
            rows = placed.rows()
    except _FAILURES:
        return None
    finally:
        _give_back_freed_memory()
    if rows is None:
        return None
    return PartedSheet(rows=rows, merged=cutter.merged, marks=cutter.scanner.marks)


def _give_back_freed_memory() -> None:
    """Return to the system the memory the parts' cells took, now freed.

    glibc gives each worker thread its own malloc arena, and memory freed there is kept for that
    thread: the rest of the run (on the main thread) cannot reuse it.  Without this, the checks
    that follow the read of a million rows peaked 90 MB higher (2,389 MB against 2,298 MB).
    ``malloc_trim`` is glibc's (Linux); elsewhere there is nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _Cutter:
    """Cuts the sheet XML into part workbooks (on its own thread) and hands each to the pool."""

    def __init__(self, path: Path, member: str, sheet: str, parts: int, folder: Path, pool: ThreadPoolExecutor):
        self.path, self.member, self.sheet, self.parts = path, member, sheet, parts
        self.folder, self.pool = folder, pool
        self.futures: list[Future[calamine.CalamineSheet] | None] = []  # None once handed out
        self.ready = threading.Condition()
        self.done = False
        self.whole = False  # every piece of the sheet went into a part
        self.stop = False  # the reading side gave up: stop cutting
        self.failure: BaseException | None = None
        self.scanner = MarkScanner()
        self.merged: list[tuple[int, int, int, int]] = []
        self.writing: _Part | None = None  # the part being written

    def parsed(self) -> Iterator[Future[calamine.CalamineSheet]]:
        """The parse of each part, in order, as they are started.  Only the caller keeps a part's
        parse once it is handed out, so that its cells are freed as soon as they are turned
        into Python rows."""
        given = 0
        while True:
            with self.ready:
                while given == len(self.futures) and not self.done:
                    self.ready.wait()
                if given == len(self.futures):
                    return
                future, self.futures[given] = self.futures[given], None
            assert future is not None
            yield future
            given += 1

    def run(self) -> None:
        try:
            self._cut()
        except (*_FAILURES, SheetTooLarge) as exc:  # the reading side then reads the sheet whole, or refuses it
            self.failure = exc
        finally:  # whatever happened, the reading side stops waiting (``whole`` says if all went well)
            with self.ready:
                self.done = True
                self.ready.notify_all()

    def _cut(self) -> None:
        try:
            self._cut_parts()
        finally:
            if self.writing is not None:  # stopped or failed half-way: close the part being written
                self.writing.discard()

    def _cut_parts(self) -> None:
        with zipfile.ZipFile(self.path) as zf:
            info = zf.getinfo(self.member)
            others = _carried(zf)
            target = info.file_size // self.parts
            part: _Part | None = None
            prefix = closing = b""
            size, last = 0, b""
            extent = ExtentWatch()
            with zf.open(info) as stream:
                for piece in pieces(stream, PIECE):
                    if self.stop:
                        return
                    extent.feed(piece)  # before calamine lays a part out: bounded rows x columns
                    self.scanner.feed(piece)
                    last = piece
                    if part is None:  # the first piece: everything before the rows is every part's prefix
                        m = _SHEET_DATA.search(piece)
                        if m is None or m.group(0).endswith(b"/>"):
                            raise ValueError("no rows in the first piece")
                        p = m.group(1) or b""
                        self.merged = merged_ranges(piece[:m.start()])  # out of place, but calamine reads them
                        prefix = piece[:m.start()] + _NO_MERGES + piece[m.start():m.end()]
                        closing = b"</" + p + b"sheetData></" + p + b"worksheet>"
                        part = self._open(others)
                        part.write(prefix)
                        part.write(calamine_errors(piece[m.end():]))
                        size = len(piece)
                        continue
                    if size >= target and len(self.futures) < self.parts - 1 and _ROW_WITH_NUMBER.match(piece):
                        part.write(closing)
                        self._submit(part)
                        part = self._open(others)
                        part.write(prefix)
                        size = 0
                    part.write(calamine_errors(piece))
                    size += len(piece)
            if part is None:
                raise ValueError("empty sheet XML")
            # The last piece is what follows the rows; calamine reads the first <mergeCells> only.
            self.merged = self.merged or merged_ranges(last)
            self._submit(part)
            self.whole = True

    def _open(self, others: list[tuple[str, bytes]]) -> _Part:
        self.writing = _Part(self.folder / f"part{len(self.futures)}.xlsx", self.member, others)
        return self.writing

    def _submit(self, part: _Part) -> None:
        part.close()
        self.writing = None
        future = self.pool.submit(_parse, part.path, self.sheet)
        with self.ready:
            self.futures.append(future)
            self.ready.notify_all()


class _Part:
    """One part workbook being written: stored, not compressed (calamine then need not inflate it)."""

    def __init__(self, path: Path, member: str, others: list[tuple[str, bytes]]):
        self.path = path
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED)
        for name, data in others:
            self.zip.writestr(name, data)
        self.stream = self.zip.open(member, "w", force_zip64=True)

    def write(self, data: bytes) -> None:
        self.stream.write(data)

    def close(self) -> None:
        self.stream.close()
        self.zip.close()

    def discard(self) -> None:
        """Close a part that will not be read (its folder is removed with it)."""
        with contextlib.suppress(OSError, ValueError):
            self.stream.close()
        with contextlib.suppress(OSError, ValueError):
            self.zip.close()


def _carried(zf: zipfile.ZipFile) -> list[tuple[str, bytes]]:
    """The workbook's parts every part workbook carries as they are: all but the sheets' XML
    (each part holds only its own sheet's rows) and pictures."""
    return [(info.filename, zf.read(info)) for info in zf.infolist()
            if not info.filename.startswith(("xl/worksheets/", "xl/media/"))
            or info.filename.startswith("xl/worksheets/_rels/")]


def _parse(path: Path, sheet: str) -> calamine.CalamineSheet:
    try:
        with calamine.CalamineWorkbook.from_path(str(path)) as wb:
            return wb.get_sheet_by_name(sheet)
    finally:
        path.unlink(missing_ok=True)


class _Placer:
    """The parts' rows at their places, as ``to_python(skip_empty_area=False)`` gives a whole
    sheet: from A1 to the last non-empty cell, every row as wide as the widest, empty cells "".

    A part narrower than the ones before it (a roster whose last column is only filled in the
    header, like 备注) is widened as soon as it is added, so that the lists it frees are reused
    by the next part's rows instead of being left behind (86 MB on a million rows)."""

    def __init__(self) -> None:
        self.out: list[list[object]] = []
        self.width = 0
        self.overlap = False

    def add(self, start: tuple[int, int] | None, end: tuple[int, int] | None, rows: list[list[object]]) -> None:
        if start is None or end is None:  # a part with no cell in it
            return
        if start[0] < len(self.out):
            self.overlap = True
            return
        self.width = max(self.width, end[1] + 1)
        self.out.extend([""] * self.width for _ in range(start[0] - len(self.out)))
        if start[1] or end[1] + 1 < self.width:
            self.out.extend(_widen(rows, start[1], self.width - 1 - end[1]))
        else:
            self.out.extend(rows)

    def rows(self) -> list[list[object]] | None:
        """All rows, or ``None`` when parts overlapped (rows written out of order)."""
        if self.overlap:
            return None
        w = self.width
        if any(len(r) < w for r in self.out):  # a later part was wider than earlier ones
            self.out = [r + [""] * (w - len(r)) if len(r) < w else r for r in self.out]
        return self.out


def _widen(rows: list[list[object]], left: int, right: int) -> list[list[object]]:
    """Each row with ``left`` and ``right`` empty cells more: new lists of the exact size, as
    calamine makes them."""
    pad_left, pad_right = [""] * left, [""] * right
    return [pad_left + r + pad_right for r in rows]
