"""Every workbook weiwen writes for paper, printed: what the clerk gets out of the printer.

LibreOffice prints each workbook (see tests/printing.py: one soffice run for all of them) and the
pages are measured:

- every page is A4;
- nothing on a page is set smaller than 10 pt on what is posted or signed (公示名单, 签领表) or
  8 pt on anything else (慰问明细 and the office's other sheets): the effective size on paper,
  after any fit-to-width shrinking;
- no column is pushed onto a page of its own: every page carries the first and the last column
  header of the sheet's table (which also means the header row is repeated on every page);
- every cell's text is printed whole (not cut off by its column or row, not "###"), and every ID
  number of the sheet is printed once;
- the lists (慰问明细, 公示名单, 签领表) fill their pages: no page without a household, no page but
  the last one less than three quarters full, and a sensible number of rows on a full page;
- every page of a village's 公示名单 and 签领表 carries the campaign's title, the sheet's name
  (公示名单 / 签领表) and the village's name: a page that comes loose still says what it is;
- the 公示名单 is one sheet per village; every village has its 签领表;
- the 审批表 and the template's 填写说明 are one page each.

Each test collects every fault it finds and fails once with the whole list: the list is a to-do
list, each line naming the workbook (relative to the season's folder), the sheet and the page.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.utils import get_column_letter, range_boundaries

from tests.printing import (
    ID_NUMBER,
    Part,
    Printed,
    campaign,
    compact,
    faulty_rosters,
    other_recipients,
    render,
    runs_text,
    twelve_villages,
    villages_of,
    visible_sheets,
)

POINTS = {"公示名单": 10.0, "签领表": 10.0, "慰问明细": 8.0, "发放清单": 10.0, "登记册": 10.0}
OTHER_POINTS = 8.0  # the office's own sheets: 汇总, 未纳入, 经费预算, 错误清单, 审批表, 代发 …
# A full page of a list carries at least this many households (A4, at the sizes above): more pages
# than that are rows made needlessly tall (12 villages must not take 92 pages).
ROWS_AT_LEAST = {"公示名单": 20, "签领表": 10, "慰问明细": 20}
FULL = 0.75  # every page but the first and the last carries at least this share of a full page
PER_VILLAGE = ("公示名单", "签领表")
NOT_PRINTED = {"代发明细"}  # the bank's upload sheet: a file for the bank's system, not for paper
TITLE_ROWS = re.compile(r"\$?([0-9]+):\$?([0-9]+)")
KEY = 6  # a header is recognised by its first characters: a long one may be cut by its column


# --- what the workbook says about a sheet ------------------------------------------------------------------

@dataclass
class Sheet:
    printed: Printed
    kind: str  # 公示名单, 签领表, 慰问明细, 审批表, 填写说明, or 其他
    village: str | None  # the village a per-village sheet is for
    header: tuple[str, str] | None  # the first and the last column header of its table
    texts: list[tuple[str, str]]  # (cell, text) of every text cell that should be printed
    ids: int  # ID numbers in those cells

    @property
    def where(self) -> str:
        return self.printed.where

    @property
    def pages(self):  # type: ignore[no-untyped-def]
        return self.printed.pages

    @property
    def points(self) -> float:
        return POINTS.get(self.kind, OTHER_POINTS)


def kind_of(book: Path, sheet: str) -> str:
    for kind in PER_VILLAGE:
        if kind in sheet or kind in book.name or kind in book.parent.name:
            return kind
    if sheet == "慰问明细":
        return "慰问明细"
    if sheet.startswith("发放清单") or sheet == "登记册":  # signed for, like a 签领表
        return sheet.split("-")[0]
    if "审批表" in book.name or sheet == "审批表":
        return "审批表"
    if sheet == "填写说明":
        return "填写说明"
    return "其他"


def village_of(book: Path, sheet: str, villages: Iterable[str]) -> str | None:
    """The village a sheet is for: named by the sheet (签领表-张庄村, 张庄村) or else by its file
    (3-张庄村.xlsx); the longest name that fits."""
    for text in (sheet, book.stem):
        found = sorted((v for v in villages if v in text), key=len, reverse=True)
        if found:
            return found[0]
    return None


def _bounds(ws) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """(min col, min row, max col, max row) that print: the print area, or the used range."""
    area = ws.print_area
    if isinstance(area, str) and area and "," not in area:
        ref = area.split("!")[-1].replace("$", "")
        c1, r1, c2, r2 = range_boundaries(ref)
        return c1, r1, c2, r2  # type: ignore[return-value]
    return 1, 1, ws.max_column, ws.max_row


def inspect(printed: Printed, ws, villages: Iterable[str]) -> Sheet:  # type: ignore[no-untyped-def]
    c1, r1, c2, r2 = _bounds(ws)
    hidden_cols = set()
    for dim in ws.column_dimensions.values():
        if dim.hidden and dim.min and dim.max:
            hidden_cols.update(range(dim.min, dim.max + 1))
    hidden_rows = {r for r, dim in ws.row_dimensions.items() if dim.hidden}
    cols = [c for c in range(c1, c2 + 1) if c not in hidden_cols]

    def text(r: int, c: int) -> str:
        cell = ws.cell(r, c)
        return cell.value.strip() if cell.data_type == "s" and isinstance(cell.value, str) else ""

    titles = TITLE_ROWS.fullmatch(ws.print_title_rows or "")
    if titles:
        head_row = int(titles.group(2))
    else:  # no repeated rows: the first row with the most text cells among the first 15
        counts = {r: sum(1 for c in cols if text(r, c)) for r in range(r1, min(r2, r1 + 14) + 1)}
        head_row = max(counts, key=lambda r: (counts[r], -r)) if counts else r1
    heads = [text(head_row, c) for c in cols if text(head_row, c)]
    header = (heads[0], heads[-1]) if len(heads) >= 2 else None
    texts, ids = [], 0
    for r in range(r1, r2 + 1):
        if r in hidden_rows:
            continue
        for c in cols:
            t = text(r, c)
            if t:
                texts.append((f"{get_column_letter(c)}{r}", t))
                ids += len(ID_NUMBER.findall(t))
    kind = kind_of(printed.book, printed.sheet)
    village = village_of(printed.book, printed.sheet, villages) if kind in PER_VILLAGE else None
    return Sheet(printed, kind, village, header, texts, ids)


# --- printing the season ---------------------------------------------------------------------------------

def _what_to_print(twelve: Part, faulty: Part, camp: Part, others: Part) -> dict[Path, set[str]]:
    books: dict[Path, set[str] | None] = {book: None for book in others.books()}
    for book in twelve.books():
        if "花名册" not in book.parent.name:  # the generated rosters are input, not print-outs
            books[book] = None
    for book in faulty.books("校验结果"):
        books[book] = {"错误清单"}  # the rest of an annotated copy is the village's own sheet
    for book in faulty.books():
        if book.name == "重复核查.xlsx":
            books[book] = None
    for book in camp.books("核定结果"):
        if book.name not in ("慰问明细.xlsx", "公示名单.xlsx"):  # printed above, for 12 villages
            books[book] = None
    return {book: set(visible_sheets(book) if keep is None else keep) - NOT_PRINTED
            for book, keep in books.items()}


@pytest.fixture(scope="module")
def season() -> tuple[Part, Part, Part, Part]:
    return twelve_villages(), faulty_rosters(), campaign(), other_recipients()


@pytest.fixture(scope="module")
def villages(season: tuple[Part, Part, Part, Part]) -> dict[Path, list[str]]:
    """The villages of each allocate output folder."""
    twelve, _, camp, _ = season
    out = {}
    for part in (twelve, camp):
        folder = part.folder / "核定结果"
        out[folder] = villages_of(folder) if (folder / "allocation.csv").is_file() else []
    return out


@pytest.fixture(scope="module")
def sheets(season: tuple[Part, Part, Part, Part], villages: dict[Path, list[str]],
           tmp_path_factory: pytest.TempPathFactory) -> list[Sheet]:
    books = _what_to_print(*season)
    printed = render(books, tmp_path_factory.mktemp("print"))
    every_village = sorted({v for vs in villages.values() for v in vs})
    out = []
    for book in books:
        wb = openpyxl.load_workbook(book)
        try:
            for (b, name), p in printed.items():
                if b == book:
                    out.append(inspect(p, wb[name], every_village))
        finally:
            wb.close()
    return out


def report(faults: list[str], what: str) -> None:
    if faults:
        pytest.fail(f"{len(faults)} {what}:\n" + "\n".join(sorted(faults)), pytrace=False)


# --- the checks -------------------------------------------------------------------------------------------

def test_weiwen_ran_every_command_as_expected(season: tuple[Part, Part, Part, Part]) -> None:
    faults = [f"{s.command}: exit {s.code} (expected {'/'.join(map(str, s.expected))})\n"
              f"    {(s.stderr or s.stdout).strip()[-600:]}"
              for part in season for s in part.said if not s.as_expected]
    report(faults, "commands did not run as a clerk's would")


def test_every_sheet_prints_on_a4(sheets: list[Sheet]) -> None:
    faults = []
    for s in sheets:
        if not s.pages:
            faults.append(f"{s.where}: prints no page at all")
        odd = [p for p in s.pages if not p.is_a4()]
        if odd:
            faults.append(f"{s.where}: {len(odd)} of {len(s.pages)} pages are not A4 "
                          f"(page {odd[0].number}: {odd[0].width:.0f}×{odd[0].height:.0f} pt; A4 is 595×842)")
    report(faults, "sheets not on A4")


def test_no_text_is_printed_too_small(sheets: list[Sheet]) -> None:
    faults = []
    for s in sheets:
        small = [(p, p.smaller_than(s.points)) for p in s.pages]
        small = [(p, runs) for p, runs in small if runs]
        if small:
            smallest = min(p.smallest for p, _ in small)
            first, runs = small[0]
            faults.append(f"{s.where} ({s.kind}, at least {s.points:g} pt): {smallest:g} pt on "
                          f"{len(small)} of {len(s.pages)} pages; page {first.number}: {runs_text(runs)}")
    report(faults, "sheets print text smaller than it may be")


def test_no_column_is_pushed_onto_another_page(sheets: list[Sheet]) -> None:
    faults = []
    for s in sheets:
        if s.header is None:
            continue
        first, last = (compact(h)[:KEY] for h in s.header)
        keys = list(zip(s.header, (first, last), strict=True))
        lacking = [p for p in s.pages if first not in p.compact or last not in p.compact]
        if lacking:
            pages = ", ".join(f"{p.number} (lacks {'/'.join(h for h, k in keys if k not in p.compact)})"
                              for p in lacking[:6])
            faults.append(f"{s.where}: {len(lacking)} of {len(s.pages)} pages do not carry both the first and "
                          f"the last column header “{s.header[0]}” … “{s.header[1]}” (columns pushed onto a page "
                          f"of their own, or the header row not repeated): pages {pages}")
    report(faults, "sheets whose columns do not all print on every page")


def test_every_cell_is_printed_whole(sheets: list[Sheet]) -> None:
    faults = []
    for s in sheets:
        printed = "".join(p.compact for p in s.pages)
        cut = [(ref, t) for ref, t in s.texts if compact(t) not in printed]
        if cut:
            shown = "; ".join(f"{ref} “{t[:40]}{'…' if len(t) > 40 else ''}”" for ref, t in cut[:5])
            faults.append(f"{s.where}: {len(cut)} cells not printed whole (cut off by the column width or the "
                          f"row height, or outside the print area): {shown}" + (" …" if len(cut) > 5 else ""))
        hashes = [p.number for p in s.pages if "###" in p.text]
        if hashes:
            faults.append(f"{s.where}: “###” printed for a number too wide for its column on pages {hashes}")
        ids = sum(p.ids() for p in s.pages)
        if ids != s.ids:
            faults.append(f"{s.where}: {s.ids} ID numbers in the sheet, {ids} printed whole")
    report(faults, "sheets that do not print every cell whole")


def test_lists_fill_their_pages(sheets: list[Sheet]) -> None:
    """A page is as full as the rows on it reach down the paper (rows of wrapped text are taller,
    so the count of rows alone would not tell)."""
    faults = []
    for s in sheets:
        if s.kind not in ROWS_AT_LEAST or not s.pages or not s.ids:
            continue
        rows = [p.ids() for p in s.pages]
        spans = [max(p.id_tops) - min(p.id_tops) if p.id_tops else 0.0 for p in s.pages]
        said = f"{s.where}: {s.ids} households on {len(rows)} pages {rows}"
        empty = [p.number for p, n in zip(s.pages, rows, strict=True) if n == 0]
        if empty:
            faults.append(f"{said}: pages {empty} carry no household (only titles, totals or signatures)")
        full = max(spans)
        thin = [p.number for p, span in zip(s.pages[1:-1], spans[1:-1], strict=True) if span < FULL * full]
        if thin:
            faults.append(f"{said}: the rows on pages {thin} fill less than {FULL:.0%} of what a full page holds")
        most = max(rows)
        if len(rows) > 1 and most < ROWS_AT_LEAST[s.kind]:
            faults.append(f"{said}: a full page carries only {most} households (at least {ROWS_AT_LEAST[s.kind]} "
                          f"fit on A4), so it takes {len(rows)} pages where about "
                          f"{math.ceil(s.ids / ROWS_AT_LEAST[s.kind])} would do")
    report(faults, "lists that waste paper")


def test_every_page_of_a_village_says_what_and_whose_it_is(sheets: list[Sheet],
                                                            season: tuple[Part, Part, Part, Part]) -> None:
    title = _campaign_title(season[0])
    faults = []
    for s in sheets:
        if s.kind not in PER_VILLAGE or s.village is None:
            continue
        for p in s.pages:
            missing = [t for t in (title, s.kind, s.village) if not p.has(t)]
            if missing:
                faults.append(f"{s.where}: page {p.number} of {len(s.pages)} lacks " + ", ".join(
                    f"“{m}”" for m in missing))
    report(faults, "pages of a village's 公示名单 or 签领表 that do not say what and whose they are")


def test_each_village_has_its_publicity_list_and_sign_sheet(sheets: list[Sheet],
                                                            villages: dict[Path, list[str]]) -> None:
    faults = []
    for folder, names in villages.items():
        if not names:
            faults.append(f"{folder.parent.name}/{folder.name}: no allocation.csv, so no list to print")
            continue
        mine = [s for s in sheets if s.printed.book.is_relative_to(folder)]
        for kind in PER_VILLAGE:
            if kind == "公示名单" and folder.parent.name == "台账":
                continue  # the ledger campaign's 公示名单 is the same writer's, printed for 12 villages
            found = defaultdict(list)
            for s in mine:
                if s.kind == kind and s.village:
                    found[s.village].append(s.where)
            combined = [s.where for s in mine if s.kind == kind and s.village is None]
            lacking = [v for v in names if v not in found]
            twice = {v: w for v, w in found.items() if len(w) > 1}
            where = f"{folder.parent.name}/{folder.name}"
            if lacking:
                faults.append(f"{where}: no {kind} of its own for {len(lacking)} of {len(names)} villages "
                              f"({'、'.join(lacking[:6])}{' …' if len(lacking) > 6 else ''})"
                              + (f"; a {kind} of several villages: {', '.join(combined)}" if combined else ""))
            for v, w in twice.items():
                faults.append(f"{where}: {v} has {len(w)} {kind} sheets: {', '.join(w)}")
    report(faults, "villages without their own 公示名单 or 签领表")


def test_forms_are_one_page(sheets: list[Sheet], season: tuple[Part, Part, Part, Part]) -> None:
    faults = []
    for s in sheets:
        if s.kind in ("审批表", "填写说明") and len(s.pages) != 1:
            faults.append(f"{s.where}: {len(s.pages)} pages; it must be one A4 page")
    twelve = season[0].folder / "核定结果"
    if not any(s.kind == "审批表" and s.printed.book.is_relative_to(twelve) for s in sheets):
        faults.append("十二个村/核定结果: weiwen allocate wrote no 审批表.xlsx")
    if not any(s.kind == "填写说明" for s in sheets):
        faults.append("花名册模板.xlsx: no 填写说明 sheet")
    report(faults, "forms not on one page")


def _campaign_title(twelve: Part) -> str:
    """campaign.name of the rules the season used."""
    rules = yaml.safe_load((twelve.folder / "规则" / "春节.yaml").read_text(encoding="utf-8"))
    return str(rules["campaign"]["name"])
