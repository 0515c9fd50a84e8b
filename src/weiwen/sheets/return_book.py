"""Write the reconciliation of a payment batch with the bank's return file: 回盘核对.xlsx.

Sheets: 核对汇总 (count and sum per outcome, and whether paid + failed + missing is the batch
total), 失败清单, 金额不符, 未回盘, 不在批次中.  Every cell is text (account numbers masked,
amounts as ``1100.00``), written with ``write_string``: a name or a bank message starting with
``=`` stays text, never a formula.  Printable on A4 landscape; no time of writing recorded (same
reconciliation, same bytes); written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from weiwen.core.atomic import write_atomic
from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_digits
from weiwen.core.text import display_lines
from weiwen.reconcile import Reconciliation
from weiwen.sheets.payment_book import display_width, yuan_text
from weiwen.sheets.xlsx import HEAD, TITLE, new_workbook, normalize_xlsx, print_a4_landscape

SUMMARY_SHEET = "核对汇总"
FAILED_SHEET = "失败清单"
MISMATCH_SHEET = "金额不符"
MISSING_SHEET = "未回盘"
UNEXPECTED_SHEET = "不在批次中"
MAX_WIDTH = 50


def write_return_report(path: Path, rec: Reconciliation, *, title: str, batch: str) -> None:
    def write(tmp: Path) -> None:
        _write(tmp, rec, title=title, batch=batch)
        normalize_xlsx(tmp)

    write_atomic(path, write)


def _write(path: Path, rec: Reconciliation, *, title: str, batch: str) -> None:
    wb = new_workbook(path)
    f = {
        "title": wb.add_format({**TITLE, "font_size": 14, "text_wrap": False}),
        "head": wb.add_format({**HEAD, "num_format": "@"}),
        "text": wb.add_format({"border": 1, "num_format": "@", "valign": "vcenter"}),
        "wrap": wb.add_format({"border": 1, "num_format": "@", "text_wrap": True, "valign": "vcenter"}),
        "right": wb.add_format({"border": 1, "num_format": "@", "align": "right", "valign": "vcenter"}),
        "center": wb.add_format({"border": 1, "num_format": "@", "align": "center", "valign": "vcenter"}),
        "good": wb.add_format({"border": 1, "num_format": "@", "bold": True, "font_color": "#006100",
                               "bg_color": "#C6EFCE", "text_wrap": True, "valign": "vcenter"}),
        "bad": wb.add_format({"border": 1, "num_format": "@", "bold": True, "font_color": "#9C0006",
                              "bg_color": "#FFC7CE", "text_wrap": True, "valign": "vcenter"}),
    }
    heading = f"{title} 回盘核对（批次 {batch}）"

    # 核对汇总.
    summary: list[list[str]] = [
        ["批次应发", str(rec.expected_count), yuan_text(rec.expected_sum), "代发文件中的笔数和金额"],
        ["成功", str(rec.paid_count), yuan_text(rec.paid_sum), "银行已支付，金额与批次相符"],
        ["失败", str(rec.failed_count), yuan_text(rec.failed_sum),
         "银行未支付（原因见“失败清单”）；请核实账号后另行发放"],
        ["金额不符", str(len(rec.amount_mismatch)), yuan_text(rec.mismatch_sum),
         f"银行称已支付，但金额与批次不同（银行金额合计 {yuan_text(rec.mismatch_bank_sum)} 元，见“金额不符”）；须与银行核实"],
        ["未回盘", str(len(rec.missing)), yuan_text(rec.missing_sum),
         "批次中有、回盘文件中没有（见“未回盘”）；须向银行查询是否已支付"],
        ["不在批次中", str(len(rec.unexpected)), yuan_text(rec.unexpected_sum),
         "回盘文件中有、本批次中没有（见“不在批次中”）；须向银行核实"],
    ]
    widths = (22, 8, 14, 60)
    ws = _table(wb, f, SUMMARY_SHEET, heading, ["项目", "笔数", "金额（元）", "说明"], summary,
                right=(1, 2), wrap=(3,), widths=widths)
    r = len(summary) + 4  # a blank row, the check's header, the check
    checked = rec.paid_sum + rec.failed_sum + rec.missing_sum
    if rec.balanced:
        verdict = "相符：批次中的每一笔都已按批次金额计入成功、失败或未回盘"
    else:
        verdict = (f"不符：相差 {yuan_text(rec.expected_sum - checked)} 元"
                   f"（金额不符 {len(rec.amount_mismatch)} 笔，批次金额 {yuan_text(rec.mismatch_sum)} 元）")
    ws.write_string(r - 1, 0, "核对", f["head"])
    ws.merge_range(r - 1, 1, r - 1, 3, "", f["head"])
    ws.write_string(r - 1, 1, "成功、失败、未回盘三项金额之和是否等于批次应发合计", f["head"])
    ws.write_string(r, 0, "成功＋失败＋未回盘", f["text"])
    ws.write_string(r, 1, str(rec.paid_count + rec.failed_count + len(rec.missing)), f["right"])
    ws.write_string(r, 2, yuan_text(checked), f["right"])
    ws.write_string(r, 3, verdict, f["good"] if rec.balanced else f["bad"])
    ws.set_row(r, 16 * display_lines(verdict, widths[3]))
    if rec.clean:
        conclusion, fmt = "全部成功：本批次每一笔都已按批次金额支付。", f["good"]
    else:
        todo = len(rec.failed) + len(rec.amount_mismatch) + len(rec.missing) + len(rec.unexpected)
        conclusion, fmt = f"有 {todo} 笔需要处理，请逐表核对失败、金额不符、未回盘和不在批次中的记录。", f["bad"]
    ws.merge_range(r + 2, 0, r + 2, 3, "", fmt)
    ws.write_string(r + 2, 0, conclusion, fmt)
    ws.set_row(r + 2, 22)

    def place(m: Any) -> list[str]:
        line = m.line
        return [line.code, line.village, line.name, mask_digits(line.account)]

    _table(wb, f, FAILED_SHEET, f"{heading} 失败清单",
           ["序号", "户编码", "村(社区)", "户名", "账号", "金额（元）", "银行说明", "回盘行号"],
           [[str(i), *place(m), yuan_text(m.line.amount), m.bank.message, str(m.bank.row)]
            for i, m in enumerate(rec.failed, start=1)],
           right=(5,), wrap=(6,), center=(0, 7))
    _table(wb, f, MISMATCH_SHEET, f"{heading} 金额不符",
           ["序号", "户编码", "村(社区)", "户名", "账号", "批次金额（元）", "银行金额（元）", "差额（元）", "银行说明",
            "回盘行号"],
           [[str(i), *place(m), yuan_text(m.line.amount), yuan_text(m.bank.amount), yuan_text(m.difference),
             m.bank.message, str(m.bank.row)] for i, m in enumerate(rec.amount_mismatch, start=1)],
           right=(5, 6, 7), wrap=(8,), center=(0, 9))
    _table(wb, f, MISSING_SHEET, f"{heading} 未回盘",
           ["序号", "户编码", "村(社区)", "户名", "账号", "金额（元）"],
           [[str(i), line.code, line.village, line.name, mask_digits(line.account), yuan_text(line.amount)]
            for i, line in enumerate(rec.missing, start=1)],
           right=(5,), center=(0,))
    _table(wb, f, UNEXPECTED_SHEET, f"{heading} 不在批次中",
           ["序号", "回盘行号", "户名（银行）", "账号", "金额（元）", "处理结果", "银行说明"],
           [[str(i), str(x.row), x.name, mask_digits(x.account), yuan_text(x.amount), "成功" if x.paid else "失败",
             x.message] for i, x in enumerate(rec.unexpected, start=1)],
           right=(4,), wrap=(6,), center=(0, 1, 5))
    wb.close()


def _table(wb: Any, f: dict[str, Any], name: str, heading: str, heads: list[str], rows: Sequence[list[str]], *,
           right: tuple[int, ...] = (), wrap: tuple[int, ...] = (), center: tuple[int, ...] = (),
           widths: tuple[int, ...] = ()) -> Any:
    """A sheet with a title row, a header row and ``rows`` (all text); "（无）" when there are none."""
    ws = wb.add_worksheet(name)
    ws.merge_range(0, 0, 0, len(heads) - 1, "", f["title"])
    ws.write_string(0, 0, heading, f["title"])
    ws.set_row(0, 26)
    if not widths:
        widths = tuple(min(max(max([display_width(h), *(display_width(r[j]) for r in rows)]) + 2, 8), MAX_WIDTH)
                       for j, h in enumerate(heads))
    for j, h in enumerate(heads):
        ws.write_string(1, j, h, f["head"])
        ws.set_column(j, j, widths[j])
    if not rows:
        ws.merge_range(2, 0, 2, len(heads) - 1, "", f["center"])
        ws.write_string(2, 0, "（无）", f["center"])
    for i, cells in enumerate(rows, start=2):
        lines = max([1, *(display_lines(cells[j], widths[j]) for j in wrap)])
        if lines > 1:  # wrapped text does not grow its row by itself in every spreadsheet program
            ws.set_row(i, 15 * lines)
        for j, v in enumerate(cells):
            fmt = f["right"] if j in right else f["wrap"] if j in wrap else f["center"] if j in center else f["text"]
            if ws.write_string(i, j, v, fmt) < 0:  # over 32,767 characters: refused, never cut
                raise WeiwenError(f"“{name}”第 {i + 1} 行第 {j + 1} 列的文字过长（{len(v)} 个字），无法写入回盘核对表。",
                                  code="return-report-cell-too-long")
    ws.freeze_panes(2, 0)
    print_a4_landscape(ws)
    return ws
