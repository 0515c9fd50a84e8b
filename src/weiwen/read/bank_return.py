"""Read a bank's return file (回盘文件) of a batch payment, as a :class:`weiwen.model.bank.BankLayout` says.

The file is sniffed and read by :func:`weiwen.read.workbook.read_roster_file` (.xlsx, .xls, .csv:
every cell with its type).  The header row is found by the layout's return headers within the
first rows of each visible sheet.  Each data row becomes a :class:`ReturnRow`, or problems:
an account a spreadsheet stored as a number (its last digits may be lost: only the bank's original
file will do), an account that is not digits, an amount that is not a number of yuan with at most
two decimals, a status text the layout does not list as success or failure (never guessed), an
account listed twice.  Every problem is collected; a file with any error must not be reconciled.

An account is accepted with the marks export systems add to keep it text (a leading ``'``, a
``="…"`` wrapper, tabs, spaces): the digits are the same.  No full account number ever appears
in a message (:func:`weiwen.core.ids.mask_digits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from weiwen.core import problems as P
from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_digits
from weiwen.core.text import clean, header_key
from weiwen.model.bank import RETURN_KEYS, BankLayout
from weiwen.read.workbook import RawSheet, read_roster_file

HEADER_SCAN_ROWS = 20
REQUIRED_RETURN_KEYS = ("account", "name", "amount", "status")
_FLOATISH = re.compile(r"^[0-9]+(\.[0-9]*)?[eE][+]?[0-9]+$|^[0-9]+\.[0-9]*$")
_DIGITS = re.compile(r"^[0-9]+$")
_THOUSANDS = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]*)?$")
_LONG_DIGITS = re.compile(r"[0-9]{11,}")
_FOOTER = ("合计", "总计", "小计", "笔数", "总金额", "制表", "经办", "复核", "审核")
_CENT = Decimal("0.01")
MAX_CELL_CHARS = 32767  # what one Excel cell holds: a longer name or message could not be written to the report


@dataclass(frozen=True)
class ReturnRow:
    """One record of the return file: what the bank says it did with one account."""

    row: int  # Excel row number (the CSV line for a .csv)
    account: str  # digits only, full
    name: str
    amount: Decimal  # yuan, exact, two decimals
    paid: bool
    message: str


@dataclass
class BankReturn:
    path: Path
    sheet: str | None  # the sheet read (None for a CSV file)
    rows: list[ReturnRow] = field(default_factory=list)  # the rows read without error
    problems: list[P.Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No errors: the rows are the whole file and may be reconciled."""
        return not any(p.severity is P.Severity.ERROR for p in self.problems)


def read_bank_return(path: Path, layout: BankLayout) -> BankReturn:
    """Every record of the return file at ``path``, and every problem found in it.

    A file that cannot be read at all (missing, empty, damaged, encrypted, a web page, an unknown
    encoding) is a :class:`WeiwenError` in Chinese."""
    res = read_roster_file(path)
    if not res.readable or not res.sheets:
        errors = [p for p in res.problems if p.severity is P.Severity.ERROR] or [
            p for p in res.problems if p.code == "sheet-hidden"]
        why = "\n".join(f"  - {p.message}" + (f"（{p.hint.rstrip('。')}）" if p.hint else "") for p in errors) or "  - 文件中没有可读的工作表。"
        raise WeiwenError(f"无法读取回盘文件 {res.display}：\n{why}", code="bank-return-unreadable")
    out = BankReturn(path=path, sheet=None, problems=[p for p in res.problems if p.severity is not P.Severity.ERROR
                                                      or p.sheet is not None])
    wanted = {key: getattr(layout.returns, key) for key in RETURN_KEYS if getattr(layout.returns, key) is not None}
    found = _find_header(res.sheets, wanted)
    if found is None:
        out.problems.append(P.make("bank-return-header-not-found", file=res.display, scanned=HEADER_SCAN_ROWS,
                                   headers="、".join(wanted[k] for k in REQUIRED_RETURN_KEYS)))
        return out
    sheet, top, columns = found
    shown_sheet = sheet.name if sheet.typed else None
    out.sheet = shown_sheet
    header_cells = [_text(c) for c in sheet.rows[top]]

    def problem(code: str, row: int | None = None, key: str | None = None, **fields: object) -> None:
        column = wanted[key] if key else None
        out.problems.append(P.make(code, file=res.display, sheet=shown_sheet, row=row, column=column, **fields))

    missing = [k for k in REQUIRED_RETURN_KEYS if k not in columns]
    for key in missing:
        problem("bank-return-header-missing", top + 1, key, field=wanted[key], header_row=top + 1,
                found="、".join(h for h in header_cells if h) or "（空）")
    for key, js in columns.items():
        if len(js) > 1:
            problem("header-duplicate", top + 1, key, field=wanted[key],
                    columns="、".join(f"第 {j + 1} 列" for j in js))
    if missing or any(len(js) > 1 for js in columns.values()):
        return out

    col = {key: js[0] for key, js in columns.items()}
    success = {clean(s) for s in layout.returns.success}
    failure = {clean(s) for s in layout.returns.failure}
    first_row: dict[str, int] = {}
    records = 0
    for i in range(top + 1, len(sheet.rows)):
        cells = sheet.rows[i]
        if all(_blank(c) for c in cells):
            continue
        row = i + 1

        def cell(key: str, cells: list[object] = cells) -> object:
            j = col.get(key)
            return cells[j] if j is not None and j < len(cells) else None

        raw_account = cell("account")
        if _blank(raw_account):
            texts = [_text(c) for c in cells if not _blank(c)]
            if any(m in t for t in texts for m in _FOOTER):
                problem("bank-return-footer-skipped", row, "account", text=_shown(" ".join(texts), 60))
                continue
        records += 1
        bad = False
        account = _account(raw_account)
        if isinstance(account, tuple):
            code, fields = account
            problem(code, row, "account", **fields)
            bad = True
            account = ""
        elif account in first_row:
            problem("bank-return-duplicate-account", row, "account", account=mask_digits(account),
                    first=first_row[account], value=mask_digits(account))
            bad = True
        else:
            first_row[account] = row
        amount = _amount(cell("amount"))
        if isinstance(amount, str):
            problem("bank-return-amount-invalid", row, "amount", value=_shown(_text(cell("amount"))), what=amount)
            bad = True
        status = clean(_text(cell("status")))
        if status not in success and status not in failure:
            problem("bank-return-status-unknown", row, "status", status=status or "（空）",
                    success="、".join(layout.returns.success), failure="、".join(layout.returns.failure))
            bad = True
        for key in ("name", "message"):
            length = len(_text(cell(key)))
            if length > MAX_CELL_CHARS:
                problem("cell-too-long", row, key, length=length)
                bad = True
        if not bad:
            assert isinstance(amount, Decimal)
            out.rows.append(ReturnRow(row=row, account=account, name=clean(_text(cell("name"))), amount=amount,
                                      paid=status in success, message=clean(_text(cell("message")))))
    if records == 0:
        problem("bank-return-empty", top + 1)
    return out


