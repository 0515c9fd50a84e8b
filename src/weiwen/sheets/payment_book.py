"""Write a bank batch-payment (代发) workbook in the layout a bank's import wants.

Three sheets:

* the bank's sheet (``layout.sheet``): the layout's columns, a header row, one row per payment;
  every cell is text with the text number format ``@``, so no spreadsheet re-types an 18-digit
  ID, a 19-digit card number or an amount (amounts are ``1100.00``);
* 控制数: batch, count and total to the cent (as text), which the bank's batch screen asks for,
  and a note that the bank sheet is uploaded as it is;
* 对账清单: for the office, with masked account numbers, printable on A4 (portrait when it fits).

Nothing is written unless every line is payable: a line without an account, with an account
that is not digits, a name missing, an amount not positive or finer than a cent, an ID the
layout needs missing, or an account twice in the batch (the return file is matched by account)
refuses the whole batch, listing every such line.  No time of writing is recorded anywhere:
the same lines give the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from weiwen.core.atomic import write_atomic
from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_digits
from weiwen.core.text import display_lines
from weiwen.model.bank import BankLayout, PayLine
from weiwen.sheets.xlsx import new_workbook, normalize_xlsx, print_a4_landscape

CONTROL_SHEET = "控制数"
CHECK_SHEET = "对账清单"
_DIGITS = re.compile(r"^[0-9]+$")
_CENT = Decimal("0.01")
# Column widths (characters) a field's values need in the bank sheet.
_WIDTHS = {"seq": 6, "name": 12, "account": 24, "bank": 26, "amount": 12, "memo": 22, "id_number": 22, "phone": 14}


@dataclass(frozen=True)
class ControlTotals:
    count: int
    total: Decimal


def yuan_text(amount: Decimal) -> str:
    """Two decimals, no grouping: 1100.00."""
    return f"{amount.quantize(_CENT):f}"


def check_lines(lines: Sequence[PayLine], layout: BankLayout) -> list[str]:
    """Why each line cannot be paid (empty: every line can), account numbers masked."""
    bad: list[str] = []
    first: dict[str, int] = {}
    needs_id = "id_number" in layout.fields()
    for n, line in enumerate(lines, start=1):
        why: list[str] = []
        account = line.account
        if not account.strip():
            why.append("没有账号")
        elif not _DIGITS.match(account):
            why.append(f"账号“{mask_digits(account)}”不是纯数字")
        elif account in first:
            why.append(f"账号 {mask_digits(account)} 与第 {first[account]} 笔相同（同一批次中一个账号只能出现一次）")
        else:
            first[account] = n
        if not line.name.strip():
            why.append("没有户名")
        if not line.amount.is_finite() or line.amount <= 0:
            why.append("金额不是正数")
        elif line.amount != line.amount.quantize(_CENT):
            why.append("金额超过两位小数")
        if needs_id and not line.id_number.strip():
            why.append(f"没有身份证号（{layout.name}的代发模板要求填写）")
        if why:
            place = "，".join(x for x in (f"户编码 {line.code}" if line.code else "", line.village) if x)
            bad.append(f"第 {n} 笔（{place}）：{'；'.join(why)}" if place else f"第 {n} 笔：{'；'.join(why)}")
    return bad


def write_payment_book(path: Path, lines: Sequence[PayLine], layout: BankLayout, *, title: str,
                       batch: str) -> ControlTotals:
    """The batch-payment workbook for ``layout``'s bank, written atomically; its control totals."""
    bad = check_lines(lines, layout)
    if bad:
        body = "\n".join(f"  - {b}" for b in bad)
        raise WeiwenError(f"代发批次 {batch} 中有 {len(bad)} 笔无法代发，整个代发文件未生成：\n{body}\n"
                          "请在花名册中补正账号、户名或金额后重新生成。", code="payment-lines-invalid")
    totals = ControlTotals(count=len(lines), total=sum((line.amount for line in lines), Decimal("0.00")))

    def write(tmp: Path) -> None:
        _write(tmp, lines, layout, totals, title=title, batch=batch)
        normalize_xlsx(tmp)

    write_atomic(path, write)
    return totals


