"""Titled tables printed on A4, written with rustpy-xlsxwriter: the formats, the page setup, the
row heights of wrapped text and the few helpers the decision's sheets share.

Print standards: every table prints on A4 one page wide, its title, subtitle lines
and header repeated on every page, at a readable size: 11-point text, columns sized so that the
fit-to-width scale keeps it at 10 points or more on sheets that are posted or signed (公示名单,
签领表) and 8 points or more on the working list (慰问明细).  Wrapped cells get row heights
computed from their text, since not every spreadsheet program grows a row by itself.

The writer has one quirk to step around: a row height or row format on the *last* row written
makes it emit that row twice (the file format allows each row once: Excel may call the file
damaged), so every sheet ends with a row that has neither — :func:`titled_sheet` drops them there
if a caller forgets.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import rustpy_xlsxwriter as rx

from weiwen.core.atomic import write_atomic
from weiwen.sheets.xlsx import normalize_xlsx

MONEY = "¥#,##0.00"
AMOUNT = "#,##0.00"
LINE = 15  # points: one line of 11-point text
A4 = {"portrait": 595.28, "landscape": 841.89}  # points across the paper
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}  # inches
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

# Widths of text in a cell, in column-width units (about half a Chinese character): a Chinese
# character 2, the general punctuation “ ” ‘ ’ — … (U+2000–U+206F) 1.5, anything else 1.  Measured
# against LibreOffice's line breaks, with a unit of the width kept for the cell's margins, this never
# counts fewer lines than it prints.
_WIDE = "[\\x{2E81}-\\x{10FFFF}]"
_PUNCT = "[\\x{2000}-\\x{206F}]"


def text_units(text: str) -> float:
    """Width of ``text`` in column-width units (see above)."""
    return sum(2 if ord(ch) > 0x2E80 else 1.5 if 0x2000 <= ord(ch) <= 0x206F else 1 for ch in text)


def display_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a column ``width`` characters wide: wrapped text does not grow its row
    by itself in every spreadsheet program (weiwen.core.text.display_lines, with the punctuation)."""
    return max(1, math.ceil(text_units(text) / max(int(width) - 1, 1)))


def page_numbers(alone: bool) -> str:
    """Page numbers for a sheet: 第 1 页，共 2 页 when it is its workbook's only sheet; in a workbook
    of several only 第 1 页 (printing the whole workbook, 共 N 页 counts every sheet's pages).
    Every sheet numbers its own pages from 1."""
    return "第 &P 页，共 &N 页" if alone else "第 &P 页"


class Formats:
    """The cell formats of the decision's sheets."""

    def __init__(self) -> None:
        f = rx.Format
        self.title = f().set_bold().set_font_size(16).set_align("center").set_align("vcenter").set_text_wrap()
        self.sub = f().set_font_size(11).set_align("vcenter").set_text_wrap()
        self.head = (f().set_bold().set_border("thin").set_align("center").set_align("vcenter").set_text_wrap()
                     .set_background_color("#DDEBF7"))
        # Formats of cells that may hold text from a roster carry Excel's quote prefix (HAZARDS row 38):
        # the writer sets formats by column, so a name like "=1+1" gets it with the rest of its column
        # (on a number it changes nothing: Excel and LibreOffice keep it a number).
        self.text = f().set_border("thin").set_align("vcenter").set_quote_prefix()
        self.center = f().set_border("thin").set_align("center").set_align("vcenter").set_quote_prefix()
        self.wrap = f().set_border("thin").set_align("vcenter").set_text_wrap().set_quote_prefix()
        self.money = f().set_border("thin").set_align("vcenter").set_num_format(MONEY)
        self.amount = f().set_border("thin").set_align("vcenter").set_num_format(AMOUNT)  # the header says （元）
        self.qty = f().set_border("thin").set_align("vcenter").set_num_format("#,##0.###")
        self.total = (f().set_bold().set_border("thin").set_align("vcenter").set_background_color("#F2F2F2")
                      .set_quote_prefix())
        # Whole-row formats, for tables without column formats (the public list): text and amounts
        # alike, centred and wrapped; rows after the table then print without any rule.
        self.cell = (f().set_border("thin").set_align("center").set_align("vcenter").set_text_wrap()
                     .set_num_format(AMOUNT).set_quote_prefix())
        self.cell_total = (f().set_bold().set_border("thin").set_align("center").set_align("vcenter").set_text_wrap()
                           .set_num_format(AMOUNT).set_background_color("#F2F2F2").set_quote_prefix())


