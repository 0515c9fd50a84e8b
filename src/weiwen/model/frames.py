"""The frames that flow between modules: columns, dtypes, nullability, closed value sets.

Each frame is declared once here as a pandera schema and checked at its boundary with
:func:`check` (a sheet's roster frame when it is built, the frame ``decide`` is given, the
population's households, the decision table ``decide`` returns).  A frame that breaks its
contract is weiwen's bug, never the user's input: :class:`FrameContractError` names the frame,
the column and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pandera.pandas as pa

from weiwen.core.text import TEXT_DTYPE
from weiwen.model.recipients import HouseholdLink, RecipientKind

EXTRA_PREFIX = "extra:"  # a roster column weiwen does not know, carried as text under its header
GOODS_PREFIX = "goods:"  # a goods quantity of the decision table, one column per (item, unit)

# The roster frame: one row per person listed.  (name, dtype, nullable, meaning)
PERSON_COLUMNS: tuple[tuple[str, Any, bool, str], ...] = (
    ("file", TEXT_DTYPE, False, "the roster file as given"),
    ("sheet", TEXT_DTYPE, False, "the sheet's name"),
    ("row", "int64", False, "the Excel row number (from 1)"),
    ("village", TEXT_DTYPE, False, "村(社区); '' when not written"),
    ("township", TEXT_DTYPE, False, "乡镇(街道)"),
    ("household", "int64", False, "the household, numbered within the intake (see household_link/ref)"),
    ("household_link", TEXT_DTYPE, False, "how the household's members were linked: HouseholdLink"),
    ("household_ref", TEXT_DTYPE, False, "the 户号, the head's ID or the first row the link used"),
    ("household_no", TEXT_DTYPE, False, "户号 as written"),
    ("head_name", TEXT_DTYPE, False, "户主姓名 as written on the row"),
    ("head_id", TEXT_DTYPE, True, "户主身份证号, normalised (null when not given)"),
    ("name", TEXT_DTYPE, False, "姓名"),
    ("id_number", TEXT_DTYPE, True, "身份证号, normalised to 18 characters (null when invalid)"),
    ("id_text", TEXT_DTYPE, True, "the ID cell's text when it is not a valid ID (for matching by hand)"),
    ("sex", TEXT_DTYPE, True, "男/女 (null when neither the cell nor the ID says)"),
    ("birth_date", "datetime64[s]", True, "出生日期 (from the cell, else from the ID)"),
    ("relation", TEXT_DTYPE, True, "与户主关系, canonical (an unknown one as written; null when not given)"),
    ("is_head", "bool", False, "the household's head"),
    ("categories", TEXT_DTYPE, False, "类别, canonical names joined by 、"),
    ("household_size", "Int64", True, "人口数 as declared"),
    ("phone", TEXT_DTYPE, False, "联系电话, digits as text"),
    ("bank_card", TEXT_DTYPE, False, "银行卡号, digits as text"),
    ("bank_name", TEXT_DTYPE, False, "开户行"),
    ("disability_grade", "Int64", True, "残疾等级 1..4"),
    ("address", TEXT_DTYPE, False, "住址"),
    ("remark", TEXT_DTYPE, False, "备注"),
    ("valid", "bool", False, "the row has no error (it may be decided)"),
)
ROSTER_COLUMNS = tuple(c[0] for c in PERSON_COLUMNS)
SENSITIVE_FIELDS = frozenset({"id_number", "head_id", "phone", "bank_card"})
HOUSEHOLD_KEY = ("file", "sheet", "household_link", "village", "household_ref")

# A recipient as every later frame names it: identity and the head's particulars.
_RECIPIENT: tuple[tuple[str, Any, bool, str], ...] = (
    ("household", "int64", False, "the household's number in the roster frame"),
    ("kind", TEXT_DTYPE, False, "RecipientKind"),
    ("link", TEXT_DTYPE, False, "HouseholdLink"),
    ("ref", TEXT_DTYPE, False, "the link's reference"),
    ("village", TEXT_DTYPE, False, "the head's village"),
    ("township", TEXT_DTYPE, False, "the head's township"),
    ("household_no", TEXT_DTYPE, False, "户号"),
    ("head_name", TEXT_DTYPE, False, "the head's name"),
    ("head_id", TEXT_DTYPE, False, "the head's ID number ('' when none)"),
    ("head_phone", TEXT_DTYPE, False, "the head's phone"),
    ("head_bank", TEXT_DTYPE, False, "the head's bank card"),
    ("head_bank_name", TEXT_DTYPE, False, "the head's bank (开户行)"),
    ("file", TEXT_DTYPE, False, "the head's file"),
    ("sheet", TEXT_DTYPE, False, "the head's sheet"),
    ("row", "int64", False, "the head's Excel row"),
    ("size", "int64", False, "household size (declared 人口数, else members listed)"),
)

# The recipients the engine decides on: one row per household of the population.
RECIPIENT_COLUMNS = (*_RECIPIENT, ("listed", "int64", False, "members listed"))

# The decision table: one row per aided household, amounts in fen (integers, exact).
DECISION_COLUMNS = (
    *_RECIPIENT,
    ("persons", "int64", False, "persons aided (享受人数)"),
    ("categories", TEXT_DTYPE, False, "the household's categories"),
    ("applied", TEXT_DTYPE, False, "codes of the standards paid, joined by 、"),
    ("applied_names", TEXT_DTYPE, False, "names of the standards paid"),
    ("suppressed", TEXT_DTYPE, False, "standards not paid because only the highest is, with amounts"),
    ("cash_fen", "int64", False, "cash"),
    ("goods_fen", "int64", False, "goods at their prices"),
    ("total_fen", "int64", False, "cash + goods"),
    ("capped_fen", "int64", False, "cash taken off by the cap"),
    ("reason", TEXT_DTYPE, False, "核定依据 in words"),
)

# The persons of the aided households (persons.csv, the ledger's persons): one row per roster row.
MEMBER_COLUMNS = (
    ("household", "int64", False, "the household's number (the decision table's household)"),
    ("id_number", TEXT_DTYPE, False, "the person's full ID number"),
    ("name", TEXT_DTYPE, False, "the person's name"),
    ("is_head", "bool", False, "the household's head"),
)


# An event roster's events (住院, 结婚 …): one row per line of the roster frame, by its household
# number (every line of an event roster is a recipient of its own).
EVENT_COLUMNS = (
    ("household", "int64", False, "the line's number in the roster frame"),
    ("staff_no", TEXT_DTYPE, False, "工号 ('' when not given: the member is known by the ID number)"),
    ("event", TEXT_DTYPE, False, "the event's type, canonical (the line's category); '' when unknown"),
    ("event_date", "datetime64[s]", True, "when it happened (null when missing or unreadable)"),
    ("approval", TEXT_DTYPE, False, "是否同意 for an event beyond the plan's limit: 是, 否 or ''"),
)


class FrameContractError(RuntimeError):
    """A frame does not match its declaration: a bug in weiwen, not a problem of the input."""


def _schema(name: str, columns: tuple[tuple[str, Any, bool, str], ...], regex: Mapping[str, pa.Column],
            checks: Mapping[str, pa.Check]) -> pa.DataFrameSchema:
    cols: dict[str, pa.Column] = {
        n: pa.Column(dtype, nullable=nullable, checks=checks.get(n), description=meaning or None)
        for n, dtype, nullable, meaning in columns}
    cols.update(regex)
    return pa.DataFrameSchema(cols, name=name, strict=True, ordered=False)


_LINKS = pa.Check.isin([k.value for k in HouseholdLink])
_KINDS = pa.Check.isin([k.value for k in RecipientKind])
PERSONS = _schema("persons", PERSON_COLUMNS,
                  {f"^{EXTRA_PREFIX}.*": pa.Column(TEXT_DTYPE, nullable=True, regex=True, required=False)},
                  {"household_link": _LINKS, "row": pa.Check.ge(1)})
HOUSEHOLDS = _schema("recipients", RECIPIENT_COLUMNS, {}, {"link": _LINKS, "kind": _KINDS})
DECISION = _schema("decision", DECISION_COLUMNS,
                   {f"^{GOODS_PREFIX}.*": pa.Column("float64", regex=True, required=False)},
                   {"link": _LINKS, "kind": _KINDS, "cash_fen": pa.Check.ge(0), "goods_fen": pa.Check.ge(0)})
MEMBERS = _schema("members", MEMBER_COLUMNS, {}, {})
EVENTS = _schema("events", EVENT_COLUMNS, {}, {"approval": pa.Check.isin(["是", "否", ""])})


def check(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` if it matches ``schema``; else :class:`FrameContractError` listing every failure.

    Costs about 10 ms on a million rows, and about 0.6 ms a column on any frame (pandera's fixed
    cost per column): a check belongs at a boundary, not in a loop."""
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases[["column", "check", "failure_case"]].drop_duplicates().head(20)
        raise FrameContractError(f"frame '{schema.name}' breaks its declaration:\n{cases.to_string()}") from None


