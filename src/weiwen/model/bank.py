"""A bank's batch-payment (代发) file: its column layout, the way its return file (回盘文件) is read,
and one line of a payment batch.

Every bank wants its own import template: which columns, in which order, under which headers,
on which sheet.  A :class:`BankLayout` says that once, in a YAML file a clerk can copy and adapt
(two examples ship in ``weiwen/data/banks/``).  Its ``returns`` part says how the bank's result
file is read: the headers of account, name, amount, status (and an optional message), and which
status texts mean paid and which mean failed; any other status text is an error, never a guess.

YAML files are read with :func:`weiwen.core.yamlio.load_located_yaml` (every scalar text,
duplicate keys refused, line numbers kept), then checked by the pydantic models here; a file
that fails is refused with every fault and the line it is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from weiwen.core.errors import WeiwenError
from weiwen.core.yamlio import Located, load_located_yaml

# field -> what it is called in Chinese (messages, and the default header).
FIELDS: dict[str, str] = {
    "seq": "序号",
    "name": "户名",
    "account": "账号",
    "bank": "开户行",
    "amount": "金额",
    "memo": "摘要/用途",
    "id_number": "身份证号",
    "phone": "手机号",
}
REQUIRED_FIELDS = ("name", "account", "amount")
BankField = Literal["seq", "name", "account", "bank", "amount", "memo", "id_number", "phone"]
RETURN_KEYS = {"account": "账号", "name": "户名", "amount": "金额", "status": "处理状态", "message": "银行说明"}
# Sheets weiwen adds beside the bank's sheet in the payment workbook.
RESERVED_SHEETS = frozenset({"控制数", "对账清单"})
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FAULTS = "bank_layout_faults"  # the pydantic error type carrying a list of (relative location, message)


def _faults(faults: list[tuple[tuple[Any, ...], str]]) -> PydanticCustomError:
    return PydanticCustomError(_FAULTS, "{text}", {"text": "；".join(m for _, m in faults), "faults": faults})


def _text(v: str) -> str:
    return v.strip()


class BankColumn(BaseModel):
    """One column of the bank's import sheet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: BankField
    header: str

    @field_validator("header")
    @classmethod
    def _header(cls, v: str) -> str:
        return _text(v)


