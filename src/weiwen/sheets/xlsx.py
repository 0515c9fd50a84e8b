"""Workbook writing with XlsxWriter, set up so data can never become a formula or a link.

Text is written as text (no string becomes a formula, a link or a number), and a text cell that
starts like a formula (= + - @, a tab, CR, NUL or {=; HAZARDS row 38) also carries Excel's quote
prefix (``quotePrefix="1"`` on its cell format, what typing a leading ' gives): should someone
retype or copy the cell in Excel, it stays text.  :class:`Workbook` does this for every string
a worksheet writes — ``write``, ``write_string``, ``write_row``, ``merge_range`` — with a copy of
the cell's format that adds the prefix, so no writer has to remember it.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

FIXED_TIME = datetime(2000, 1, 1)  # document timestamps fixed: same inputs, same bytes
# The formats every printed table shares: its title above, its header row (wrapped, light blue).
TITLE = {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "text_wrap": True}
HEAD = {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#DDEBF7"}


# A text cell starting with one of these could be read as a formula by a spreadsheet program.
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r", "\0", "{=")


class QuotingWorksheet(Worksheet):
    """A worksheet whose text cells that start like a formula get the quote prefix (see the module)."""

    quoted: Any = None  # the workbook's Workbook.quoted, set when the sheet is added

    def _write_string(self, row: int, col: int, string: str, cell_format: Format | None = None) -> Any:
        # XlsxWriter's one place where every string cell is stored (write, write_string, write_row, merge_range).
        if string.startswith(FORMULA_LIKE) and self.quoted is not None:
            cell_format = self.quoted(cell_format)
        return super()._write_string(row, col, string, cell_format)


class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook whose sheets quote text that starts like a formula."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._properties: dict[int, dict[str, Any]] = {}
        self._quoted: dict[int, Format] = {}
        super().__init__(*args, **kwargs)

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        made = super().add_format(properties)
        self._properties[id(made)] = dict(properties or {})
        return made

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Worksheet:
        sheet = super().add_worksheet(name, worksheet_class or QuotingWorksheet)
        sheet.quoted = self.quoted
        return sheet

    def quoted(self, cell_format: Format | None) -> Format:
        """``cell_format`` with the quote prefix added (a format not made by this workbook's
        ``add_format``, whose properties are unknown here, is left as it is: the cell is text all the same)."""
        key = id(cell_format)
        if key not in self._quoted:
            given = {} if cell_format is None else self._properties.get(key)
            if given is None:
                return cell_format  # type: ignore[return-value]
            self._quoted[key] = self.add_format({**given, "quote_prefix": True})
        return self._quoted[key]


def new_workbook(path: Path, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    wb = Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": constant_memory,
        },
    )
    wb.set_properties({"author": "weiwen", "created": FIXED_TIME})
    return wb


def print_a4_landscape(ws: xlsxwriter.worksheet.Worksheet, *, header_row: int | None = 1,
                       footer: str = "&C第 &P 页，共 &N 页") -> None:
    """The print setup of every table weiwen writes: A4 landscape, one page wide, the header row
    (``header_row``, 0-based) repeated on every page, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    if header_row is not None:
        ws.repeat_rows(header_row)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer(footer)


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def normalize_xlsx(path: Path | BinaryIO) -> None:
    """Fix the document timestamps of a workbook written by rust_xlsxwriter, in place (a file, or
    a workbook in memory).

    The writer stamps the time of writing into docProps/core.xml (its zip entries are already
    dated 1980-01-01); with it fixed, the same inputs give byte-identical workbooks.  Only the
    entries from docProps/core.xml to the end of the archive are rewritten (the writer puts
    core.xml and app.xml last), so the hundreds of megabytes of sheets before it are neither
    decompressed nor compressed again: zipfile's append mode, started at core.xml's offset,
    writes those entries and a new central directory, then truncates the rest.
    """
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "a") as z:
        infos = z.infolist()
        at = next((k for k, info in enumerate(infos) if info.filename == "docProps/core.xml"), None)
        if at is None:
            return
        tail = [(info, z.read(info)) for info in infos[at:]]
        for info, _ in tail:
            del z.NameToInfo[info.filename]
        del z.filelist[at:]
        z.start_dir = tail[0][0].header_offset  # the next entry is written where core.xml began
        for info, data in tail:
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            z.writestr(entry, data, compresslevel=6)