def _find_header(sheets: list[RawSheet], wanted: dict[str, str]) -> tuple[RawSheet, int, dict[str, list[int]]] | None:
    """The sheet and row (0-based) of the return file's header, with the columns of each key found
    there: the first row with every required header, else the row with most of them (at least two,
    so its missing columns are reported), else ``None``."""
    keys = {key: header_key(h) for key, h in wanted.items()}
    best: tuple[int, RawSheet, int, dict[str, list[int]]] | None = None
    for sheet in sheets:
        for i, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            at = [header_key(_text(c)) for c in cells]
            columns = {key: [j for j, k in enumerate(at) if k == want] for key, want in keys.items()}
            columns = {key: js for key, js in columns.items() if js}
            score = sum(1 for key in REQUIRED_RETURN_KEYS if key in columns)
            if score == len(REQUIRED_RETURN_KEYS):
                return sheet, i, columns
            if score >= 2 and (best is None or score > best[0]):
                best = (score, sheet, i, columns)
    return None if best is None else (best[1], best[2], best[3])


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v: object) -> str:
    """A cell as text: numbers without a spurious ``.0``."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _shown(text: str, limit: int = 40) -> str:
    """Text for a message: at most ``limit`` characters, long digit runs (a card, a phone) masked."""
    return _LONG_DIGITS.sub(lambda m: mask_digits(m.group()), text)[:limit]


def _account(v: object) -> str | tuple[str, dict[str, object]]:
    """The account's digits, or (problem code, fields)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "bank-return-account-numeric", {"value": f"{float(v):.5E}"}
    if not isinstance(v, str):
        what = "为空" if v is None else "不是文字（是日期或时间）" if isinstance(v, (date, datetime, time, timedelta)) else "无效"
        return "bank-return-account-invalid", {"what": what}
    s = v.replace("\t", "").strip()
    if s.startswith('="') and s.endswith('"') and len(s) >= 3:
        s = s[2:-1]
    s = re.sub(r"\s+", "", clean(s.removeprefix("'")))
    if not s:
        return "bank-return-account-invalid", {"what": "为空"}
    if _FLOATISH.match(s):
        return "bank-return-account-numeric", {"value": mask_digits(s, 4, 4)}
    if not _DIGITS.match(s):
        return "bank-return-account-invalid", {"what": f"“{mask_digits(s)}”含有数字以外的字符", "value": mask_digits(s)}
    return s


def _amount(v: object) -> Decimal | str:
    """The amount in yuan, or why it is not one."""
    if isinstance(v, bool) or v is None or (isinstance(v, str) and not v.strip()):
        return "为空" if not isinstance(v, bool) else "不是数字"
    if isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        d = Decimal(repr(v))
    elif isinstance(v, str):
        s = clean(v).replace(" ", "").removesuffix("元").removeprefix("¥").removeprefix("￥")
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        if not _NUMBER.match(s):
            return "不是数字"
        d = Decimal(s)
    else:
        return "不是数字"
    if not d.is_finite():
        return "不是数字"
    if d < 0:
        return "是负数"
    if d != d.quantize(_CENT):
        return "超过两位小数（精确到分）"
    return d.quantize(_CENT)