class BankReturns(BaseModel):
    """How the bank's return file is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str
    name: str
    amount: str
    status: str
    message: str | None = None
    success: list[str]
    failure: list[str]

    @field_validator("account", "name", "amount", "status", "message")
    @classmethod
    def _header(cls, v: str | None) -> str | None:
        return None if v is None else _text(v)

    @field_validator("success", "failure")
    @classmethod
    def _statuses(cls, v: list[str]) -> list[str]:
        return [_text(s) for s in v]

    @model_validator(mode="after")
    def _check(self) -> BankReturns:
        faults: list[tuple[tuple[Any, ...], str]] = []
        seen: dict[str, str] = {}
        for key in RETURN_KEYS:
            header = getattr(self, key)
            if header is None:
                continue
            if not header:
                faults.append(((key,), f"{key}（{RETURN_KEYS[key]}）的列名不能为空"))
            elif header in seen:
                faults.append(((key,), f"列名“{header}”重复（{seen[header]} 已用了它）"))
            else:
                seen[header] = key
        for key in ("success", "failure"):
            texts: list[str] = getattr(self, key)
            if not texts:
                faults.append(((key,), f"{key} 至少要写一个状态文字"))
            for i, s in enumerate(texts):
                if not s:
                    faults.append(((key, i), f"{key} 的第 {i + 1} 项是空的"))
                elif s in texts[:i]:
                    faults.append(((key, i), f"状态“{s}”在 {key} 中写了两次"))
        for i, s in enumerate(self.failure):
            if s and s in self.success:
                faults.append((("failure", i), f"状态“{s}”既在 success 中又在 failure 中，无法判断是否已支付"))
        if faults:
            raise _faults(faults)
        return self


class BankLayout(BaseModel):
    """A bank's batch-payment template and return file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sheet: str
    columns: list[BankColumn]
    amount_format: Literal["yuan"] = "yuan"  # text with two decimals: 1100.00
    returns: BankReturns

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = _text(v)
        if not v:
            raise ValueError("银行名称不能为空")
        return v

    @field_validator("sheet")
    @classmethod
    def _sheet(cls, v: str) -> str:
        v = _text(v)
        if not v or len(v) > 31 or _SHEET_BAD.search(v) or v.startswith("'") or v.endswith("'"):
            raise ValueError("工作表名应为 1 到 31 个字，不能含 [ ] : * ? / \\，不能以单引号开头或结尾")
        if v in RESERVED_SHEETS:
            raise ValueError(f"工作表名不能用“{v}”（weiwen 写出的工作簿中已有同名的表）")
        return v

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: list[BankColumn]) -> list[BankColumn]:
        faults: list[tuple[tuple[Any, ...], str]] = []
        fields: dict[str, int] = {}
        headers: dict[str, int] = {}
        for i, c in enumerate(v):
            if not c.header:
                faults.append(((i, "header"), f"第 {i + 1} 列的列名（header）不能为空"))
            elif c.header in headers:
                faults.append(((i, "header"), f"列名“{c.header}”重复（第 {headers[c.header] + 1} 列已用）"))
            else:
                headers[c.header] = i
            if c.field in fields:
                faults.append(((i, "field"), f"字段 {c.field}（{FIELDS[c.field]}）出现了两次（第 {fields[c.field] + 1} 列已有）"))
            else:
                fields[c.field] = i
        missing = [f"{f}（{FIELDS[f]}）" for f in REQUIRED_FIELDS if f not in fields]
        if missing:
            faults.append(((), f"缺少必需的列：{'、'.join(missing)}"))
        if faults:
            raise _faults(faults)
        return v

    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)


@dataclass(frozen=True)
class PayLine:
    """One payment of a batch: a household, the account it is paid to, and the amount (yuan)."""

    code: str  # 户编码 (model.payment.PaymentRow.code)
    village: str
    name: str  # 户名: the account holder
    account: str  # digits only, full
    bank: str
    amount: Decimal
    id_number: str = ""
    phone: str = ""
    memo: str = ""


# --- loading ------------------------------------------------------------------------------------------

_TYPES = {
    "extra_forbidden": "不认识的键“{key}”",
    "string_type": "应为文字",
    "list_type": "应为列表（每项一行，以“- ”开头）",
    "model_type": "应为“键: 值”的形式",
    "model_attributes_type": "应为“键: 值”的形式",
    "dict_type": "应为“键: 值”的形式",
}
_ALLOWED_KEYS = {
    (): "name、sheet、columns、amount_format、returns",
    ("columns",): "field、header",
    ("returns",): "account、name、amount、status、message、success、failure",
}


def load_layout_text(text: str, origin: str) -> BankLayout:
    """A layout from YAML text; ``origin`` names the file in messages."""
    try:
        located = load_located_yaml(text, origin)
    except WeiwenError as exc:
        raise WeiwenError(f"银行格式文件 {exc.message}", code="bank-layout-invalid") from None
    if not isinstance(located.data, dict):
        raise WeiwenError(f"银行格式文件 {origin} 最外层应是“键: 值”的形式，至少包含 name、sheet、columns、returns。",
                          code="bank-layout-invalid")
    try:
        return BankLayout.model_validate(located.data)
    except ValidationError as exc:
        found: list[tuple[int, str]] = []
        for err in exc.errors(include_input=False):
            found.extend(_messages(err, located))
        messages = [m for _, m in sorted(found, key=lambda x: x[0])]
        body = "\n".join(f"  - {m}" for m in messages)
        raise WeiwenError(f"银行格式文件 {origin} 有 {len(messages)} 处错误：\n{body}", code="bank-layout-invalid") from None


