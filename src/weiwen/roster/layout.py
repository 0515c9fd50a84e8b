"""Find where the table is in a sheet: the header row, the columns, the data and footer rows.

Pure: works on a :class:`~weiwen.read.workbook.RawSheet`'s cells, touches no file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from weiwen.core import problems as P
from weiwen.read.workbook import RawSheet
from weiwen.core.text import clean, squash
from weiwen.model.vocab import Vocabulary

HEADER_SCAN_ROWS = 30
REQUIRED = ("name", "id_number")
# Fields whose merged cells are filled down (one value for the household).
HOUSEHOLD_FIELDS = frozenset(
    {"seq", "household_no", "head_name", "head_id", "village", "township", "household_size", "categories",
     "address", "phone", "bank_card", "bank_name", "remark"}
)
PERSON_FIELDS = frozenset({"name", "id_number", "sex", "birth_date", "relation", "disability_grade", "age"})
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")
# A village named in a title, sheet or file name: 城关镇张庄村2027年… → 张庄村; 01-东关10村.xlsx → 东关10村.
_VILLAGE_IN_TITLE = re.compile(r"(?:[\u4e00-\u9fff]{1,8}?(?:镇|乡|街道|办事处))?"
                               r"([\u4e00-\u9fff][\u4e00-\u9fff0-9]{0,11}?(?:村|社区|居委会|村委会|居))"
                               r"(?:[0-9一二三四五六七八九十]+组)?")


@dataclass
class SheetLayout:
    header_index: int  # 0-based row of the header
    columns: dict[str, int]  # field key -> 0-based column
    headers: list[str]  # the header cells as written (cleaned), by column
    flags: dict[str, int] = field(default_factory=dict)  # category -> yes/no column
    extras: dict[str, int] = field(default_factory=dict)  # unknown header -> column
    data_rows: list[int] = field(default_factory=list)  # 0-based rows holding persons
    village_hint: str | None = None  # when there is no village column: from the title, sheet or file name
    village_source: str = ""  # where the hint was found, as shown to the user
    problems: list[P.Problem] = field(default_factory=list)

    def header_of(self, key: str) -> str:
        return self.headers[self.columns[key]]


def cell_text(v: object) -> str:
    """A cell as the text a user sees (integral numbers without ``.0``)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if hasattr(v, "isoformat"):
        text = v.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(v)


def _heads_as_persons(keys: set[str]) -> list[tuple[str, str]]:
    """A list with one row per household names its head's columns (户主姓名, 户主身份证号) and no
    person's: they stand for the row's person.  Only without a 姓名 column: a list of members
    carrying just their head's ID is not read as if every member were the head."""
    if "name" in keys or "head_name" not in keys:
        return []
    pairs = [("head_name", "name")]
    if "id_number" not in keys and "head_id" in keys:
        pairs.append(("head_id", "id_number"))
    return pairs


def _is_footer(texts: list[str], markers: tuple[str, ...]) -> bool:
    """A 合计/签字 line: a marker anywhere in the row, or one ending in ":" (注:, 说明:) opening a cell."""
    joined = squash("".join(texts))
    cells = [squash(t) for t in texts if t]
    return any(any(c.startswith(m) for c in cells) if m.endswith(":") else m in joined for m in markers)


def _village_from(layout: SheetLayout, source: str, text: str) -> None:
    """Take the village from ``text`` when the table has no village column and none was found yet."""
    if "village" in layout.columns or layout.village_hint:
        return
    m = _VILLAGE_IN_TITLE.search(text.replace(" ", ""))
    if m:
        layout.village_hint, layout.village_source = m.group(1), source


def _row_texts(row: list[object]) -> list[str]:
    return [clean(cell_text(v)) for v in row]


def _header_cells(sheet: RawSheet, i: int) -> list[str]:
    """Row ``i`` as header texts; a cell merged down from the row above takes that row's text."""
    texts = _row_texts(sheet.rows[i])
    for r0, c0, r1, c1 in sheet.merged:
        if r0 < i <= r1:
            top = clean(cell_text(sheet.rows[r0][c0])) if c0 < len(sheet.rows[r0]) else ""
            for j in range(c0, min(c1 + 1, len(texts))):
                if not texts[j]:
                    texts[j] = top
    return texts


def _fields(texts: list[str], vocab: Vocabulary) -> set[str]:
    keys = {vocab.field_for_header(t) for t in texts if t}
    keys.discard(None)
    return keys  # type: ignore[return-value]


