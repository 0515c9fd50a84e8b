"""What python-calamine does not say about an .xlsx sheet: hidden rows, formula cells with no
saved result, and Excel error values (``#N/A``, ``#REF!`` …).

calamine reads all three as ordinary or empty cells, so a row a village hid (a person taken
off the list) would be paid, and a ``#N/A`` left by a failed lookup would read as a blank.
These marks are found by streaming the sheet's XML once, in pieces that end at a row
boundary, and looking closer only where a piece contains ``hidden="``, ``t="e"`` or a formula
element: a sheet without any of them costs one decompression (a million-row sheet: about
2.5 s, run on a thread while calamine parses the same sheet, since both release the GIL).
The workbook's own small parts (the sheet list and its relationships) are parsed with
defusedxml.  Cells are located by their ``r`` attribute, which Excel, WPS and every
library that writes .xlsx put on rows and cells.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from defusedxml import ElementTree

CHUNK = 8 << 20
_SMALL_PART = 64 << 20  # the sheet list and relationships are tiny; refuse absurd ones
_PREFIX = re.compile(rb"<(\w+:)?worksheet\b")
_CELL_REF = re.compile(rb"^([A-Z]{1,3})([0-9]{1,7})$")
_ATTR = re.compile(rb'\b(r|t)="([^"]*)"')


@dataclass
class SheetMarks:
    """Rows and cells of one sheet, 0-based like :class:`~weiwen.read.workbook.RawSheet`."""

    hidden_rows: list[int] = field(default_factory=list)
    no_value: list[tuple[int, int]] = field(default_factory=list)  # formula cells with no saved result
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, "#N/A")
    unchecked: str = ""  # why the sheet could not be looked at (then nothing above is known)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from xl/workbook.xml and its relationships."""
    try:
        book = _small_xml(zf, "xl/workbook.xml")
        rels = _small_xml(zf, "xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for rel in rels.iter():
        if rel.tag.endswith("Relationship") and rel.get("Id") and rel.get("Target"):
            target = rel.get("Target", "")
            path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id")] = path
    parts = {}
    for sheet in book.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        name = sheet.get("name")
        if name is not None and rid in targets:
            parts[name] = targets[rid]
    return parts


def _small_xml(zf: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = zf.getinfo(name)
    if info.file_size > _SMALL_PART:
        raise ValueError(f"{name} 过大")
    return ElementTree.fromstring(zf.read(info))


def scan_sheet(stream: IO[bytes], chunk: int = CHUNK) -> SheetMarks:
    """Marks of the sheet XML read from ``stream``."""
    scanner = MarkScanner()
    for piece in pieces(stream, chunk):
        scanner.feed(piece)
    return scanner.marks


class MarkScanner:
    """The marks of a sheet whose XML is given piece by piece, in order (see :func:`pieces`)."""

    def __init__(self) -> None:
        self.marks = SheetMarks()
        self.finder: _Finder | None = None

    def feed(self, piece: bytes) -> None:
        if self.finder is None:  # the first piece holds the root element: its namespace prefix, if any
            found = _PREFIX.search(piece)
            self.finder = _Finder((found.group(1) or b"") if found else b"")
        self.finder.scan(piece, self.marks)


_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\sref\s*=\s*[\"']([A-Z]+[0-9]+)(?::([A-Z]+[0-9]+))?[\"']")


_ERROR_CELL = re.compile(rb"""<((?:\w+:)?)c\b[^>]*?\st\s*=\s*["']e["'][^>]*>.*?</\1c>""", re.S)
_UNSUPPORTED = re.compile(rb"(<(?:\w+:)?v>)\s*#(?!(?:N/A|DIV/0!|NAME\?|NULL!|NUM!|REF!|VALUE!)\s*<)[^<]*(</(?:\w+:)?v>)")


def calamine_errors(xml: bytes) -> bytes:
    """``xml`` with every error value python-calamine does not know (``#GETTING_DATA``, ``#SPILL!``,
    ``#CALC!`` …: it refuses the whole sheet over one of them) written as ``#N/A``.  The marks
    (found in the XML as it was) report each at its cell with its own text; calamine reads an
    error cell as a blank either way.  A sheet without ``t="e"`` is returned as it is."""
    if b't="e"' not in xml and b"t='e'" not in xml:
        return xml
    return _ERROR_CELL.sub(lambda m: _UNSUPPORTED.sub(rb"\1#N/A\2", m.group(0)), xml)


def merged_ranges(tail: bytes) -> list[tuple[int, int, int, int]]:
    """The merged ranges (r0, c0, r1, c1; 0-based, inclusive) listed in ``tail``, the part of a
    sheet's XML after its rows, in the order written (as calamine reports them)."""
    out = []
    for m in _MERGE.finditer(tail):
        first = _cell_at(m.group(1))
        last = _cell_at(m.group(2)) if m.group(2) else first
        if first is not None and last is not None:
            out.append((*first, *last))
    return out


def pieces(stream: IO[bytes], chunk: int) -> Iterator[bytes]:
    """The XML in pieces that end just after a ``</row>``: no row is ever split."""
    carry = b""
    while block := stream.read(chunk):
        buf = carry + block if carry else block
        cut = after_last_row(buf)
        if cut < 0:
            carry = buf
            continue
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry


def after_last_row(buf: bytes) -> int:
    """Position just after the last closing row tag (``</row>`` or ``</x:row>``), or -1."""
    end = len(buf)
    while (at := buf.rfind(b"row>", 0, end)) >= 0:
        tag = buf[buf.rfind(b"<", 0, at):at]  # "</", "</x:", or "<" for an opening <row>
        if tag.startswith(b"</") and (len(tag) == 2 or tag.endswith(b":")):
            return at + 4
        end = at
    return -1


def _tag_start(piece: bytes, opening: bytes, pos: int) -> int:
    """Start of the last ``opening`` tag (followed by white space) before ``pos``, or -1."""
    while (start := piece.rfind(opening, 0, pos)) >= 0:
        if piece[start + len(opening):start + len(opening) + 1] in (b" ", b"\t", b"\r", b"\n"):
            return start
        pos = start
    return -1


class _Finder:
    def __init__(self, prefix: bytes):
        p = re.escape(prefix)
        self.cell_open = b"<" + prefix + b"c"
        self.cell_close = b"</" + prefix + b"c>"
        self.formula_end = b"</" + prefix + b"f>"
        self.formulas = False  # a formula was seen: shared formulas' later cells have no "</f>"
        self.hidden_row = re.compile(rb"<" + p + rb'row\b[^>]*\bhidden="(?:1|true)"[^>]*>')
        # A formula followed by no value, or by an empty one, then the end of the cell.
        self.unsaved = re.compile(rb"<" + p + rb"f\b[^>]*(?:/>|>[^<]*</" + p + rb"f>)\s*"
                                  rb"(<" + p + rb"v\s*/>|<" + p + rb"v>\s*</" + p + rb"v>)?\s*</" + p + rb"c>")
        self.value = re.compile(rb"<" + p + rb"v>([^<]*)</" + p + rb"v>")

    def scan(self, piece: bytes, marks: SheetMarks) -> None:
        if b'hidden="' in piece:
            for m in self.hidden_row.finditer(piece):
                r = dict(_ATTR.findall(m.group(0))).get(b"r")
                if r is not None and r.isdigit():
                    marks.hidden_rows.append(int(r) - 1)
        if self.formulas or self.formula_end in piece:
            self.formulas = True
            for m in self.unsaved.finditer(piece):
                attrs = self._cell_attrs(piece, m.start())
                if attrs is None:
                    continue
                if m.group(1) is not None and attrs.get(b"t") == b"str":
                    continue  # a formula whose saved result is the empty text
                at = _cell_at(attrs.get(b"r"))
                if at is not None:
                    marks.no_value.append(at)
        if b't="e"' in piece:
            pos = piece.find(b't="e"')
            while pos >= 0:
                start = _tag_start(piece, self.cell_open, pos)
                end = piece.find(self.cell_close, pos)
                if start >= 0 and end >= 0:
                    tag_end = piece.find(b">", start)
                    attrs = dict(_ATTR.findall(piece[start:tag_end]))
                    at = _cell_at(attrs.get(b"r")) if attrs.get(b"t") == b"e" else None
                    value = self.value.search(piece, tag_end, end)
                    if at is not None and value is not None:
                        marks.errors.append((*at, value.group(1).decode("utf-8", "replace").strip()))
                pos = piece.find(b't="e"', pos + 5)

    def _cell_attrs(self, piece: bytes, pos: int) -> dict[bytes, bytes] | None:
        start = _tag_start(piece, self.cell_open, pos)
        if start < 0:
            return None
        return dict(_ATTR.findall(piece[start:piece.find(b">", start)]))


MAX_GRID_CELLS = 60_000_000  # rows × columns calamine may lay out (8 bytes each as Python: about 0.5 GB)
MAX_COLUMNS = 702  # ZZ: no roster is wider; a cell beyond it only makes the sheet's grid enormous
_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
# A literal start ('r="'), so the search runs at memchr speed: 0.04 s per 64 MB of sheet XML (the
# general form, with optional spaces and a tag prefix, took 0.75 s); rows' r="" hold digits only.
# Looked for: a column of two letters or more (beyond Z, where a width begins) or a row number of
# seven digits or more (from row 1,000,000): as cheap as the three letters looked for before.
_FAR = (re.compile(rb'r="[A-Z](?:[A-Z]{1,2}[0-9]|[0-9]{7})'), re.compile(rb"r='[A-Z](?:[A-Z]{1,2}[0-9]|[0-9]{7})"))
_ANY_REF = re.compile(rb"""r=["']([A-Z]{1,3})([0-9]+)["']""")
_LAST_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]{0,3})([0-9]{1,12})["']""")
_NARROW = 26  # the width of a sheet whose cells all stay within A-Z