@dataclass
class Rows:
    """Rows as dicts in column order: for small sheets the writer takes these faster than a frame."""

    columns: list[str]
    records: list[dict[str, object]]

    @property
    def empty(self) -> bool:
        return not self.records

    def __len__(self) -> int:
        return len(self.records)


def column_points(widths: Sequence[float]) -> float:
    """Points the columns take on paper at 100%, as LibreOffice lays them out (a little wider than
    Excel: about 5.55 points a character of width and 6.5 points a column; measured on its PDFs)."""
    return 5.55 * float(sum(widths)) + 6.5 * len(widths)


def print_scale(widths: Sequence[float], *, landscape: bool, margins: dict[str, float] | None = None) -> float:
    """The scale fit-to-width prints the columns at (1.0 when they fit), in whole percent as the
    programs round it; 11-point text prints at 11 times this."""
    m = {**MARGINS, **(margins or {})}
    printable = A4["landscape" if landscape else "portrait"] - 72 * (m["left"] + m["right"])
    return min(100, int(100 * printable / column_points(widths))) / 100


def fit_widths(widths: Sequence[float], narrowest: dict[int, float], *, landscape: bool, points: float,
               texts: dict[int, pd.Series] | None = None) -> list[float]:
    """``widths`` with the columns of ``narrowest`` (index -> the narrowest it may be) made one
    character narrower at a time until 11-point text prints at ``points`` or more (or every such
    column is at its narrowest).  Each step narrows the column that adds the fewest printed lines
    (rows are as tall as their tallest cell; ``texts`` are the columns' cells, of which at most
    20,000 rows are looked at and each distinct text measured once); the one with the most to
    spare on a tie."""
    w = list(widths)
    if print_scale(w, landscape=landscape) * 11 >= points:
        return w
    texts = texts or {}
    n = len(next(iter(texts.values()))) if texts else 0
    rows = np.unique(np.linspace(0, n - 1, min(n, 20_000)).astype(np.int64)) if n else np.zeros(0, np.int64)
    coded = {j: pd.factorize(texts[j].iloc[rows].fillna("").astype(str)) for j in texts}
    measured: dict[tuple[int, int], np.ndarray] = {}

    def lines(j: int, width: int) -> np.ndarray:
        if (j, width) not in measured:
            codes, uniques = coded[j]
            measured[j, width] = np.array([display_lines(t, width) for t in uniques], dtype=np.int64)[codes]
        return measured[j, width]

    def printed_lines(trial: list[float]) -> int:
        tallest = np.ones(len(rows), dtype=np.int64)
        for j in coded:
            tallest = np.maximum(tallest, lines(j, int(trial[j])))
        return int(tallest.sum())

    while print_scale(w, landscape=landscape) * 11 < points:
        spare = [j for j, least in narrowest.items() if w[j] - 1 >= least]
        if not spare:
            break
        j = min(spare, key=lambda j: (printed_lines([*w[:j], w[j] - 1, *w[j + 1:]]), -(w[j] - narrowest[j]), j))
        w[j] -= 1
    return w


def header_height(heads: Sequence[str], widths: Sequence[float]) -> float:
    """A header row tall enough for its longest wrapped header (lines broken at "\\n" kept)."""
    lines = max((sum(display_lines(part, int(w)) for part in h.split("\n"))
                 for h, w in zip(heads, widths, strict=True)), default=1)
    return max(20, LINE * lines + 5)


def _texts(values: pd.Series | Sequence[object] | pa.Array) -> pa.Array:
    """A column as Arrow text, missing cells empty (a pandas column through Arrow, without a loop)."""
    if isinstance(values, pd.Series):
        try:
            values = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            values = values.tolist()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array) and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
                                         or pa.types.is_null(values.type)):
        return values.cast(pa.large_string()).fill_null("")
    items = values.to_pylist() if isinstance(values, pa.Array) else values
    return pa.array([v if isinstance(v, str) else "" for v in items], type=pa.large_string())


