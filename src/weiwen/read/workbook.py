"""Read roster files into raw sheets: every cell with its type, nothing interpreted yet.

This module (with :mod:`weiwen.read.parted`, which it calls) is the only one that opens
spreadsheets for reading.  Excel files are read with python-calamine (one parse gives the cell
values with their types and the merged ranges); :mod:`weiwen.read.sheet_xml` (.xlsx) and
:mod:`weiwen.read.xls_marks` (.xls) add what calamine does not report (hidden rows, formulas with
no saved result, error values), on a thread for a large sheet.  A very large .xlsx sheet is read
in parts on both cores (:mod:`weiwen.read.parted`), with the same result.  CSV files are decoded
as UTF-8 (with or without BOM) or GB18030, never guessed otherwise.
"""

from __future__ import annotations

import csv
import errno
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine
import xlrd

from weiwen.core import problems as P
from weiwen.core.errors import system_reason
from weiwen.read import budget, parted
from weiwen.read.parted import PartedSheet
from weiwen.read.sheet_xml import ExtentWatch, SheetMarks, SheetTooLarge, scan_sheet, sheet_parts
from weiwen.read.ole import OleDamaged, check_ole
from weiwen.read.sniff import OLE_MAGIC, Format, MemberLies, check_member, sniff
from weiwen.read.xls_marks import XlsMarks

Cell = object  # str | float | int | bool | datetime | date | time | timedelta | None


@dataclass
class RawSheet:
    """Cells of one sheet; ``rows[i]`` is Excel row ``i + 1``, ``rows[i][j]`` column ``j + 1``."""

    file: str
    name: str
    rows: list[list[Cell]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based, inclusive)
    typed: bool = True  # False for CSV, where every cell is text
    marks: SheetMarks = field(default_factory=SheetMarks)  # hidden rows, unsaved formulas, error values


@dataclass
class ReadResult:
    path: Path
    display: str
    format: Format | None = None
    sheets: list[RawSheet] = field(default_factory=list)
    problems: list[P.Problem] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.format is not None and not any(
            p.severity is P.Severity.ERROR and p.sheet is None for p in self.problems
        )


_SHARED_STRINGS = "xl/sharedStrings.xml"
CSV_FIELD_LIMIT = 16 << 20  # one CSV cell up to 16 MB (Python's default, 131,072 characters, is an error on a
# long cell); cells over Excel's 32,767 characters are reported as cell-too-long, not refused with the file
THREADED_SCAN_BYTES = 16 << 20  # a sheet XML this large is scanned on a thread while calamine parses it
# A legacy .xls (BIFF8) has at most 256 columns (IV): a wider grid is a damaged record (calamine lays it
# out as written: 258 x 16,135 cells from a 6.6 KB file, found by tests/fuzz; tests/fuzz/runaways).
XLS_COLUMNS = 256
_EXT_FORMAT = {".xlsx": Format.XLSX, ".xlsm": Format.XLSX, ".xls": Format.XLS, ".csv": Format.CSV, ".txt": Format.CSV}


def read_roster_file(path: Path, sheet: str | None = None, display: str | None = None) -> ReadResult:
    """Read every visible sheet (or the one named ``sheet``) of ``path``.

    Problems with the file itself are returned, never raised.  This is the readers' boundary: a
    damaged or crafted file may make a library raise anything (KeyError for a missing part,
    IndexError, csv.Error, xlrd's AssertionError) or make python-calamine panic (a
    ``PanicException``, which is not an ``Exception``); each becomes ``file-corrupt`` for this
    file, and the other files are read as usual.  What a container declares is checked before
    any reader follows it (an .xls's sector chains, an .xlsx's real member sizes, sheets' grids),
    and a legacy .xls is read in a child process under a memory and time budget
    (:mod:`weiwen.read.budget`): ``file-over-budget`` when it runs out.
    """
    shown = display or str(path)
    if _is_ole(path) and budget.available():  # see weiwen.read.budget: a legacy .xls in a child, bounded
        try:
            return budget.run(_read_at_boundary, path, sheet, shown)
        except budget.OverBudget as exc:
            res = ReadResult(path=path, display=shown)
            what = "内存" if exc.what == "memory" else "时间"
            res.problems.append(P.make("file-over-budget", file=shown, what=what, limit=exc.limit))
            return res
    return _read_at_boundary(path, sheet, shown)