class SheetTooLarge(Exception):  # not a ValueError: no reader may fall back to laying the grid out anyway
    """A sheet whose cells reach so far that laying it out would take gigabytes (a crafted cell at
    XFD1048576, a damaged reference): refused before any reader allocates the grid."""

    def __init__(self, where: str):
        super().__init__(where)
        self.where = where


def check_extent(xml: bytes) -> None:
    """Refuse the sheet ``xml`` (all of it, in memory) when its grid would be too large."""
    rows = cols = 0
    for m in _REF.finditer(xml):
        at = _cell_at(m.group(0)[m.start(1) - m.start(0):m.end(2) - m.start(0)])
        if at is not None:
            rows, cols = max(rows, at[0] + 1), max(cols, at[1] + 1)
    if cols > MAX_COLUMNS or rows * cols > MAX_GRID_CELLS:
        raise SheetTooLarge(f"单元格延伸到第 {rows} 行、第 {cols} 列，按此排布需要约 {rows * cols / 1e8:.1f} 亿格")


class ExtentWatch:
    """The cheap look at a large sheet read piece by piece (in row order): refuses it as soon as a
    cell lies beyond column ZZ, or the rows so far times the widest column so far pass
    :data:`MAX_GRID_CELLS` (calamine lays each part out as a full grid of that many cells).

    Per piece: one search for a reference with a two-letter column or a seven-digit row (a roster
    within A-Z and under a million rows has none; 0.04 s per 64 MB), and the reference of the
    piece's last cell or row (a sheet's rows ascend: the last is the farthest so far).  Only a
    piece where the search finds one has all its references looked at, so a far row written in the
    middle of a piece is found too (rows under a million times 26 columns stay within the bound)."""

    def __init__(self) -> None:
        self.rows = 0
        self.cols = _NARROW

    def feed(self, piece: bytes) -> None:
        if any(p.search(piece) is not None for p in _FAR):
            for m in _ANY_REF.finditer(piece):
                letters, digits = m.group(1), m.group(2)
                if len(letters) == 3:
                    raise SheetTooLarge(f"有单元格超出第 {MAX_COLUMNS} 列（ZZ 列）")
                if len(letters) == 2:
                    self.cols = max(self.cols, (letters[0] - 64) * 26 + letters[1] - 64)
                if len(digits) >= 7:
                    self.rows = max(self.rows, int(digits))
        at = max(piece.rfind(b' r="'), piece.rfind(b" r='"))
        last = _LAST_REF.match(piece, at) if at >= 0 else None
        if last is not None:
            self.rows = max(self.rows, int(last.group(2)))
        if self.rows * self.cols > MAX_GRID_CELLS:
            raise SheetTooLarge(f"单元格延伸到第 {self.rows} 行、至少第 {self.cols} 列，按此排布需要约 "
                                f"{self.rows * self.cols / 1e8:.1f} 亿格")


def _cell_at(ref: bytes | None) -> tuple[int, int] | None:
    m = _CELL_REF.match(ref or b"")
    if m is None:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ch - 64
    return int(m.group(2)) - 1, col - 1