def _messages(err: Any, located: Located) -> list[tuple[int, str]]:
    """Each fault of one pydantic error as (line, message); the line is 0 when unknown."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == _FAULTS:
        return [_at(located, loc + rel, msg) for rel, msg in ctx["faults"]]
    key = str(loc[-1]) if loc else ""
    path = "".join(f" 第 {p + 1} 项的" if isinstance(p, int) else (f" {p}" if i else str(p))
                   for i, p in enumerate(loc)) or "(顶层)"
    if kind == "missing":
        parent = "".join(f" 第 {p + 1} 项" if isinstance(p, int) else (f" {p}" if i else str(p))
                         for i, p in enumerate(loc[:-1])) or "最外层"
        return [_at(located, loc, f"{parent}：缺少必需的键“{key}”")]
    if kind == "extra_forbidden":
        parent = tuple(p for p in loc[:-1] if not isinstance(p, int))
        allowed = _ALLOWED_KEYS.get(parent)
        return [_at(located, loc, f"不认识的键“{key}”" + (f"（这里可用的键：{allowed}）" if allowed else ""))]
    if kind == "literal_error":
        if key == "field":
            choices = "、".join(f"{f}（{zh}）" for f, zh in FIELDS.items())
            return [_at(located, loc, f"{path}：字段只能是 {choices} 之一")]
        return [_at(located, loc, f"{path}：只能是 yuan（两位小数的元，如 1100.00）")]
    if kind == "value_error":
        return [_at(located, loc, f"{path}：{ctx.get('error', err['msg'])}")]
    template = _TYPES.get(kind)
    if template is not None:
        return [_at(located, loc, f"{path}：{template.format(key=key)}")]
    return [_at(located, loc, f"{path}：值无效（{kind}）")]


def _at(located: Located, loc: tuple[Any, ...], message: str) -> tuple[int, str]:
    line = located.line_of(loc)
    return (line, f"第 {line} 行：{message}") if line else (0, message)


def load_layout_file(path: Path) -> BankLayout:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise WeiwenError(f"无法读取银行格式文件 {path}：{exc.strerror or exc.__class__.__name__}",
                          code="bank-layout-not-found") from None
    except UnicodeDecodeError:
        raise WeiwenError(f"银行格式文件 {path} 不是 UTF-8 编码，请另存为 UTF-8。", code="bank-layout-invalid") from None
    return load_layout_text(text, str(path))


def _shipped_files() -> list[tuple[str, str, str]]:
    """(file stem, origin, text) of every layout shipped in weiwen/data/banks, by file name."""
    found = []
    folder = resources.files("weiwen.data") / "banks"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            found.append((entry.name.removesuffix(".yaml"), f"weiwen/data/banks/{entry.name}",
                          entry.read_bytes().decode("utf-8-sig")))
    return found


def shipped_layouts() -> dict[str, BankLayout]:
    """The layouts shipped with weiwen, by their Chinese name (农商银行, 邮储银行)."""
    return {layout.name: layout for layout in (load_layout_text(text, origin) for _, origin, text in _shipped_files())}


def load_layout(name_or_path: str) -> BankLayout:
    """A shipped layout by its name (农商银行) or file name (nongshang), or a clerk's YAML file."""
    shipped = _shipped_files()
    for stem, origin, text in shipped:
        layout = load_layout_text(text, origin)
        if name_or_path in (layout.name, stem):
            return layout
    path = Path(name_or_path)
    if path.is_file():
        return load_layout_file(path)
    names = "、".join(f"{load_layout_text(t, o).name}（{s}）" for s, o, t in shipped)
    raise WeiwenError(f"找不到银行格式“{name_or_path}”：它既不是自带的格式（{names}），也不是存在的文件。"
                      "请写自带格式的名称，或写按银行模板改好的 YAML 文件的路径。", code="bank-layout-not-found")
