"""Parsing one field of every row at once: ID numbers, dates, numbers, phones, cards, categories."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core.ids import check_ids, mask_digits, mask_id, normalize_id
from weiwen.roster.layout import cell_text
from weiwen.core.text import clean
from weiwen.model.vocab import Vocabulary
from weiwen.roster.collect import Collector


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



def check_id_column(values: list[object], rows: list[int], key: str, out: Collector, today: date,
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


def parse_household_size(s: str) -> int | None:
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


def parse_grade(s: str) -> int | None:
    """"二级", "2", "Ⅱ级", and the grade inside a certificate's wording: "肢体二级", "视力残疾一级",
    "残疾等级二级" (one grade only: "肢体二级、智力一级" is not guessed).  A cell that merely starts
    with a digit ("12", "2型糖尿病") or a numeral ("一户多残") names no grade."""
    s = s.replace("级别", "级")
    m = _GRADE_RE.match(s)
    if m:
        return _GRADE_CHARS[m.group(1)]
    grades = {_GRADE_CHARS[g] for g in _GRADE_IN_TEXT.findall(s)}
    return grades.pop() if len(grades) == 1 else None


def int_column(values: list[object], rows: list[int], key: str, out: Collector,
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


def arrow_mask(arrow_bools: pa.Array) -> np.ndarray:
    return np.asarray(arrow_bools.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _column_by_cell(values: list[object], usual: str, one: Callable[[int, object], str]) -> pa.Array:
    """A text column whose usual cells (text matching the regex ``usual``) are kept as typed and
    whose empty cells become ""; every other cell goes through ``one(i, cell)``, which reports."""
    cells, other = _text_cells(values)
    keep = arrow_mask(pc.match_substring_regex(cells, usual)) & ~other
    empty = arrow_mask(pc.equal(cells.fill_null(""), "")) & ~other
    column = pc.if_else(pa.array(keep), cells, pa.scalar("", pa.large_string()))
    rest = np.flatnonzero(~keep & ~empty)
    if len(rest):
        fixed = pa.array([one(i, values[i]) for i in rest.tolist()], type=pa.large_string())
        pick = np.zeros(len(values), dtype=bool)
        pick[rest] = True
        column = pc.replace_with_mask(column, pa.array(pick), fixed)
    return column


def _phone_cell(r: int, v: object, out: Collector) -> str:
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


def _bank_cell(r: int, v: object, out: Collector) -> str:
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


def phone_column(values: list[object], rows: list[int], out: Collector) -> pa.Array:
    return _column_by_cell(values, _USUAL_PHONE, lambda i, v: _phone_cell(rows[i], v, out))


def bank_column(values: list[object], rows: list[int], out: Collector) -> pa.Array:
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


def parse_categories(cell: str, vocab: Vocabulary) -> tuple[list[str], list[str]]:
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


def distinct_texts(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Each cell's index into the column's distinct texts (in order of first appearance), and those texts."""
    encoded = pc.dictionary_encode(values)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


def text_codes(values: Sequence[str | None] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's code, numbered in order of first appearance, and the distinct texts (an object
    array, so ``texts[codes]`` gives the cells back); a missing cell counts as ""."""
    cells = values if isinstance(values, pa.Array) else pa.array(values, type=pa.large_string())
    encoded = pc.dictionary_encode(cells.fill_null(""))
    return encoded.indices.to_numpy(), np.array(encoded.dictionary.to_pylist() or [""], dtype=object)


def by_value(values: pa.Array, fn: Callable[[str], object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``fn`` of every non-empty cell, run once per distinct text: the results (an object array),
    which cells are written, and which results are not ``None``."""
    codes, uniques = distinct_texts(values)
    mapped = [fn(u) if u else None for u in uniques]
    results = np.empty(len(mapped) + 1, dtype=object)  # the last slot: cells factorize leaves out
    results[:-1] = mapped
    written = np.array([bool(u) for u in uniques] + [False], dtype=bool)
    known = np.array([m is not None for m in mapped] + [False], dtype=bool)
    return results[codes], written[codes], known[codes]


def memoized(fn: Callable[[str], object]) -> Callable[[str], object]:
    cache: dict[str, object] = {}

    def get(v: str) -> object:
        if v not in cache:
            cache[v] = fn(v)
        return cache[v]

    return get  # type: ignore[return-value]


# What villages write in a cell that does not apply ("no bank card", "not disabled").  In these
# columns it means an empty cell; as a value it would be an error that leaves the person out.
