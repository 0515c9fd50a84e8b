"""Turn a located sheet into the validated roster frame, collecting every problem.

This is the boundary where cells become typed data.  The frame's columns are the
:data:`weiwen.model.frames.PERSONS`; each row is one person, ``row`` is the Excel row number, ``valid``
says whether the row has no error.  Column checks are vectorised or cached on distinct
values, so a million rows go through in seconds; a problem object is made only for a bad
cell.
"""

from __future__ import annotations

import re
from collections import defaultdict
from operator import is_not, itemgetter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core import problems as P
from weiwen.core.ids import check_ids, mask_digits, mask_id, normalize_id
from weiwen.read.workbook import RawSheet
from weiwen.roster.layout import HOUSEHOLD_FIELDS, PERSON_FIELDS, SheetLayout, cell_text, col_letter
from weiwen.core.text import clean, clean_texts, has_control, normalize_name_texts, text_series
from weiwen.model.frames import EXTRA_PREFIX, ROSTER_COLUMNS
from weiwen.model.recipients import HouseholdLink
from weiwen.model.vocab import Vocabulary

MAX_HOUSEHOLD_SIZE = 30
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_YEAR_MONTH = (re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), re.compile(r"^(\d{4})(\d{2})$"))
_GRADE_CHARS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}
_GRADE_WORD = r"(IV|I{1,3}|[一二三四1234])"  # Roman numerals as NFKC leaves "Ⅱ级": "II级"
_GRADE_RE = re.compile(rf"^{_GRADE_WORD}(?:级|等级?)?$")
_GRADE_IN_TEXT = re.compile(rf"{_GRADE_WORD}\s*级")
_SIZE_IN_WORDS = re.compile(r"([零一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾]+)\s*(?:人|口)?")
_PHONE_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_FIXED = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,5})?$")


@dataclass
class SheetRoster:
    file: str
    sheet: str
    frame: pd.DataFrame
    problems: list[P.Problem] = field(default_factory=list)


class _Collector:
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


THREADED_ROWS = 20_000  # a sheet this long cleans its text columns on a second thread