def find_layout(sheet: RawSheet, vocab: Vocabulary) -> SheetLayout | None:
    """Locate the header and classify rows; ``None`` when no row looks like a roster header.

    The header is the row (or pair of rows, for a two-level header such as
    ``家庭成员情况`` over ``姓名 | 与户主关系``) that names the most known fields, among them
    姓名 and 身份证号.
    """
    rows = sheet.rows
    scan = min(HEADER_SCAN_ROWS, len(rows))
    cells = [_header_cells(sheet, i) for i in range(scan)]
    best: tuple[int, int, int] | None = None  # (matches, -rows used, last header row)
    for i in range(scan):
        candidates = [(cells[i], i)]
        if i + 1 < scan:
            lower = cells[i + 1]
            upper = cells[i] + [""] * max(0, len(lower) - len(cells[i]))
            padded = lower + [""] * (len(upper) - len(lower))
            candidates.append(([lo or up for up, lo in zip(upper, padded, strict=True)], i + 1))
        for texts, last in candidates:
            keys = _fields(texts, vocab)
            if not set(REQUIRED) <= keys | {person for _head, person in _heads_as_persons(keys)}:
                continue
            score = (len(keys), -(last - i), last)
            if best is None or score[:2] > best[:2]:
                best = score
                best_texts, top = texts, i
    if best is None:
        return None
    h = best[2]
    headers = best_texts
    # Header cells merged down from rows above make those rows part of the header too.
    top = min([top] + [r0 for r0, _c0, r1, _c1 in sheet.merged if r0 < h <= r1])
    layout = SheetLayout(header_index=h, columns={}, headers=headers)
    seen: dict[str, list[int]] = {}
    for j, text in enumerate(headers):
        if not text:
            continue
        key = vocab.field_for_header(text)
        if key is not None:
            seen.setdefault(key, []).append(j)
            continue
        cat = vocab.flag_category(text)
        if cat is not None and cat not in layout.flags:
            layout.flags[cat] = j
        else:
            layout.extras[text] = j
    for text, j in list(layout.extras.items()):  # e.g. 保障人数 when there is no 人口数 column
        key = vocab.fallback_field_for_header(text)
        if key is not None and key not in seen:
            seen[key] = [j]
            del layout.extras[text]
    heads_as_persons = _heads_as_persons(set(seen))
    for head, person in heads_as_persons:  # one row per household: the row's person is its head
        seen[person] = seen.pop(head)
    if heads_as_persons:
        layout.problems.append(P.make(
            "household-rows", file=sheet.file, sheet=sheet.name, row=h + 1,
            columns="、".join(f"“{headers[seen[person][0]]}”" for _head, person in heads_as_persons)))
    for key, cols in seen.items():
        layout.columns[key] = cols[0]
        if len(cols) > 1:
            layout.problems.append(
                P.make("header-duplicate", file=sheet.file, sheet=sheet.name, row=h + 1,
                       column=headers[cols[1]], field=vocab.label(key),
                       columns="、".join(f"“{headers[c]}”（{col_letter(c)} 列）" for c in cols))
            )

    if "categories" not in layout.columns and not layout.flags:
        layout.problems.append(P.make("category-column-missing", file=sheet.file, sheet=sheet.name, row=h + 1))

    # Title rows above the header.
    title_rows = [i for i in range(top) if any(_row_texts(rows[i]))]
    if title_rows:
        text = " / ".join(" ".join(t for t in _row_texts(rows[i]) if t) for i in title_rows)
        layout.problems.append(
            P.make("rows-skipped-title", file=sheet.file, sheet=sheet.name, row=title_rows[0] + 1,
                   count=len(title_rows), rows=_ranges(title_rows), text=_trim(text))
        )
        _village_from(layout, "表格标题", text)
    _village_from(layout, "工作表名", sheet.name)
    _village_from(layout, "文件名", PurePath(sheet.file).stem)

    # Data, blank and footer rows below it.
    id_col = layout.columns.get("id_number")
    seq_col = layout.columns.get("seq")
    markers = vocab.footer_markers
    blank: list[int] = []
    footer: list[int] = []
    footer_text: list[str] = []
    merged_rows = _merged_household_rows(sheet, layout)
    for i in range(h + 1, len(rows)):
        row = rows[i]
        raw_id = row[id_col] if id_col is not None and id_col < len(row) else None
        if raw_id is not None and (not isinstance(raw_id, str) or (raw_id.isascii() and raw_id.strip())):
            layout.data_rows.append(i)  # the common case, decided without touching other cells
            continue
        texts = _row_texts(row)
        person_cells = [t for j, t in enumerate(texts) if t and j != seq_col]
        if not person_cells and i not in merged_rows:
            blank.append(i)
            continue
        id_text = texts[id_col] if id_col is not None and id_col < len(texts) else ""
        # A footer names no one: its ID cell is empty, short, or words ("联系电话：138…"), never an ID.
        not_an_id = sum(ch.isdigit() for ch in id_text) < 6 or _HAS_CJK.search(id_text) is not None
        if not_an_id and _is_footer(texts, markers):
            footer.append(i)
            footer_text.append(" ".join(t for t in texts if t))
            continue
        layout.data_rows.append(i)
    # Trailing blank rows (formatted but empty) are not worth reporting one by one.
    last_data = layout.data_rows[-1] if layout.data_rows else h
    inner_blank = [i for i in blank if i < last_data]
    if inner_blank:
        layout.problems.append(
            P.make("rows-skipped-blank", file=sheet.file, sheet=sheet.name, row=inner_blank[0] + 1,
                   count=len(inner_blank), rows=_ranges(inner_blank))
        )
    if footer:
        layout.problems.append(
            P.make("rows-skipped-footer", file=sheet.file, sheet=sheet.name, row=footer[0] + 1,
                   rows=_ranges(footer), text=_trim(" / ".join(footer_text)))
        )
    return layout


def _merged_household_rows(sheet: RawSheet, layout: SheetLayout) -> set[int]:
    """Rows covered (below their first row) by merged household cells: not blank rows."""
    cols = {c for k, c in layout.columns.items() if k in HOUSEHOLD_FIELDS}
    out: set[int] = set()
    for r0, c0, r1, c1 in sheet.merged:
        if r1 > r0 and any(c0 <= c <= c1 for c in cols):
            out.update(range(r0 + 1, r1 + 1))
    return out


def _trim(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ranges(rows0: list[int]) -> str:
    """0-based rows → '3、5-7、9' in Excel numbering."""
    out: list[str] = []
    start = prev = None
    for r in rows0:
        if start is None:
            start = prev = r
        elif r == prev + 1:  # type: ignore[operator]
            prev = r
        else:
            out.append(_span(start, prev))  # type: ignore[arg-type]
            start = prev = r
    if start is not None:
        out.append(_span(start, prev))  # type: ignore[arg-type]
    if len(out) > 8:
        out = out[:8] + ["…"]
    return "、".join(out)


def _span(a: int, b: int) -> str:
    return str(a + 1) if a == b else f"{a + 1}-{b + 1}"


def col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s

