"""The problems of one sheet as they are found, with the rows that carry an error."""

from __future__ import annotations



from weiwen.core import problems as P
from weiwen.read.workbook import RawSheet
from weiwen.roster.layout import SheetLayout, col_letter


class Collector:
    """Problems of one sheet, with the rows that carry an error."""

    def __init__(self, sheet: RawSheet, layout: SheetLayout):
        self.sheet = sheet
        self.layout = layout
        self.problems: list[P.Problem] = []
        self.bad_rows: set[int] = set()

    def add(self, code: str, row: int | None, key: str | None = None, shown: str | None = None,
            **fields: object) -> None:
        """Record a problem at ``row`` in the column of field ``key``; ``shown`` is the (masked) value."""
        column = cell = None
        if key is not None and key in self.layout.columns:
            j = self.layout.columns[key]
            column = self.layout.headers[j]
            cell = f"{col_letter(j)}{row}" if row else None
        p = P.make(code, file=self.sheet.file, sheet=self.sheet.name, row=row, column=column, cell=cell,
                   value=shown, **fields)
        self.problems.append(p)
        if p.severity is P.Severity.ERROR and row is not None:
            self.bad_rows.add(row)