def display_units(cells: pa.Array) -> np.ndarray:
    """Each text's :func:`text_units`."""
    def length(a: pa.Array) -> np.ndarray:
        return pc.utf8_length(a).to_numpy(zero_copy_only=False).astype(np.float64)

    chars = length(cells)
    return chars + (chars - length(pc.replace_substring_regex(cells, _WIDE, ""))) + 0.5 * (
        chars - length(pc.replace_substring_regex(cells, _PUNCT, "")))


def text_lines(values: pd.Series | Sequence[object] | pa.Array, width: float) -> np.ndarray:
    """:func:`display_lines` for a whole column, in Arrow: only texts long enough to wrap
    are measured, each distinct one once (a few hundred thousand cells hold a few hundred reasons)."""
    cells = _texts(values)
    per = max(int(width) - 1, 1)
    lines = np.ones(len(cells), dtype=np.int64)
    if not len(cells):
        return lines
    maybe = np.flatnonzero(2 * pc.utf8_length(cells).to_numpy(zero_copy_only=False) > per)
    if not len(maybe):
        return lines
    encoded = cells.take(pa.array(maybe)).dictionary_encode()
    measured = np.maximum(1, np.ceil(display_units(encoded.dictionary) / per)).astype(np.int64)
    lines[maybe] = measured[encoded.indices.to_numpy(zero_copy_only=False)]
    return lines


def widest(values: pd.Series | Sequence[object]) -> int:
    """The :func:`text_units` of a column's widest text, rounded up."""
    cells = _texts(values)
    if not len(cells):
        return 0
    length = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
    long = np.flatnonzero(2 * length >= length.max())  # a text half as long as the longest cannot be wider
    return math.ceil(display_units(cells.take(pa.array(long))).max())


def heights_of(lines: np.ndarray, first_row: int, *, least: float = 0) -> dict[int, float]:
    """Row heights for the rows whose text wraps (``lines`` > 1), or for every row when each wants
    at least ``least`` points; ``first_row`` is the sheet row of ``lines[0]``."""
    points = (LINE * lines + 3).astype(float)
    if least:
        points = np.maximum(points, least)
        rows = np.arange(len(lines))
    else:
        rows = np.flatnonzero(lines > 1)
    return dict(zip((rows + first_row).tolist(), points[rows].tolist(), strict=True))


def titled_sheet(book: rx.FastExcel, name: str, frame: pd.DataFrame | Rows, title: str, fmt: Formats,
                 formats: list[object] | None, widths: list[float], *, subtitles: tuple[str, ...] = (),
                 landscape: bool = True, footer: str = "&C第 &P 页", heights: dict[int, float] | None = None,
                 row_formats: dict[int, object] | None = None, margins: dict[str, float] | None = None,
                 autofilter: bool = False) -> None:
    """One titled table: title and subtitle lines merged above the header, then the rows.

    The title, subtitles and header repeat at the top of every printed page (a page of a
    village's list says whose it is).  A frame goes to the writer as it is (its columns are read
    through Arrow, no row objects in Python).  ``formats`` are per column; without them every row
    takes its format from ``row_formats`` (rows not listed print bare: notes and sign-off lines
    after a table).  ``footer`` uses Excel's codes (&L, &C, &R, &P, &N).
    """
    header_row = 1 + len(subtitles)
    last = len(frame.columns) - 1
    merges: list[tuple[object, ...]] = [(0, 0, 0, last, title, fmt.title)]
    merges += [(1 + i, 0, 1 + i, last, line, fmt.sub) for i, line in enumerate(subtitles)]
    rows = frame.records if isinstance(frame, Rows) else frame
    if frame.empty:  # a header is still wanted, and one line saying there is nothing
        rows = pd.DataFrame({frame.columns[0]: ["（无）"], **{c: [""] for c in frame.columns[1:]}})
    title_lines = display_lines(title, int(sum(widths) * 11 / 16))  # 16-point characters
    row_heights = {0: 24 * title_lines + 6, header_row: header_height(list(frame.columns), widths)}
    row_heights.update({1 + i: max(20, LINE * display_lines(line, int(sum(widths))) + 5)
                        for i, line in enumerate(subtitles)})
    row_heights.update(heights or {})
    formats_by_row = dict(row_formats or {})
    written_last = header_row + max(len(rows), 1)
    row_heights.pop(written_last, None)  # the writer's quirk (module docstring)
    formats_by_row.pop(written_last, None)
    setup: dict[str, object] = {
        "landscape": landscape, "paper_size": 9, "fit_to_pages": (1, 0), "repeat_rows": (0, header_row),
        "margins": {**MARGINS, **(margins or {})}, "footer": footer, "center_horizontally": True,
        "first_page_number": 1,  # each sheet numbers its own pages (page_numbers)
    }
    book.freeze(row=header_row + 1, sheet=name)
    options: dict[str, object] = {}
    if formats is not None:
        options["column_formats"] = dict(zip(frame.columns, formats, strict=True))
    book.sheet(
        name, rows, header_row=header_row, merge_ranges=merges, header_format=fmt.head,
        column_widths=dict(zip(frame.columns, widths, strict=True)), row_heights=row_heights,
        row_formats=formats_by_row, page_setup=setup, autofilter=autofilter, **options,
    )