def goods_column(key: tuple[str, str]) -> str:
    """The decision table's column of goods ``(item, unit)``; the keys themselves travel in
    ``Decision.goods``, so the name is never parsed back."""
    return f"{GOODS_PREFIX}{key[0]}|{key[1]}"


def extra_column_name(header: str) -> str:
    return f"{EXTRA_PREFIX}{header}"


def extra_headers(frame: pd.DataFrame) -> list[str]:
    """The roster's extra columns, by their headers."""
    return [c.removeprefix(EXTRA_PREFIX) for c in frame.columns if isinstance(c, str) and c.startswith(EXTRA_PREFIX)]


_DEFAULTS: dict[str, object] = {"household": -1, "household_link": HouseholdLink.ROW.value,
                                "household_ref": "", "head_id": None, "id_number": None, "id_text": None,
                                "birth_date": None, "is_head": False, "household_size": None,
                                "disability_grade": None, "valid": True}


def persons_frame(records: list[Mapping[str, object]] | None = None) -> pd.DataFrame:
    """A roster frame made from person records, each field defaulted as the reader leaves it
    (text ''; IDs, dates, sizes and grades missing; ``row`` as if under a header in row 1).  ``extra:`` keys become extra columns.
    The frame is checked against :data:`PERSONS`; this is how tests and other callers build one."""
    records = list(records or [])
    extras = list(dict.fromkeys(k for r in records for k in r if k.startswith(EXTRA_PREFIX)))
    data: dict[str, object] = {}
    for name, dtype, _, _ in PERSON_COLUMNS:
        default = _DEFAULTS.get(name, "")
        values = [r.get(name, i + 2 if name == "row" else default) for i, r in enumerate(records)]  # row 1: header
        if dtype == "datetime64[s]":
            data[name] = pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[s]")
        else:
            data[name] = pd.Series(values, dtype=dtype if dtype != "bool" else bool)
    for name in extras:
        data[name] = pd.Series([r.get(name) for r in records], dtype=TEXT_DTYPE)
    return check(PERSONS, pd.DataFrame(data, index=pd.RangeIndex(len(records))))


def empty_persons() -> pd.DataFrame:
    return persons_frame([])