def _is_ole(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(OLE_MAGIC)) == OLE_MAGIC
    except OSError:
        return False  # the reader says what is wrong with it


def _read_at_boundary(path: Path, sheet: str | None, shown: str) -> ReadResult:
    try:
        res = _read(path, sheet, shown)
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except SheetTooLarge as exc:
        res = ReadResult(path=path, display=shown)
        res.problems.append(P.make("sheet-too-large", file=shown, detail=exc.where))
        return res
    except (MemberLies, OleDamaged) as exc:  # the container's own tables lie: checked before any reader
        res = ReadResult(path=path, display=shown)
        res.problems.append(P.make("file-corrupt", file=shown, reason=str(exc)))
        return res
    except BaseException as exc:  # noqa: BLE001 - see the docstring: the file is damaged, not weiwen
        res = ReadResult(path=path, display=shown)
        res.problems.append(P.make("file-corrupt", file=shown, reason=_short(exc)))
        return res
    for raw in res.sheets:
        raw.merged = _within(raw)
    return res


def _within(sheet: RawSheet) -> list[tuple[int, int, int, int]]:
    """The merged ranges clipped to the cells the sheet has: a range written A1:XFD1048576 means
    no more than the cells there are (and would otherwise be walked cell by cell)."""
    if not sheet.merged:
        return sheet.merged
    last_row = len(sheet.rows) - 1
    last_col = max((len(r) for r in sheet.rows), default=0) - 1
    out = []
    for r0, c0, r1, c1 in sheet.merged:
        if r0 <= last_row and c0 <= last_col:
            out.append((r0, c0, min(r1, last_row), min(c1, last_col)))
    return out


def _read(path: Path, sheet: str | None, shown: str) -> ReadResult:
    res = ReadResult(path=path, display=shown)
    res = ReadResult(path=path, display=shown)

    def fail(code: str, **fields: object) -> ReadResult:
        res.problems.append(P.make(code, file=shown, **fields))
        return res

    if not path.exists():
        if path.is_symlink():  # a link to nothing, or links that lead back to themselves
            try:
                path.stat()
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return fail("file-unreadable", reason=f"{system_reason(exc)}（{shown} 是指向自身的链接）")
        return fail("file-not-found", path=shown)
    if path.is_dir():
        return fail("file-is-directory", path=shown)
    try:
        sniffed = sniff(path)
    except OSError as exc:
        return fail("file-unreadable", reason=system_reason(exc))

    fmt = sniffed.format
    if fmt is Format.EMPTY:
        return fail("file-empty")
    if fmt is Format.ENCRYPTED:
        return fail("file-encrypted")
    if fmt is Format.HTML:
        return fail("file-is-html")
    if fmt is Format.UNKNOWN:
        if sniffed.detail.startswith("corrupt:"):
            return fail("file-corrupt", reason=sniffed.detail.split(":", 1)[1])
        if sniffed.detail.startswith("toolarge:"):
            return fail("file-too-large", detail=sniffed.detail.split(":", 1)[1])
        return fail("file-unsupported", detail=sniffed.detail)

    ext_fmt = _EXT_FORMAT.get(path.suffix.lower())
    if fmt is Format.CSV and ext_fmt not in (Format.CSV, None):
        # Text content behind an Excel extension: not a workbook at all.
        return fail("file-unsupported", detail=f"扩展名为 {path.suffix}，内容却是纯文本")
    if ext_fmt is not None and ext_fmt is not fmt:
        res.problems.append(
            P.make("file-ext-mismatch", file=shown, ext=path.suffix, actual=fmt.value)
        )
    if fmt is Format.XLS:
        try:
            ole = check_ole(path)  # raises OleDamaged: a chain that loops or leaves the file
        except OSError as exc:
            return fail("file-unreadable", reason=system_reason(exc))
        if ole.encrypted:
            return fail("file-encrypted")
    elif fmt is Format.XLSX:
        _check_members(path, _read_before_sheets)
    res.format = fmt
    if fmt is Format.CSV:
        _read_csv(path, res)
    else:
        _read_excel(path, res, sheet)
    return res