@functools.lru_cache(maxsize=65536)
def capital(amount: Decimal) -> str:
    """Amount in capital Chinese numerals, as on a receipt: 壹仟壹佰元整 (amounts repeat: cached)."""
    if amount == 0:
        return "零元整"
    import cn2an  # 0.25 s to import: only the sign sheets and the approval form need it

    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def sheet_name(text: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text).strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def village_file_stem(k: int, count: int, village: str) -> str:
    """The stem of village ``k``'s workbook of ``count``: 0001-东关村 (numbered so they sort as listed)."""
    safe = _SHEET_BAD.sub("_", village).replace("..", "_") or "未填村名"
    return f"{k + 1:0{len(str(count))}d}-{safe}"


def mask_names(names: pd.Series) -> pa.Array:
    """Names for posting, masked in Arrow: 张*三 (three or more characters keep the first and the
    last), 李* (two keep the first), a single character as it is; lengths count characters."""
    cells = pa.array(names, type=pa.large_string()).fill_null("")
    length = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
    stars = np.where(length >= 3, length - 2, np.where(length == 2, 1, 0))
    last = pc.if_else(pa.array(length >= 3), pc.utf8_slice_codeunits(cells, -1), pa.scalar("", pa.large_string()))
    star, empty = pa.scalar("*", pa.large_string()), pa.scalar("", pa.large_string())
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(cells, 0, 1), pc.binary_repeat(star, pa.array(stars)),
                                       last, empty)


def money_col(fen: pd.Series) -> np.ndarray:
    """Fen to yuan for display cells (exact to the fen; the sums come from the integer fen)."""
    return fen.to_numpy(dtype=np.int64) / 100


def money_width(fen: int, floor: float = 11, *, sign: bool = True) -> float:
    """A column wide enough for ``fen`` (the column's largest amount, its total) as ¥#,##0.00
    (``sign``) or #,##0.00: a number that does not fit prints as ####."""
    return max(floor, len(f"{'¥' if sign else ''}{abs(fen) / 100:,.2f}") + 1.5)


def int_text(values: pd.Series) -> list[str]:
    """Whole numbers as text ("" where missing)."""
    numbers = values.astype("Int64")
    return numbers.astype(str).where(numbers.notna(), "").tolist()


def blank_if_empty(values: pd.Series) -> pd.Series:
    """No goods of an item (0) or no text: an empty cell, not a 0 or an empty string.  Most
    households get one or two of the items, so this leaves a quarter of the sheet's cells out
    (the column's borders still show)."""
    return values.where((values != 0) & (values != ""))


def small_book(target: Path, fill: Callable[[rx.FastExcel], None]) -> None:
    """A small workbook (a village's sheet): made and fixed in memory, written once."""
    def write(tmp: Path) -> None:
        buf = io.BytesIO()
        book = rx.FastExcel(buf)
        fill(book)
        book.save()
        normalize_xlsx(buf)
        tmp.write_bytes(buf.getbuffer())

    write_atomic(target, write)
