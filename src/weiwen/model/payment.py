"""allocation.csv, the payment list handed to the bank and read back by the ledger and the audit
sample: its columns, once, and one row as a checked record (pydantic).

The file is UTF-8 with a BOM, CRLF lines, quoted as Python's csv module quotes; amounts are yuan
with two decimals; ID, card and phone numbers are full (the file is internal).  Text a spreadsheet
would run as a formula (starting with = + - @, a tab or a carriage return) is written with one
leading apostrophe (OWASP CSV injection), which :func:`unguard` takes off again.
"""

from __future__ import annotations

from decimal import Decimal

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator, model_validator

from weiwen.core.ids import normalize_id

# (field, header): the file's columns in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "户编码"),  # model.recipients.household_code: opaque, unique within the file's sheet
    ("village", "村(社区)"),
    ("household_no", "户号"),
    ("head_name", "户主姓名"),
    ("id_number", "身份证号"),
    ("bank_card", "银行卡号"),
    ("standards", "享受标准"),  # the names of the standards paid, joined by ； (files before 0.9: codes, by 、)
    ("cash", "现金"),
    ("goods_value", "物资折价"),
    ("total", "合计"),
    ("phone", "联系电话"),
    ("reason", "核定依据"),
    ("bank_name", "开户行"),
)
HEADER = tuple(h for _, h in COLUMNS)
LATER = frozenset({"phone", "reason", "bank_name"})  # added in later versions: a file written before has them empty
GUARDED = frozenset({"code", "village", "household_no", "head_name", "reason", "bank_name"})  # free text from the rosters
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# persons.csv, beside allocation.csv: every person of every aided household (the ledger records them all).
PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "户编码"),
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("role", "身份"),  # 户主 / 成员
)
PERSON_GUARDED = frozenset({"code", "name"})
ROLES = ("户主", "成员")


def _yuan(v: Decimal) -> Decimal:
    if not v.is_finite() or v < 0 or v != v.quantize(Decimal("0.01")):
        raise ValueError("金额应为不小于 0、最多两位小数的数")
    return v


Yuan = Annotated[Decimal, AfterValidator(_yuan)]  # an amount of a file: not negative, to the fen


def eighteen_digit_id(text: str) -> str:
    """An ID of the file, normalised; anything but 18 characters is refused."""
    number, _ = normalize_id(text)
    if len(number) != 18:
        raise ValueError("身份证号无效")
    return number


def unguard(text: str) -> str:
    """The text as it was before the CSV-injection guard added its apostrophe."""
    return text[1:] if text.startswith("'") and text[1:2] and text[1] in FORMULA_START else text


# lines.csv, beside allocation.csv for a campaign whose recipients are units or members' events: one
# row per aided line, what the ledger records of them (a unit by its department and name; an event
# by its member, type and date).  The ID numbers are full (the file is internal, as allocation.csv).
LINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "慰问对象"),  # 单位 / 事件
    ("department", "部门"),
    ("name", "名称"),  # the unit's or the member's name
    ("id_number", "身份证号"),  # events: the member's, when known
    ("staff_no", "工号"),
    ("event", "慰问事由"),
    ("event_date", "事件日期"),  # ISO date; "" for a unit
    ("standards", "享受标准"),
    ("cash", "现金"),
    ("goods_value", "物资折价"),
    ("total", "合计"),
)
LINE_GUARDED = frozenset({"department", "name", "staff_no", "event"})
LINE_KINDS = {"unit": "单位", "person": "事件"}


class LineRow(BaseModel):
    """One aided unit or event of lines.csv."""

    model_config = ConfigDict(frozen=True)

    kind: str
    department: str
    name: str
    id_number: str
    staff_no: str
    event: str
    event_date: str
    standards: str
    cash: Yuan
    goods_value: Yuan
    total: Yuan

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in LINE_KINDS.values():
            raise ValueError("慰问对象应为“单位”或“事件”")
        return v

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return eighteen_digit_id(v) if v else ""

    @model_validator(mode="after")
    def _whole(self) -> LineRow:
        if self.cash + self.goods_value != self.total:
            raise ValueError("合计不等于现金加物资折价")
        if self.kind == "事件" and not (self.id_number or self.staff_no):
            raise ValueError("事件要有身份证号或工号")
        if self.kind == "事件" and not self.event_date:
            raise ValueError("事件要有日期")
        if not self.name:
            raise ValueError("名称为空")
        return self


class PaymentRow(BaseModel):
    """One aided household of allocation.csv."""

    model_config = ConfigDict(frozen=True)

    code: str
    village: str
    household_no: str
    head_name: str
    id_number: str
    bank_card: str
    standards: str
    cash: Yuan
    goods_value: Yuan
    total: Yuan
    phone: str = ""
    reason: str = ""
    bank_name: str = ""

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return eighteen_digit_id(v)

    @model_validator(mode="after")
    def _sum(self) -> PaymentRow:
        if self.cash + self.goods_value != self.total:
            raise ValueError("合计不等于现金加物资折价")
        return self


class PersonRow(BaseModel):
    """One person of an aided household (persons.csv)."""

    model_config = ConfigDict(frozen=True)

    code: str
    id_number: str
    name: str
    role: str

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return eighteen_digit_id(v)

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError("身份应为“户主”或“成员”")
        return v