def _read_before_sheets(name: str) -> bool:
    """The members python-calamine may inflate when it opens a workbook (all but the sheets,
    which weiwen reads itself or checks one by one, and pictures, which nobody reads)."""
    return not (name.startswith("xl/worksheets/") and name.endswith(".xml")) and not name.startswith("xl/media/")


def _check_members(path: Path, which: Callable[[str], bool], sheets: bool = False) -> None:
    """Raise :class:`MemberLies` when a member ``which`` selects inflates to more than declared;
    with ``sheets``, :class:`SheetTooLarge` when its cells reach too far (an :class:`ExtentWatch`
    looks at the inflated XML on the way)."""
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for info in zf.infolist():
            if which(info.filename):
                check_member(fh, info, ExtentWatch().feed if sheets else None)


def _read_excel(path: Path, res: ReadResult, wanted: str | None) -> None:
    shown = res.display
    try:
        if _EXT_FORMAT.get(path.suffix.lower()) is res.format:
            wb = calamine.CalamineWorkbook.from_path(str(path))
        else:  # calamine picks its reader by the extension: an .xlsx renamed .xls is opened by content
            with path.open("rb") as fh:
                wb = calamine.CalamineWorkbook.from_filelike(fh)
    except calamine.PasswordError:
        res.problems.append(P.make("file-encrypted", file=shown))
        res.format = None
        return
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, OSError, ValueError) as exc:
        res.problems.append(P.make("file-corrupt", file=shown, reason=_short(exc)))
        res.format = None
        return
    with wb, _OwnReads(path, res.format) as own:
        metas = [m for m in wb.sheets_metadata if m.typ == calamine.SheetTypeEnum.WorkSheet]
        if wanted is not None:
            names = [m.name for m in metas]
            if wanted not in names:
                res.problems.append(
                    P.make("sheet-not-found", file=shown, sheet=wanted, available="、".join(names))
                )
                return
            metas = [m for m in metas if m.name == wanted]
        for meta in metas:
            if wanted is None and meta.visible != calamine.SheetVisibleEnum.Visible:
                res.problems.append(P.make("sheet-hidden", file=shown, sheet=meta.name))
                continue
            got = own.own_read(meta.name)
            if got is not None:
                res.sheets.append(RawSheet(file=shown, name=meta.name, rows=got.rows, merged=got.merged,
                                           marks=got.marks))
                continue
            own.check_sheet(meta.name)  # calamine inflates it from the file: not more than it declares
            try:
                found = own.start(meta.name)
                sh = wb.get_sheet_by_name(meta.name)
                if res.format is Format.XLS and sh.width > XLS_COLUMNS:  # a damaged record: see XLS_COLUMNS
                    raise SheetTooLarge(f"有单元格超出第 {XLS_COLUMNS} 列（.xls 最多 IV 列），文件记录已损坏")
                rows = sh.to_python(skip_empty_area=False)
                merged = [(a[0], a[1], b[0], b[1]) for a, b in (sh.merged_cell_ranges or [])]
                sheet_marks = found()
            except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError,
                    zipfile.BadZipFile, zlib.error, EOFError) as exc:
                res.problems.append(P.make("file-corrupt", file=shown, sheet=meta.name, reason=_short(exc)))
                continue
            res.sheets.append(RawSheet(file=shown, name=meta.name, rows=rows, merged=merged, marks=sheet_marks))


