"""The marks of :mod:`weiwen.read.sheet_xml` for legacy .xls workbooks: hidden rows and Excel
error values, read with xlrd (python-calamine reads a hidden row as an ordinary one and an
error value as a blank cell).  An .xls always stores a formula's last result, so the
"formula with no saved result" case does not arise.  xlrd parses the whole file in Python:
a village's workbook takes milliseconds, the largest .xls (65,536 rows) a few seconds, on a
thread beside calamine.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlrd

from weiwen.read.sheet_xml import SheetMarks


class XlsMarks:
    """Marks of each sheet of one .xls, read when first asked for."""

    def __init__(self, path: Path):
        self.path = path
        self.book: xlrd.book.Book | None = None

    def of(self, sheet: str) -> SheetMarks:
        if self.book is None:
            # xlrd writes its warnings ("_locate_stream(Workbook): seen") to stdout, into --json output
            self.book = xlrd.open_workbook(str(self.path), formatting_info=True, on_demand=True, logfile=io.StringIO())
        found = self.book.sheet_by_name(sheet)
        marks = SheetMarks(hidden_rows=sorted(r for r, info in found.rowinfo_map.items() if info.hidden))
        for r in range(found.nrows):
            for c, kind in enumerate(found.row_types(r)):
                if kind == xlrd.XL_CELL_ERROR:
                    code = found.cell_value(r, c)
                    marks.errors.append((r, c, xlrd.error_text_from_code.get(code, f"#错误{code}")))
        self.book.unload_sheet(sheet)
        return marks

    def close(self) -> None:
        if self.book is not None:
            self.book.release_resources()
