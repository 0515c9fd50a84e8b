"""Resident identity numbers (GB 11643-1999): normalisation, checks, derived facts, masking.

python-stdnum's ``cn.ric`` provides the check character and the region table; weiwen adds
what it does not do: normalising what people type (full-width digits, lower-case x, spaces,
zero-width characters), upgrading 15-digit numbers, and refusing implausible birth dates.

``check_id`` is the reference implementation for one value; ``check_ids`` does the same for
a whole column, with a vectorised fast path for the (overwhelmingly common) clean values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric as stdnum_ric
from stdnum import numdb as stdnum_numdb

from weiwen.core.text import has_invisible, strip_invisible

_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_CLEAN18 = re.compile(r"^[0-9]{17}[0-9X]$")
_FLOATISH = re.compile(r"^[0-9]+(\.[0-9]*)?[eE][+]?[0-9]+$|^[0-9]+\.[0-9]+$")
MIN_BIRTH = date(1900, 1, 1)
MAX_AGE = 120


@dataclass
class IdCheck:
    """Outcome for one value: ``normalized`` is set when the ID is usable."""

    normalized: str | None = None
    code: str | None = None  # the error code, if any
    fields: dict[str, object] = field(default_factory=dict)
    warnings: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    birth: date | None = None
    sex: str | None = None


def normalize_id(raw: str) -> tuple[str, list[str]]:
    """Return the normalised text and what was changed (for the ``id-normalized`` warning)."""
    changes: list[str] = []
    s = raw
    if has_invisible(s):
        changes.append("不可见字符")
        s = strip_invisible(s)
    stripped = re.sub(r"\s+", "", s)
    if stripped != s:
        if stripped != s.strip() or s != s.strip():
            changes.append("空格")
        s = stripped
    nfkc = unicodedata.normalize("NFKC", s)
    if nfkc != s:
        changes.append("全角字符")
        s = nfkc
    if "x" in s:
        changes.append("小写 x")
        s = s.replace("x", "X")
    return s, changes


def check_digit(first17: str) -> str:
    """The check character for the first 17 digits (stdnum wants a placeholder 18th)."""
    return stdnum_ric.calc_check_digit(first17 + "0")


def upgrade15(id15: str) -> str:
    body = id15[:6] + "19" + id15[6:]
    return body + check_digit(body)


@lru_cache(maxsize=8192)
def region_known(prefix6: str) -> bool:
    """Whether the 6-digit region code was ever assigned (retired codes count as known)."""
    results = _region_db().info(prefix6)
    return any("county" in props for _part, props in results)


@lru_cache(maxsize=1)
def _region_db():  # type: ignore[no-untyped-def]
    return stdnum_numdb.get("cn/loc")


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _birth_problem(birth: date, today: date) -> str | None:
    if birth > today:  # today, or the campaign's reference date (基准日期) when one is given
        return f"晚于核对日期 {today.isoformat()}（今天，或指定活动时活动的基准日期）"
    if birth < MIN_BIRTH:
        return "早于 1900 年"
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age > MAX_AGE:
        return f"意味着年龄已超过 {MAX_AGE} 岁"
    return None


def check_id(raw: str, today: date) -> IdCheck:
    """Check one ID typed as text."""
    res = IdCheck()
    if _FLOATISH.match(raw.strip()):
        res.code, res.fields = "id-precision-lost", {}
        return res
    s, changes = normalize_id(raw)
    if not s:
        res.code = "id-missing"
        return res
    bad = sorted({ch for ch in s if not (ch.isascii() and (ch.isdigit() or ch == "X"))})
    if bad or ("X" in s and not s.endswith("X")) or s.count("X") > 1:
        res.code, res.fields = "id-bad-char", {"chars": "".join(bad) or "X"}
        return res
    if changes:
        res.warnings.append(("id-normalized", {"what": "、".join(changes)}))
    if len(s) == 15:
        if "X" in s:
            res.code, res.fields = "id-bad-char", {"chars": "X"}
            return res
        up = upgrade15(s)
        res.warnings.append(("id-legacy-15", {"upgraded": up}))
        s = up
    elif len(s) != 18:
        res.code, res.fields = "id-length", {"length": len(s)}
        return res
    ymd = s[6:14]
    try:
        birth = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        res.code, res.fields = "id-birthdate", {"date": f"{ymd[:4]}-{ymd[4:6]}-{ymd[6:8]}"}
        return res
    why = _birth_problem(birth, today)
    if why:
        res.code, res.fields = "id-birthdate-implausible", {"date": birth.isoformat(), "why": why}
        return res
    expected = check_digit(s[:17])
    if expected != s[17]:
        if s[14:17] == "000" or s[15:] == "000" or s.endswith("00"):
            res.code, res.fields = "id-checksum-zeros", {"tail": s[-3:]}
        else:
            res.code, res.fields = "id-checksum", {"expected": expected, "actual": s[17]}
        return res
    if not region_known(s[:6]):
        res.warnings.append(("id-region", {"region": s[:6]}))
    res.normalized = s
    res.birth = birth
    res.sex = "男" if int(s[16]) % 2 else "女"
    return res


@dataclass
class IdColumn:
    """Result of ``check_ids`` for a whole column (arrays aligned with the input)."""

    normalized: list[str | None]
    birth: np.ndarray  # datetime64[D], NaT where unusable
    male: np.ndarray  # bool
    details: dict[int, IdCheck]  # index -> full check, for values that were not clean


def check_ids(values: Sequence[str] | pa.Array, today: date) -> IdColumn:
    """Check a column of IDs typed as text (a list, or Arrow strings with "" for an empty cell).
    Clean values take a vectorised path; only the rest are checked one by one."""
    cells = values if isinstance(values, pa.Array) else pa.array(values, type=pa.large_string())
    n = len(cells)
    normalized = np.full(n, None, dtype=object)
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    male = np.zeros(n, dtype=bool)
    details: dict[int, IdCheck] = {}

    clean18 = pc.match_substring_regex(cells, _CLEAN18.pattern).fill_null(False)
    idx = np.flatnonzero(clean18.to_numpy(zero_copy_only=False))
    slow = np.ones(n, dtype=bool)
    if len(idx):
        clean = cells.take(pa.array(idx))  # a fresh array: its 18-character values lie end to end
        buf = np.frombuffer(clean.buffers()[2], dtype=np.uint8, count=18 * len(idx)).reshape(-1, 18)
        digits = buf[:, :17].astype(np.int64) - 48
        expected = _CHECK[(digits @ _WEIGHTS) % 11]
        ok = expected == buf[:, 17]
        years = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
        months = digits[:, 10] * 10 + digits[:, 11]
        days = digits[:, 12] * 10 + digits[:, 13]
        ok &= (months >= 1) & (months <= 12) & (days >= 1) & (days <= 31) & (years >= MIN_BIRTH.year)
        # Build dates only for plausible parts, then confirm they round-trip (no 02-30).
        safe_m = np.where(ok, months, 1)
        safe_d = np.where(ok, days, 1)
        safe_y = np.where(ok, years, 2000)
        ym = (safe_y - 1970) * 12 + (safe_m - 1)
        b = ym.astype("datetime64[M]").astype("datetime64[D]") + (safe_d - 1)
        ok &= b.astype("datetime64[M]") == ym.astype("datetime64[M]")
        today64 = np.datetime64(today.isoformat(), "D")
        oldest = np.datetime64(_years_before(today, MAX_AGE + 1).isoformat(), "D")
        ok &= (b <= today64) & (b > oldest)
        prefixes = np.ascontiguousarray(buf[:, :6]).view("S6").ravel()
        uniq = np.unique(prefixes[ok])
        known = {p for p in uniq if region_known(p.decode())}
        region_ok = np.isin(prefixes, np.array(sorted(known), dtype="S6")) if known else np.zeros(len(idx), bool)
        ok &= region_ok
        good = idx[ok]
        birth[good] = b[ok]
        male[good] = (digits[ok, 16] % 2) == 1
        normalized[good] = clean.filter(pa.array(ok)).to_numpy(zero_copy_only=False)
        slow[good] = False
    rest = np.flatnonzero(slow)
    for i, value in zip(rest.tolist(), cells.take(pa.array(rest)).to_pylist(), strict=True):
        res = check_id(value or "", today)
        details[i] = res
        if res.normalized is not None:
            normalized[i] = res.normalized
            assert res.birth is not None
            birth[i] = np.datetime64(res.birth.isoformat(), "D")
            male[i] = res.sex == "男"
    return IdColumn(normalized=normalized.tolist(), birth=birth, male=male, details=details)


def mask_id(value: object) -> str:
    """Keep the first 6 and last 4 characters: 110101********123X ("" for a missing value)."""
    if not isinstance(value, str):
        return ""
    s = value.strip()
    if len(s) <= 10:
        return s[:2] + "*" * max(len(s) - 2, 0) if len(s) > 2 else "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_ids(values: Sequence[object] | pa.Array) -> pa.Array:
    """``mask_id`` for a whole column, as Arrow strings.  An 18-character ID of ASCII letters and
    digits (the usual value) is masked by Arrow's string kernels; any other value goes through
    ``mask_id``."""
    cells = values if isinstance(values, pa.Array) else pa.array(
        [v if isinstance(v, str) else None for v in values], type=pa.large_string())
    cells = cells.cast(pa.large_string())
    usual = pc.match_substring_regex(cells, r"^[0-9A-Za-z]{18}$").fill_null(False)
    stars, empty = pa.scalar("*" * 8, pa.large_string()), pa.scalar("", pa.large_string())
    masked = pc.binary_join_element_wise(pc.utf8_slice_codeunits(cells, 0, 6), stars,
                                         pc.utf8_slice_codeunits(cells, 14, 18), empty)
    masked = pc.if_else(usual, masked, empty)
    rest = np.flatnonzero(~np.asarray(usual.to_numpy(zero_copy_only=False), dtype=bool))
    if len(rest):
        pick = np.zeros(len(cells), dtype=bool)
        pick[rest] = True
        fixed = [mask_id(v) for v in cells.take(pa.array(rest)).to_pylist()]
        masked = pc.replace_with_mask(masked, pa.array(pick), pa.array(fixed, type=pa.large_string()))
    return masked


def mask_digits(value: str, keep_head: int = 3, keep_tail: int = 4) -> str:
    """Phone and bank numbers: 138****8000, 6222***********3445."""
    s = value.strip()
    if len(s) <= keep_head + keep_tail:
        return "*" * len(s)
    return s[:keep_head] + "*" * (len(s) - keep_head - keep_tail) + s[-keep_tail:]
