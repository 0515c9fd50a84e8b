"""Before any field is parsed: what the sheet's shape and habits say about its cells.

Blank markers (无, /, —), 同上 and empty cells under a household's first row, text guards ('123,
="123"), cells too long for Excel, merged cells and the reader's marks (hidden rows, formulas
without values, error values) become problems or filled values here.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core import problems as P
from weiwen.read.workbook import RawSheet
from weiwen.roster.layout import HOUSEHOLD_FIELDS, PERSON_FIELDS, SheetLayout, cell_text, col_letter
from weiwen.core.text import clean
from weiwen.model.vocab import Vocabulary
from weiwen.roster.collect import Collector


_MARKER_WORDS = ("无", "没有", "暂无", "空", "否", "/", "／", "\\", "-", "－", "--", "—", "——")  # not "一": 1
_MARKER_PADS = ("", " ", "  ", "\u3000", "\t")
# As typed: alone, in brackets, with spaces around; the cells are looked up as they are, in a set.
BLANK_MARKERS = frozenset(f"{left}{a}{w}{b}{right}" for w in _MARKER_WORDS for a, b in (("", ""), ("（", "）"), ("(", ")"))
                          for left in _MARKER_PADS for right in _MARKER_PADS)
_BLANK_MARKER_FIELDS = ("id_number", "head_id", "household_no", "village", "sex", "birth_date", "relation",
                        "categories", "household_size", "disability_grade", "phone", "bank_card", "bank_name")


def blank_markers(columns: dict[int, list[object]], cols: dict[str, int], out: Collector) -> None:
    """Cells holding a blank marker become empty, with one note per column (a set test per column:
    about 15 ms for a million rows when there is none)."""
    for key in _BLANK_MARKER_FIELDS:
        j = cols.get(key)
        col = columns.get(j) if j is not None else None
        if col is None or BLANK_MARKERS.isdisjoint(col):
            continue
        at = [i for i, v in enumerate(col) if v in BLANK_MARKERS]
        seen = "”“".join(sorted({str(col[i]) for i in at}))
        for i in at:
            col[i] = None
        out.add("blank-marker", None, key, None, count=len(at), markers=f"“{seen}”")


# "Same as above" in a household's member rows.
DITTO_MARKERS = frozenset({"同上", "同前", "〃", "″", '"', "”"})
_DITTO_OR_EMPTY = DITTO_MARKERS | {None, ""}
_FILL_DOWN_FIELDS = ("village", "household_no", "head_id", "head_name")


def fill_down(columns: dict[int, list[object]], cols: dict[str, int], vocab: Vocabulary, out: Collector) -> None:
    """Household cells written once, on the head's row: a member's empty cell (when the table says who is
    a member) or a 同上 takes the value from the row above, as a merged cell would.  Noted per column."""
    j_rel = cols.get("relation")
    relations = columns.get(j_rel) if j_rel is not None else None
    member: dict[object, bool] = {}  # each distinct relation cell: does it name a member other than the head?
    for key in _FILL_DOWN_FIELDS:
        j = cols.get(key)
        col = columns.get(j) if j is not None else None
        if col is None:
            continue
        if (DITTO_MARKERS if relations is None else _DITTO_OR_EMPTY).isdisjoint(col):
            continue  # the usual column: nothing to fill (one set test, ~15 ms a million rows)
        count, above = 0, None
        for i, v in enumerate(col):
            if v in DITTO_MARKERS:
                fill = True
            elif v is None or v == "":
                r = relations[i] if relations is not None else None
                if r not in member:
                    text = clean(cell_text(r))
                    member[r] = bool(text) and vocab.relation(text) != "户主"
                fill = member[r]
            else:
                above = v
                continue
            if fill and above is not None:
                col[i] = above
                count += 1
            else:
                above = None  # a head's row left empty: the next members have nothing to take
        if count:
            out.add("filled-from-above", None, key, None, count=count)


# System exports write long numbers into CSV as '110101…, ="110101…" or with a tab, so that Excel keeps
# them as text.
_TEXT_GUARD = re.compile(r"'(\S.*)|=\"(.*)\"", re.S)
_GUARDED_FIELDS = ("id_number", "head_id", "bank_card", "phone", "household_no")


def unwrap_text_guards(columns: dict[int, list[object]], cols: dict[str, int], out: Collector) -> None:
    """In a CSV's number columns, the cell inside '…, ="…" or tabs (noted once per column)."""
    for key in _GUARDED_FIELDS:
        j = cols.get(key)
        col = columns.get(j) if j is not None else None
        if col is None:
            continue
        count = 0
        for i, v in enumerate(col):
            if type(v) is not str or not v or (v[0] not in "'=\t" and v[-1] != "\t"):
                continue
            if "\t" in (v[0], v[-1]) and v.strip("\t"):
                col[i] = v.strip("\t")
                count += 1
            elif m := _TEXT_GUARD.fullmatch(v):
                col[i] = m.group(1) if m.group(1) is not None else m.group(2)
                count += 1
        if count:
            out.add("text-guard-removed", None, key, None, count=count)


EXCEL_CELL_CHARS = 32767


def too_long(arrow: dict[str, pa.Array], rows: list[int], layout: SheetLayout, out: Collector) -> None:
    """Text longer than an Excel cell holds: the writers would cut it without a word.  Byte lengths
    come from the offsets; characters are counted only for the rare cells long enough in bytes."""
    for key, cells in arrow.items():
        long_bytes = np.flatnonzero(pc.binary_length(cells).fill_null(0).to_numpy(zero_copy_only=False)
                                    > EXCEL_CELL_CHARS)
        for i in long_bytes.tolist():
            length = len(cells[i].as_py())
            if length <= EXCEL_CELL_CHARS:
                continue
            j = layout.columns.get(key, layout.extras.get(key.removeprefix("extra:"), -1))
            column = layout.headers[j] if 0 <= j < len(layout.headers) else None
            out.problems.append(P.make("cell-too-long", file=out.sheet.file, sheet=out.sheet.name, row=rows[i],
                                       column=column, cell=f"{col_letter(j)}{rows[i]}" if j >= 0 else None,
                                       length=length))
            out.bad_rows.add(rows[i])




def fill_merged(sheet: RawSheet, layout: SheetLayout, out: Collector) -> None:
    by_col = {j: k for k, j in layout.columns.items()}
    filled: dict[int, list[str]] = defaultdict(list)
    for r0, c0, r1, c1 in sheet.merged:
        if r1 <= layout.header_index or r1 == r0:
            continue
        for j in range(c0, c1 + 1):
            key = by_col.get(j)
            if key is None:
                continue
            rng = f"{col_letter(j)}{r0 + 1}:{col_letter(j)}{r1 + 1}"
            if key in PERSON_FIELDS:
                if j == c0:
                    out.add("merged-person-field", r0 + 1, key, None, range=rng)
                    for r in range(r0 + 1, r1 + 2):
                        out.bad_rows.add(r)
                continue
            if key in HOUSEHOLD_FIELDS:
                top = sheet.rows[r0][c0] if c0 < len(sheet.rows[r0]) else None
                for r in range(r0 + 1, r1 + 1):
                    row = sheet.rows[r]
                    if len(row) <= j:
                        row.extend([None] * (j + 1 - len(row)))
                    row[j] = top if j == c0 else row[j]
                filled[j].append(rng)
    for j, ranges in filled.items():
        shown = "、".join(ranges[:3]) + ("等" if len(ranges) > 3 else "")
        out.problems.append(P.make("merged-cells-filled", file=sheet.file, sheet=sheet.name,
                                   row=int(ranges[0].split(":")[0][len(col_letter(j)):]),
                                   column=layout.headers[j], count=len(ranges), ranges=shown))


def report_marks(sheet: RawSheet, layout: SheetLayout, out: Collector) -> None:
    """Hidden data rows, and unsaved formulas or error values in the columns weiwen reads:
    each is an error on its row (calamine reads them as ordinary or blank cells)."""
    marks = sheet.marks
    if marks.unchecked:
        out.add("marks-unchecked", layout.header_index + 1, None, reason=marks.unchecked)
    if not (marks.hidden_rows or marks.no_value or marks.errors):
        return
    data = set(layout.data_rows)
    used = {*layout.columns.values(), *layout.flags.values(), *layout.extras.values()}

    def at_cell(code: str, r: int, c: int, value: str | None = None) -> None:
        column = layout.headers[c] if c < len(layout.headers) else None
        out.problems.append(P.make(code, file=sheet.file, sheet=sheet.name, row=r + 1, column=column,
                                   cell=f"{col_letter(c)}{r + 1}", value=value))
        out.bad_rows.add(r + 1)

    for r in sorted(set(marks.hidden_rows) & data):
        out.add("row-hidden", r + 1)
    for r, c in marks.no_value:
        if r in data and c in used:
            at_cell("formula-no-value", r, c)
    for r, c, text in marks.errors:
        if r in data and c in used:
            at_cell("cell-error-value", r, c, text)