def build_roster(sheet: RawSheet, layout: SheetLayout, vocab: Vocabulary, today: date) -> SheetRoster:
    # A long sheet's text columns are cleaned on a second thread while this one checks the others:
    # Arrow's kernels (NFKC, regexes) run without the GIL, so the two overlap (a million rows: 15%
    # faster).  For a village's few hundred rows the thread costs more than it saves (2 ms a file).
    if len(layout.data_rows) < THREADED_ROWS:
        return _build_roster(sheet, layout, vocab, today, None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return _build_roster(sheet, layout, vocab, today, pool)


def _build_roster(sheet: RawSheet, layout: SheetLayout, vocab: Vocabulary, today: date,
                  pool: ThreadPoolExecutor | None) -> SheetRoster:
    out = _Collector(sheet, layout)
    out.problems.extend(layout.problems)
    for p in layout.problems:
        if p.severity is P.Severity.ERROR and p.row is not None and p.code != "header-duplicate":
            out.bad_rows.add(p.row)
    _fill_merged(sheet, layout, out)
    _report_marks(sheet, layout, out)

    rows_idx = layout.data_rows
    n = len(rows_idx)
    cols = layout.columns
    if n and rows_idx[-1] - rows_idx[0] == n - 1:  # no blank row inside the table: slices
        excel_rows = list(range(rows_idx[0] + 1, rows_idx[-1] + 2))
        data_rows = sheet.rows[rows_idx[0]:rows_idx[-1] + 1]
    else:
        excel_rows = [i + 1 for i in rows_idx]
        data_rows = [sheet.rows[i] for i in rows_idx]
    lengths = set(map(len, data_rows))
    width = max(lengths, default=0)
    if len(lengths) > 1:  # CSV rows may be ragged; workbook rows are already rectangular
        for row in data_rows:
            if len(row) < width:
                row.extend([None] * (width - len(row)))

    # Take each used column out of the rows once, then let the row lists go.
    wanted = set(cols.values()) | set(layout.flags.values()) | set(layout.extras.values())
    columns: dict[int, list[object]] = {j: list(map(itemgetter(j), data_rows)) for j in sorted(wanted) if j < width}
    del data_rows
    sheet.rows = []
    if not sheet.typed:
        _unwrap_text_guards(columns, cols, out)
    _blank_markers(columns, cols, out)
    _fill_down(columns, cols, vocab, out)

    def raw(key: str) -> list[object]:
        j = cols.get(key)
        if j is None or j not in columns:
            return [None] * n
        return columns[j]

    arrow: dict[str, pa.Array] = {}  # frame columns already cleaned in Arrow: no second conversion

    cleaned_arrow: dict[str, pa.Array] = {}
    pending = {key: pool.submit(clean_texts, as_text(raw(key)))
               for key in ("sex", "relation", "categories", "household_no", "township", "bank_name", "address",
                           "remark", "village") if key in cols} if pool else {}

    def text(key: str, *, column: bool = False) -> list[str]:
        """Cleaned cells of ``key``; with ``column``, they are the frame's column as they are."""
        values, cleaned_arrow[key] = pending.pop(key).result() if key in pending else clean_texts(as_text(raw(key)))
        if column:
            arrow[key] = cleaned_arrow[key]
        return values

    data: dict[str, Any] = {
        "file": sheet.file,
        "sheet": sheet.name,
        "row": np.asarray(excel_rows, dtype=np.int64),
    }

    # Names.
    names_raw = as_text(raw("name"))
    names, arrow["name"] = normalize_name_texts(names_raw)
    # Cleaning hands back the very string object of a cell it leaves alone, and a cell with a
    # control character is never left alone: only empty or changed names need a look.
    looked_at = np.fromiter(map(is_not, names_raw, names), dtype=bool, count=n) | _mask(pc.equal(arrow["name"], ""))
    for i in np.flatnonzero(looked_at).tolist():
        v, nv = names_raw[i], names[i]
        if not nv:
            out.add("name-missing", excel_rows[i], "name")
        elif not v.isprintable() and has_control(v):
            out.add("name-control-chars", excel_rows[i], "name")
    data["name"] = names

    # Identity numbers, with sex and birth date derived from them.
    id_norm, birth, male, id_text = _check_id_column(raw("id_number"), excel_rows, "id_number", out, today,
                                                     required=True)
    data["id_number"] = id_norm
    data["id_text"] = id_text
    derived_sex = np.where(male, "男", "女")
    has_id = np.not_equal(np.array(id_norm, dtype=object), None)
    if "head_id" in cols:
        head_ids, _, _, _ = _check_id_column(raw("head_id"), excel_rows, "head_id", out, today, required=False)
    else:
        head_ids = [None] * n
    data["head_id"] = head_ids

    # Sex and birth date: as given, cross-checked against the ID.
    sex_out = np.where(has_id, derived_sex, None).astype(object)
    if "sex" in cols:
        values = text("sex")
        given, written_sex, known = _by_value(cleaned_arrow["sex"], vocab.sex)
        for i in np.flatnonzero(written_sex & ~known).tolist():
            out.add("sex-invalid", excel_rows[i], "sex", values[i])
        for i in np.flatnonzero(known & has_id & (given != derived_sex)).tolist():
            out.add("sex-mismatch", excel_rows[i], "sex", values[i], given=given[i], derived=derived_sex[i])
        fill = known & ~has_id
        sex_out[fill] = given[fill]
    data["sex"] = sex_out.tolist()
    birth_out = birth.copy()
    if "birth_date" in cols:
        for i, (r, v) in enumerate(zip(excel_rows, raw("birth_date"), strict=True)):
            if is_blank(v):
                continue
            parsed = parse_date(v, sheet.typed)
            if parsed is None:
                out.add("birthdate-invalid", r, "birth_date", cell_text(v))
                continue
            given, precision = parsed
            if has_id[i]:
                derived = birth[i].astype(object)
                same = (given.year, given.month) == (derived.year, derived.month) and (
                    precision == "month" or given.day == derived.day)
                if not same:
                    shown = given.isoformat()[:7] if precision == "month" else given.isoformat()
                    out.add("birthdate-mismatch", r, "birth_date", shown, given=shown, derived=derived.isoformat())
            elif precision == "day":
                birth_out[i] = np.datetime64(given.isoformat(), "D")
    data["birth_date"] = birth_out

    # Relation and heads.
    relations: list[str | None] = [None] * n
    if "relation" in cols:
        values = text("relation")
        given, written_rel, known = _by_value(cleaned_arrow["relation"], vocab.relation)
        for i in np.flatnonzero(written_rel & ~known).tolist():
            out.add("relation-invalid", excel_rows[i], "relation", values[i])
        rel = np.where(known, given, np.asarray(values, dtype=object))  # an unknown relation is kept as written
        rel[~written_rel] = None
        relations = rel.tolist()
    data["relation"] = relations

    # Categories: one column with several per cell, and/or one yes/no column per category.
    joined = np.full(n, "", dtype=object)
    written = np.zeros(n, dtype=bool)  # any category written, known or not
    if "categories" in cols:
        values = text("categories")
        codes, uniques = _distinct(cleaned_arrow["categories"])
        parsed = [_parse_categories(u, vocab) if u else ([], []) for u in uniques]
        joined = np.array(["、".join(known_cats) for known_cats, _ in parsed], dtype=object)[codes]
        written = np.array([bool(u) for u in uniques], dtype=bool)[codes]
        odd = [c for c, (_, unknown) in enumerate(parsed) if unknown]
        for i in np.flatnonzero(np.isin(codes, odd)).tolist() if odd else ():
            for token in parsed[codes[i]][1]:
                sugg = vocab.suggest_categories(token)
                hint = f"是不是：{'、'.join(sugg)}？" if sugg else ""
                out.add("category-unknown", excel_rows[i], "categories", token, suggest=hint)
    cats: list[list[str]] = [c.split("、") if c else [] for c in joined.tolist()] if layout.flags else []
    for cat, j in layout.flags.items():
        header = layout.headers[j]
        flag = _cached(vocab.flag)
        for i, v in enumerate(columns.get(j, [None] * n)):
            t = clean(cell_text(v))
            if isinstance(v, bool):
                yes: bool | None = v
            else:
                yes = flag(t)
            if yes is None:
                out.problems.append(P.make("flag-invalid", file=sheet.file, sheet=sheet.name, row=excel_rows[i],
                                           column=header, cell=f"{col_letter(j)}{excel_rows[i]}", value=t))
                out.bad_rows.add(excel_rows[i])
            elif yes and cat not in cats[i]:
                cats[i].append(cat)
                written[i] = True
    data["categories"] = ["、".join(c) for c in cats] if layout.flags else joined.tolist()

    # Household size, disability grade.
    data["household_size"] = _int_column(raw("household_size"), excel_rows, "household_size", out,
                                          _parse_household_size, "household-size-invalid", max=MAX_HOUSEHOLD_SIZE)
    data["disability_grade"] = _int_column(raw("disability_grade"), excel_rows, "disability_grade", out,
                                            _parse_grade, "disability-grade-invalid")

    # Phones and bank cards: text only.
    data["phone"] = arrow["phone"] = _phone_column(raw("phone"), excel_rows, out)
    data["bank_card"] = arrow["bank_card"] = _bank_column(raw("bank_card"), excel_rows, out)

    # Plain text fields.
    for key in ("household_no", "head_name", "township", "bank_name", "address", "remark"):
        if key not in cols:
            data[key] = [""] * n
        else:
            if key == "head_name":
                data[key], arrow[key] = normalize_name_texts(as_text(raw(key)))
            else:
                data[key] = text(key, column=True)
    if "village" in cols:
        villages = text("village", column=True)
        for i in np.flatnonzero(_mask(pc.equal(arrow["village"], ""))).tolist():
            out.add("village-empty", excel_rows[i], "village")
    else:
        villages = [layout.village_hint or ""] * n
        if layout.village_hint:
            out.add("village-inferred", layout.header_index + 1, None, source=layout.village_source,
                    village=layout.village_hint)
        elif n:
            out.add("village-missing", layout.header_index + 1, None)
    data["village"] = villages

    # Extra columns are carried through as text, under their header.
    for header, j in layout.extras.items():
        if j in columns:
            data[f"extra:{header}"], arrow[f"extra:{header}"] = clean_texts(as_text(columns[j]))
        else:
            data[f"extra:{header}"] = [""] * n

    _too_long(arrow, excel_rows, layout, out)
    linking = dict(data, **{k: arrow[k] for k in ("household_no", "village") if k in arrow})
    data["household"], arrow["household_link"], arrow["household_ref"], is_head = _households(
        linking, n, layout, out, written)
    data["household_link"], data["household_ref"] = arrow["household_link"], arrow["household_ref"]
    data["is_head"] = is_head
    data["valid"] = ~np.isin(data["row"], np.fromiter(out.bad_rows, dtype=np.int64, count=len(out.bad_rows)))
    ordered = [c for c in ROSTER_COLUMNS if c in data] + [c for c in data if c.startswith(EXTRA_PREFIX)]
    # Text columns become Arrow strings (pandas' default): a third of the memory of Python strings,
    # and the workbook writer reads them without converting.
    final = {c: arrow.get(c, data[c]) for c in ordered}
    frame = pd.DataFrame({c: text_series(v) if isinstance(v, (list, pa.Array)) else v for c, v in final.items()},
                         index=pd.RangeIndex(n))
    return SheetRoster(file=sheet.file, sheet=sheet.name, frame=frame, problems=out.problems)


# --- columns ------------------------------------------------------------------------------

def _check_id_column(values: list[object], rows: list[int], key: str, out: _Collector, today: date,
                     *, required: bool) -> tuple[list[str | None], np.ndarray, np.ndarray, list[str | None]]:
    """Normalised IDs (None where unusable), birth dates, sexes, and the text of each unusable ID
    (normalised as far as it goes: duplicate checks compare it with the valid ones, to catch typing errors)."""
    cells, other = _text_cells(values)
    numeric: list[int] = []
    if other.any():  # numbers are reported as such; dates and booleans are checked as the text shown
        shown_as: dict[int, str] = {}
        for i in np.flatnonzero(other).tolist():
            if is_number(values[i]):
                numeric.append(i)
            else:
                shown_as[i] = cell_text(values[i])
        if shown_as:
            pick = np.zeros(len(values), dtype=bool)
            pick[list(shown_as)] = True
            cells = pc.replace_with_mask(cells, pa.array(pick), pa.array(list(shown_as.values()), pa.large_string()))
    cells = cells.fill_null("")
    res = check_ids(cells, today)
    for i in numeric:
        shown = f"{float(values[i]):.5E}"  # type: ignore[arg-type]
        out.add("id-numeric-cell", rows[i], key, shown)
        res.normalized[i] = None
    at = list(res.details)
    texts = dict(zip(at, cells.take(pa.array(at, pa.int64())).to_pylist(), strict=True))
    numeric_set = set(numeric)
    for i, chk in res.details.items():
        if i in numeric_set:
            continue
        if chk.code == "id-missing" and not required:
            continue
        shown = mask_id(texts[i]) if texts[i] else None
        if chk.code is not None:
            out.add(chk.code, rows[i], key, shown, **chk.fields)
        for code, fields in chk.warnings:
            if code == "id-legacy-15":
                fields = {"upgraded": mask_id(str(fields["upgraded"]))}
            out.add(code, rows[i], key, shown, **fields)
    birth = res.birth
    male = res.male
    if numeric:
        birth[numeric] = np.datetime64("NaT")
    unusable: list[str | None] = [None] * len(values)
    for i in res.details:
        if res.normalized[i] is None and texts[i]:
            unusable[i] = normalize_id(texts[i])[0]
    return res.normalized, birth, male, unusable


def parse_date(v: object, typed: bool) -> tuple[date, str] | None:
    """A birth date as users write it; returns the date and its precision ('day' or 'month')."""
    if isinstance(v, datetime):
        return v.date(), "day"
    if isinstance(v, date):
        return v, "day"
    if is_number(v):
        f = float(v)
        if f.is_integer() and 19000101 <= f <= 29991231:
            return parse_date(str(int(f)), typed)
        if f.is_integer() and 190001 <= f <= 299912:
            return parse_date(str(int(f)), typed)
        if 61 <= f < 2958466 and typed:  # Excel serial (1900 system; serial 60 is the phantom 29 Feb 1900)
            return _EXCEL_EPOCH + timedelta(days=int(f)), "day"
        return None
    s = clean(cell_text(v)).replace(" ", "")
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "day"
            except ValueError:
                return None
    for pat in _YEAR_MONTH:
        m = pat.match(s)
        if m and 1 <= int(m.group(2)) <= 12:
            return date(int(m.group(1)), int(m.group(2)), 1), "month"
    return None


def is_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def is_number(v: object) -> bool:
    """A numeric cell (Excel stores booleans apart; they are not numbers here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_text(values: list[object]) -> list[str]:
    """Cells as text: strings as they are, empty cells as "", numbers and dates as a user sees them."""
    if set(map(type, values)) <= {str}:  # the usual column: all text already
        return values  # type: ignore[return-value]
    return [v if type(v) is str else ("" if v is None else cell_text(v)) for v in values]


def _parse_household_size(s: str) -> int | None:
    """3, "3人", "3口", and the number in words: "三", "叁人", "十二"."""
    m = re.fullmatch(r"(\d+)(?:\.0+)?\s*(?:人|口)?", s)
    if m:
        return int(m.group(1))
    m = _SIZE_IN_WORDS.fullmatch(s)
    if m:
        import cn2an  # 0.25 s to import: only a roster that writes numbers in words needs it

        try:
            return int(cn2an.cn2an(m.group(1), "normal"))
        except ValueError:
            return None
    return None


def _parse_grade(s: str) -> int | None:
    """"二级", "2", "Ⅱ级", and the grade inside a certificate's wording: "肢体二级", "视力残疾一级",
    "残疾等级二级" (one grade only: "肢体二级、智力一级" is not guessed).  A cell that merely starts
    with a digit ("12", "2型糖尿病") or a numeral ("一户多残") names no grade."""
    s = s.replace("级别", "级")
    m = _GRADE_RE.match(s)
    if m:
        return _GRADE_CHARS[m.group(1)]
    grades = {_GRADE_CHARS[g] for g in _GRADE_IN_TEXT.findall(s)}
    return grades.pop() if len(grades) == 1 else None


def _int_column(values: list[object], rows: list[int], key: str, out: _Collector,
                parse: Callable[[str], int | None], code: str, **fields: object) -> pd.array:
    """Whole numbers from cells as typed (3, 3.0, "3人"); each distinct cell is read once."""
    limit = fields.get("max")
    if bool in set(map(type, values)):  # True == 1 to a hash table, but not as a cell: one by one
        codes = np.arange(len(values))
        uniques: list[object] = list(values)
    else:
        codes, found = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        uniques = found.tolist()
    texts = ["" if v is None or v != v else clean(cell_text(v)) for v in uniques]  # factorize turns None to NaN
    got: list[int | None] = []
    for text in texts:
        n = parse(text) if text else None
        got.append(n if n is not None and n >= 1 and not (isinstance(limit, int) and n > limit) else None)
    for c in [c for c, (t, g) in enumerate(zip(texts, got, strict=True)) if t and g is None]:
        for i in np.flatnonzero(codes == c).tolist():
            out.add(code, rows[i], key, texts[c], **fields)
    return pd.array(np.array(got + [None], dtype=object)[codes], dtype="Int64")


def _text_cells(values: list[object]) -> tuple[pa.Array, np.ndarray]:
    """The column's text cells as Arrow strings (null for any other cell), and which cells are
    neither text nor empty (numbers, dates, booleans: the rare cells the checks look at one by one)."""
    if set(map(type, values)) <= {str, type(None)}:  # the usual column
        return pa.array(values, type=pa.large_string()), np.zeros(len(values), dtype=bool)
    other = np.fromiter((v is not None and type(v) is not str for v in values), dtype=bool, count=len(values))
    return pa.array([v if type(v) is str else None for v in values], type=pa.large_string()), other


def _mask(arrow_bools: pa.Array) -> np.ndarray:
    return np.asarray(arrow_bools.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _column_by_cell(values: list[object], usual: str, one: Callable[[int, object], str]) -> pa.Array:
    """A text column whose usual cells (text matching the regex ``usual``) are kept as typed and
    whose empty cells become ""; every other cell goes through ``one(i, cell)``, which reports."""
    cells, other = _text_cells(values)
    keep = _mask(pc.match_substring_regex(cells, usual)) & ~other
    empty = _mask(pc.equal(cells.fill_null(""), "")) & ~other
    column = pc.if_else(pa.array(keep), cells, pa.scalar("", pa.large_string()))
    rest = np.flatnonzero(~keep & ~empty)
    if len(rest):
        fixed = pa.array([one(i, values[i]) for i in rest.tolist()], type=pa.large_string())
        pick = np.zeros(len(values), dtype=bool)
        pick[rest] = True
        column = pc.replace_with_mask(column, pa.array(pick), fixed)
    return column


def _phone_cell(r: int, v: object, out: _Collector) -> str:
    """One phone cell as typed (row ``r``): the number to keep, or "" after reporting why not."""
    if is_blank(v):
        return ""
    if is_number(v):
        f = float(v)  # type: ignore[arg-type]
        if not (f.is_integer() and 0 < f < 1e15):
            out.add("phone-invalid", r, "phone", "数字")
            return ""
        v = str(int(f))
        out.add("phone-numeric-cell", r, "phone", mask_digits(v), digits=len(v))
    s = clean(cell_text(v))
    compact = re.sub(r"[\s()（）]", "", s)
    compact = re.sub(r"^(\+?86|0086)-?(?=1)", "", compact)
    if _PHONE_MOBILE.match(compact.replace("-", "")):
        return compact.replace("-", "")
    if _PHONE_FIXED.match(compact):
        return compact
    out.add("phone-invalid", r, "phone", mask_digits(s))
    return ""


def _bank_cell(r: int, v: object, out: _Collector) -> str:
    """One bank-card cell as typed (row ``r``): the digits to keep, or "" after reporting why not."""
    if is_blank(v):
        return ""
    if is_number(v):
        out.add("bank-numeric-cell", r, "bank_card", f"{float(v):.5E}")  # type: ignore[arg-type]
        return ""
    s = re.sub(r"[\s\-]", "", clean(cell_text(v)))
    if not re.fullmatch(r"[0-9]{12,19}", s):  # ASCII digits: a bank reads no other
        out.add("bank-invalid", r, "bank_card", mask_digits(s, 4, 4))
        return ""
    return s


_USUAL_PHONE = r"^1[3-9][0-9]{9}$"  # a mobile number typed as text: kept as it is
_USUAL_CARD = r"^[0-9]{12,19}$"


def _phone_column(values: list[object], rows: list[int], out: _Collector) -> pa.Array:
    return _column_by_cell(values, _USUAL_PHONE, lambda i, v: _phone_cell(rows[i], v, out))


def _bank_column(values: list[object], rows: list[int], out: _Collector) -> pa.Array:
    cards = _column_by_cell(values, _USUAL_CARD, lambda i, v: _bank_cell(rows[i], v, out))
    for i in np.flatnonzero(~luhn_valid(cards)).tolist():
        out.add("bank-luhn", rows[i], "bank_card", mask_digits(cards[i].as_py(), 4, 4))
    return cards


def luhn_valid(numbers: pa.Array | Sequence[str]) -> np.ndarray:
    """Luhn check of ASCII digit strings, vectorised per length; empty strings count as valid."""
    numbers = pa.array(numbers, type=pa.large_string()) if not isinstance(numbers, pa.Array) else numbers
    lengths = np.asarray(pc.utf8_length(numbers).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    ok = np.ones(len(numbers), dtype=bool)
    for length in np.unique(lengths[lengths > 0]).tolist():
        idx = np.flatnonzero(lengths == length)
        same = numbers.take(pa.array(idx))  # a fresh array: its characters lie end to end from offset 0
        digits = np.frombuffer(same.buffers()[2], dtype=np.uint8, count=len(idx) * length)
        rev = (digits.reshape(-1, length).astype(np.int64) - 48)[:, ::-1]
        doubled = rev[:, 1::2] * 2
        total = rev[:, ::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
        ok[idx] = total % 10 == 0
    return ok


_CATEGORY_NOTE = re.compile(r"\s*[（(][^（）()]*[）)]")  # 低保（A类）, 特困(分散), 残疾人（二级）
_CATEGORY_TIER = re.compile(r"^[A-Da-d一二三四1-4]\s*[类档]|[A-Da-d一二三四1-4]\s*[类档]$")  # A类低保, 低保一档
_CATEGORY_JOINER = re.compile(r"[+＋&＆]|和|及")  # 低保+残疾, 低保和残疾


def _parse_categories(cell: str, vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """The known categories in a cell and the tokens that are none.  A note in brackets and a tier
    (A类, 一档) around a known category are set aside; "+", "和", "及" join two known categories."""
    known: list[str] = []
    unknown: list[str] = []
    whole = vocab.category(cell)
    tokens = [cell] if whole else vocab.split_categories(_CATEGORY_NOTE.sub("", cell) or cell)
    for t in tokens:
        found = [vocab.category(t) or vocab.category(_CATEGORY_TIER.sub("", t))]
        if found[0] is None:
            parts = [vocab.category(part) for part in _CATEGORY_JOINER.split(t) if part]
            found = parts if len(parts) > 1 and None not in parts else [None]
        if found[0] is None:
            unknown.append(t)
        for c in found:
            if c is not None and c not in known:
                known.append(c)
    return known, unknown


def _distinct(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Each cell's index into the column's distinct texts (in order of first appearance), and those texts."""
    encoded = pc.dictionary_encode(values)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


def _join(*parts: str | np.ndarray | pa.Array) -> pa.Array:
    """Texts joined element by element: constant strings and columns (object arrays or Arrow)."""
    large = pa.large_string()
    return pc.binary_join_element_wise(*(pa.scalar(p, large) if isinstance(p, str) else pa.array(p, large)
                                         for p in parts), pa.scalar("", large))


def _codes(values: Sequence[str | None] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's code, numbered in order of first appearance, and the distinct texts (an object
    array, so ``texts[codes]`` gives the cells back); a missing cell counts as ""."""
    cells = values if isinstance(values, pa.Array) else pa.array(values, type=pa.large_string())
    encoded = pc.dictionary_encode(cells.fill_null(""))
    return encoded.indices.to_numpy(), np.array(encoded.dictionary.to_pylist() or [""], dtype=object)


def _by_value(values: pa.Array, fn: Callable[[str], object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``fn`` of every non-empty cell, run once per distinct text: the results (an object array),
    which cells are written, and which results are not ``None``."""
    codes, uniques = _distinct(values)
    mapped = [fn(u) if u else None for u in uniques]
    results = np.empty(len(mapped) + 1, dtype=object)  # the last slot: cells factorize leaves out
    results[:-1] = mapped
    written = np.array([bool(u) for u in uniques] + [False], dtype=bool)
    known = np.array([m is not None for m in mapped] + [False], dtype=bool)
    return results[codes], written[codes], known[codes]


def _cached(fn: Callable[[str], object]) -> Callable[[str], object]:
    cache: dict[str, object] = {}

    def get(v: str) -> object:
        if v not in cache:
            cache[v] = fn(v)
        return cache[v]

    return get  # type: ignore[return-value]


# What villages write in a cell that does not apply ("no bank card", "not disabled").  In these
# columns it means an empty cell; as a value it would be an error that leaves the person out.
_MARKER_WORDS = ("无", "没有", "暂无", "空", "否", "/", "／", "\\", "-", "－", "--", "—", "——")  # not "一": 1
_MARKER_PADS = ("", " ", "  ", "\u3000", "\t")
# As typed: alone, in brackets, with spaces around; the cells are looked up as they are, in a set.
BLANK_MARKERS = frozenset(f"{left}{a}{w}{b}{right}" for w in _MARKER_WORDS for a, b in (("", ""), ("（", "）"), ("(", ")"))
                          for left in _MARKER_PADS for right in _MARKER_PADS)
_BLANK_MARKER_FIELDS = ("id_number", "head_id", "household_no", "village", "sex", "birth_date", "relation",
                        "categories", "household_size", "disability_grade", "phone", "bank_card", "bank_name")


def _blank_markers(columns: dict[int, list[object]], cols: dict[str, int], out: _Collector) -> None:
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


def _fill_down(columns: dict[int, list[object]], cols: dict[str, int], vocab: Vocabulary, out: _Collector) -> None:
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


def _unwrap_text_guards(columns: dict[int, list[object]], cols: dict[str, int], out: _Collector) -> None:
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


def _too_long(arrow: dict[str, pa.Array], rows: list[int], layout: SheetLayout, out: _Collector) -> None:
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


# --- merged cells -------------------------------------------------------------------------

def _fill_merged(sheet: RawSheet, layout: SheetLayout, out: _Collector) -> None:
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


def _report_marks(sheet: RawSheet, layout: SheetLayout, out: _Collector) -> None:
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


# --- households ---------------------------------------------------------------------------

def _households(data: dict[str, Any], n: int, layout: SheetLayout, out: _Collector, written: list[bool]
                ) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
    """Link members into households, find each head and check each household's structure.

    Members are linked by 户号 (within a village), else by 户主身份证号, else by the order of
    rows when there is a 与户主关系 column (a 户主 row starts a household), else each row is a
    household.  Checks run as group-bys on integer codes; Python loops only over households
    with a problem.
    """
    cols = layout.columns
    rows = data["row"]
    no_code, no_text = _codes(data["household_no"])
    head_code, head_text = _codes(data["head_id"])
    village_code, village_text = _codes(data["village"])
    rel_code, rel_text = _codes(data["relation"])
    has_relation = "relation" in cols
    marked_head = (rel_text == "户主")[rel_code]

    if has_relation:
        starts = marked_head.copy()
        if n:
            starts[0] = True
        fallback_kind, fallback_row = HouseholdLink.SEQUENCE, rows[np.maximum.accumulate(np.where(starts, np.arange(n), 0))] \
            if n else rows
    else:
        fallback_kind, fallback_row = HouseholdLink.ROW, rows
    # Each person's household as one integer (which link, then the linking values' codes), so the
    # grouping is numeric; the text key is made once per household, not once per person.
    has_no, has_head = (no_text != "")[no_code], (head_text != "")[head_code]
    link = np.where(has_no, (village_code.astype(np.int64) << 31) | no_code,  # codes < 2**30: kinds never meet
                    np.where(has_head, (1 << 61) | head_code.astype(np.int64),
                             (1 << 62) | fallback_row.astype(np.int64)))
    codes = pd.factorize(link)[0]  # numbered in order of first appearance, as before
    first_of = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    first_of[codes[::-1]] = np.arange(n)[::-1]
    at = first_of
    # Each household's structured key (model.recipients.HouseholdKey): the link and its reference,
    # made once per household in Arrow and spread to the members.
    g = len(at)
    link = np.where(has_no[at], HouseholdLink.NUMBER.value, np.where(
        has_head[at], HouseholdLink.HEAD_ID.value, fallback_kind.value))
    ref = pc.if_else(pa.array(has_no[at]), pa.array(no_text[no_code[at]], type=pa.large_string()), pc.if_else(
        pa.array(has_head[at]), pa.array(head_text[head_code[at]], type=pa.large_string()),
        pc.cast(pa.array(fallback_row[at]), pa.large_string()))) if g else pa.array([], type=pa.large_string())
    take = pa.array(codes)
    link_of = pa.array(link, type=pa.large_string()).take(take) if n else pa.array([], type=pa.large_string())
    ref_of = ref.take(take) if n else pa.array([], type=pa.large_string())
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(g + 1))

    def members_of(c: int) -> np.ndarray:
        return order[bounds[c]:bounds[c + 1]]

    def first_where(mask: np.ndarray) -> np.ndarray:
        """Per group, the first position where ``mask`` holds (-1 where it never does)."""
        out_ = np.full(g, -1, dtype=np.int64)
        pos = np.flatnonzero(mask)[::-1]
        out_[codes[pos]] = pos  # written last to first: the first position stays
        return out_

    def distinct(vcodes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Per group, how many distinct values (given as codes >= 0) where ``mask`` holds."""
        vcodes = vcodes.astype(np.int64)
        width = int(vcodes.max(initial=0)) + 1
        pairs = pd.unique(codes[mask].astype(np.int64) * width + vcodes[mask])
        return np.bincount(pairs // width, minlength=g)

    if has_relation:
        is_head = marked_head
    else:
        # The head is the member whose ID is the 户主身份证号, else whose name is the 户主姓名, else the first.
        ids = np.array([v or "" for v in data["id_number"]], dtype=object)
        head_id = head_text[head_code]
        names = np.array(data["name"], dtype=object)
        head_names = np.array(data["head_name"], dtype=object)
        score = 2 * ((ids == head_id) & has_head) + ((names == head_names) & (head_names != ""))
        ranked = np.lexsort((np.arange(n), -score, codes))
        firsts = ranked[np.r_[True, codes[ranked][1:] != codes[ranked][:-1]]] if n else ranked
        is_head = np.zeros(n, dtype=bool)
        is_head[firsts] = True

    size = data["household_size"]
    size_na = np.asarray(size.isna(), dtype=bool)
    size_val = np.where(size_na, -1, np.asarray(size.fillna(-1), dtype=np.int64))
    first = first_of
    members = np.bincount(codes, minlength=g)
    heads = np.bincount(codes, weights=is_head, minlength=g).astype(np.int64)
    villages = distinct(village_code, (village_text != "")[village_code])
    sizes = distinct(np.maximum(size_val, 0), ~size_na)
    max_size = np.full(g, -1, dtype=np.int64)
    np.maximum.at(max_size, codes, size_val)
    any_written = np.bincount(codes, weights=np.asarray(written, dtype=bool), minlength=g) > 0
    hid_at = first_where(has_head)

    def label(c: int) -> str:
        kind, rest = link[c], ref[c].as_py()
        if kind == HouseholdLink.NUMBER:
            return rest
        if kind == HouseholdLink.HEAD_ID:
            return "户主 " + mask_id(rest)
        return f"第 {rest} 行起" if kind == HouseholdLink.SEQUENCE else f"第 {rest} 行"

    for c in np.flatnonzero(heads > 1):
        head_rows = sorted(rows[m] for m in members_of(c) if is_head[m])
        for r in head_rows[1:]:
            out.add("household-multiple-heads", int(r), "relation", None, household=label(c), count=len(head_rows),
                    rows="、".join(map(str, head_rows)))
    for c in np.flatnonzero(heads == 0):
        member_rows = sorted(rows[members_of(c)].tolist())
        out.add("household-no-head", member_rows[0], "relation", None, household=label(c),
                rows=_short_rows(member_rows))
    listed = set(data["id_number"]) if (hid_at >= 0).any() else set()
    for c in np.flatnonzero(hid_at >= 0):
        hid = head_text[head_code[hid_at[c]]]
        if hid not in listed:
            out.add("household-head-not-listed", int(rows[first[c]]), "head_id", mask_id(hid), id=mask_id(hid))
    if "head_name" in cols:
        names_l, head_names_l = data["name"], data["head_name"]
        given_at = first_where(np.array([bool(h) for h in head_names_l], dtype=bool))
        for pos in np.flatnonzero(is_head):
            at = given_at[codes[pos]]
            given = head_names_l[at] if at >= 0 else ""
            if given and names_l[pos] and given != names_l[pos]:
                out.add("household-head-name-mismatch", int(rows[pos]), "head_name", given, given=given,
                        actual=names_l[pos])
    for c in np.flatnonzero(villages > 1):
        m = np.sort(members_of(c))
        vs = sorted({v for v in village_text[village_code[m]] if v})
        out.add("household-split-villages", int(rows[m[1]]), "village", None, household=label(c),
                villages="、".join(vs))
    for c in np.flatnonzero(sizes > 1):
        values = sorted({int(v) for v in size_val[members_of(c)] if v >= 0})
        out.add("household-size-inconsistent", int(rows[first[c]]), "household_size", None, household=label(c),
                values="、".join(map(str, values)))
    one = sizes == 1
    for c in np.flatnonzero(one & (max_size < members)):
        out.add("household-size-fewer", int(rows[first[c]]), "household_size", str(max_size[c]), household=label(c),
                size=int(max_size[c]), listed=int(members[c]))
    for c in np.flatnonzero(one & (max_size > members) & (members > 1)):
        out.add("household-size-more", int(rows[first[c]]), "household_size", str(max_size[c]), household=label(c),
                size=int(max_size[c]), listed=int(members[c]))
    if "categories" in cols or layout.flags:
        for c in np.flatnonzero(~any_written):
            out.add("household-no-category", int(rows[first[c]]), "categories", None, household=label(c))
    return codes.astype(np.int64), link_of, ref_of, is_head


def _short_rows(rows: Sequence[int]) -> str:
    shown = "、".join(str(r) for r in rows[:6])
    return shown + ("…" if len(rows) > 6 else "")