class _OwnReads:
    """What weiwen reads of a workbook itself, beside calamine.  ``own_read(name)``: an .xlsx
    sheet read in memory or in parts, marks and merged ranges included (:mod:`weiwen.read.parted`),
    or ``None``.  ``start(name)``: for a sheet calamine reads whole, the :class:`SheetMarks` (an
    .xlsx's XML scanned, an .xls read with xlrd) begun on a thread when the sheet is large; it
    returns the function that gives the result."""

    def __init__(self, path: Path, fmt: Format):
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.parts: dict[str, str] = {}
        self.xls = XlsMarks(path) if fmt is Format.XLS else None
        self.pool: ThreadPoolExecutor | None = None
        self.failure: str | None = None

    def __enter__(self) -> _OwnReads:
        if self.xls is None and zipfile.is_zipfile(self.path):
            try:
                self.zip = zipfile.ZipFile(self.path)
                self.parts = sheet_parts(self.zip)
            except (zipfile.BadZipFile, OSError, ValueError, SyntaxError) as exc:  # SyntaxError: ParseError
                self.failure = f"工作簿目录无法解析：{_short(exc)}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        if self.zip is not None:
            self.zip.close()
        if self.xls is not None:
            self.xls.close()

    def own_read(self, sheet: str) -> PartedSheet | None:
        """A small sheet read in memory in one pass, a large one in parts on both cores (marks
        and merged ranges found on the way), or ``None``: calamine reads it whole."""
        member = self.parts.get(sheet)
        if self.zip is None or member is None or self.failure is not None:
            return None
        names = set(self.zip.namelist())
        if member not in names:
            return None
        size = self.zip.getinfo(member).file_size
        if size < parted.SMALL_BYTES:
            return parted.read_in_one_part(self.zip, member, sheet)
        sst = self.zip.getinfo(_SHARED_STRINGS).file_size if _SHARED_STRINGS in names else 0
        n = parted.part_count(size, sst)
        return parted.read_in_parts(self.path, member, sheet, n) if n > 1 else None

    def check_sheet(self, sheet: str) -> None:
        """Before calamine inflates the sheet ``sheet`` from the file and lays it out: raise
        :class:`MemberLies` when its XML (every sheet's, when which member holds it is not known)
        inflates to more than its headers declare, :class:`SheetTooLarge` when its cells reach
        too far (a sheet of 16-48 MB of XML, or one whose read in parts failed, comes here)."""
        if self.xls is not None:
            return
        member = self.parts.get(sheet)
        _check_members(self.path, (lambda name: name == member) if member is not None
                       else (lambda name: not _read_before_sheets(name) and not name.startswith("xl/media/")),
                       sheets=True)

    def start(self, sheet: str) -> Callable[[], SheetMarks]:
        if self.failure is not None:
            raise ValueError(self.failure)
        if self.xls is not None:
            xls = self.xls

            def scan() -> SheetMarks:
                try:
                    return xls.of(sheet)
                except (xlrd.XLRDError, xlrd.compdoc.CompDocError, NotImplementedError, KeyError, IndexError,
                        struct.error, AssertionError) as exc:  # calamine read the cells; xlrd's second look failed
                    return SheetMarks(unchecked=_short(exc))

            big = self.path.stat().st_size >= THREADED_SCAN_BYTES // 4
        else:
            member = self.parts.get(sheet)
            if self.zip is None or member is None:
                return SheetMarks
            zf = self.zip

            def scan() -> SheetMarks:
                try:
                    with zf.open(member) as stream:
                        return scan_sheet(stream)
                except NotImplementedError as exc:  # a compression zipfile does not implement (Deflate64, for one)
                    return SheetMarks(unchecked=_short(exc))

            big = zf.getinfo(member).file_size >= THREADED_SCAN_BYTES
        if not big:
            return scan
        self.pool = self.pool or ThreadPoolExecutor(max_workers=1)
        return self.pool.submit(scan).result


def _read_csv(path: Path, res: ReadResult) -> None:
    data = path.read_bytes()
    text = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        res.problems.append(P.make("encoding-unknown", file=res.display))
        res.format = None
        return
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        rows: list[list[Cell]] = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        res.problems.append(P.make("file-corrupt", file=res.display, reason=f"文本表格的格式有误：{exc}"))
        res.format = None
        return
    res.sheets.append(RawSheet(file=res.display, name=path.stem, rows=rows, typed=False))


def _short(exc: BaseException) -> str:
    """A damaged file's reason, in Chinese (the libraries' messages are English)."""
    return system_reason(exc)