def display_width(text: str) -> int:
    """Columns a text takes: a CJK character two, others one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _value(line: PayLine, field: str, seq: int, memo: str) -> str:
    if field == "seq":
        return str(seq)
    if field == "amount":
        return yuan_text(line.amount)
    if field == "memo":
        return line.memo or memo
    return str(getattr(line, field))


def _write(path: Path, lines: Sequence[PayLine], layout: BankLayout, totals: ControlTotals, *, title: str,
           batch: str) -> None:
    wb = new_workbook(path)
    text = wb.add_format({"num_format": "@"})
    head = wb.add_format({"num_format": "@", "bold": True})

    def put(ws: object, r: int, c: int, value: str, fmt: object) -> None:
        if ws.write_string(r, c, value, fmt) < 0:  # type: ignore[attr-defined]
            raise WeiwenError(f"第 {r + 1} 行第 {c + 1} 列的文字过长（{len(value)} 个字），无法写入代发文件。",
                              code="payment-lines-invalid")

    # The bank's sheet: exactly the layout's columns, all text.
    ws = wb.add_worksheet(layout.sheet)
    rows = [[_value(line, c.field, n, title) for c in layout.columns] for n, line in enumerate(lines, start=1)]
    widths = []
    for j, col in enumerate(layout.columns):
        widest = max([display_width(col.header), *(display_width(r[j]) for r in rows)])
        widths.append(max(_WIDTHS[col.field], min(widest + 2, 60)))
        ws.set_column(j, j, widths[j], text)
        put(ws, 0, j, col.header, head)
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            put(ws, i, j, v, text)
    ws.freeze_panes(1, 0)
    print_a4(ws, widths, header_row=0)  # print setup only: the cells stay exactly as the bank wants them

    # 控制数: what the bank's batch screen asks for.
    ws = wb.add_worksheet(CONTROL_SHEET)
    label = wb.add_format({"num_format": "@", "bold": True, "border": 1, "bg_color": "#DDEBF7"})
    cell = wb.add_format({"num_format": "@", "border": 1})
    note = wb.add_format({"text_wrap": True, "valign": "top", "font_color": "#C00000"})
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 56)
    print_a4(ws, [14, 56], header_row=None, footer="")
    facts = [("标题", title), ("批次", batch), ("银行", layout.name), ("代发工作表", layout.sheet),
             ("笔数", str(totals.count)), ("合计金额（元）", yuan_text(totals.total))]
    for i, (k, v) in enumerate(facts):
        put(ws, i, 0, k, label)
        put(ws, i, 1, v, cell)
    r = len(facts) + 1
    ws.merge_range(r, 0, r, 1, "", note)
    warning = (f"请把工作表“{layout.sheet}”原样导入银行代发系统：不要删改列，不要用 Excel/WPS 打开后另存，"
               "也不要复制到别的表格里——表格软件会把长账号、身份证号改成科学计数法（如 6.22E+18），后几位就此丢失。"
               "导入后请核对银行系统显示的笔数和合计金额与本表一致。")
    put(ws, r, 0, warning, note)
    ws.set_row(r, 16 * display_lines(warning, 14 + 56) + 6)

    # 对账清单: the office's copy, accounts masked.
    ws = wb.add_worksheet(CHECK_SHEET)
    heads = [("序号", 6), ("户编码", 14), ("村(社区)", 16), ("户名", 12), ("账号", 26), ("金额（元）", 14)]
    big = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    hfmt = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7"})
    tfmt = wb.add_format({"num_format": "@", "border": 1})
    cfmt = wb.add_format({"num_format": "@", "border": 1, "align": "center"})
    mfmt = wb.add_format({"num_format": "@", "border": 1, "align": "right"})
    sfmt = wb.add_format({"num_format": "@", "border": 1, "bold": True, "bg_color": "#F2F2F2"})
    smfmt = wb.add_format({"num_format": "@", "border": 1, "bold": True, "bg_color": "#F2F2F2", "align": "right"})
    ws.merge_range(0, 0, 0, len(heads) - 1, "", big)
    put(ws, 0, 0, f"{title} 代发对账清单（{layout.name}，批次 {batch}）", big)
    ws.set_row(0, 26)
    widths = [w for _h, w in heads]
    for j, texts in ((1, [line.code for line in lines]), (2, [line.village for line in lines]),
                     (3, [line.name for line in lines])):
        widths[j] = max(heads[j][1], min(max(map(display_width, texts), default=0) + 2, 40))
    for j, (h, _w) in enumerate(heads):
        put(ws, 1, j, h, hfmt)
        ws.set_column(j, j, widths[j])
    for i, line in enumerate(lines, start=1):
        r = i + 1
        put(ws, r, 0, str(i), cfmt)
        put(ws, r, 1, line.code, tfmt)
        put(ws, r, 2, line.village, tfmt)
        put(ws, r, 3, line.name, tfmt)
        put(ws, r, 4, mask_digits(line.account), tfmt)
        put(ws, r, 5, yuan_text(line.amount), mfmt)
    r = len(lines) + 2
    put(ws, r, 0, "合计", sfmt)
    ws.merge_range(r, 1, r, 4, "", sfmt)
    put(ws, r, 1, f"{totals.count} 笔", sfmt)
    put(ws, r, 5, yuan_text(totals.total), smfmt)
    put(ws, r + 2, 0, "制表人：", wb.add_format({}))
    put(ws, r + 2, 3, "审核人：", wb.add_format({}))
    ws.freeze_panes(2, 0)
    print_a4(ws, widths, header_row=1)
    wb.close()


PRINTABLE_PORTRAIT = 595.3 - 72  # points across A4 portrait inside 0.5" margins


def print_a4(ws: Any, widths: list[int], *, header_row: int | None,
             footer: str = "&C第 &P 页，共 &N 页") -> None:
    """A4, one page wide, the header row on every page, page numbers: portrait when the columns
    (``widths``, characters) fit across it at about 90% or more, landscape otherwise."""
    print_a4_landscape(ws, header_row=header_row, footer=footer)
    if PRINTABLE_PORTRAIT / (5.45 * sum(widths) + 6.5 * len(widths)) >= 0.88:  # LibreOffice's widths, a little wide
        ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()

