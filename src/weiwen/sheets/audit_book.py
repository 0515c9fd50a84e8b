"""The 抽查名单 workbook for callback checks, and reading it back once filled in."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.ids import mask_id
from weiwen.core.atomic import write_atomic
from weiwen.core.text import display_lines
from weiwen.sheets.xlsx import new_workbook, print_a4_landscape
from weiwen.audit import HEADER_ROW, HEADS, RESULTS, Household

# Column widths: an amount header such as 发放金额（元） on one line; 11-point text prints at about 10 points.
WIDTHS = (5, 10, 6, 8, 19, 13, 15, 10, 15, 16, 8, 11)

def write_sample(path: Path, chosen: list[Household], title: str, method: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, chosen, title, method))


def _write(path: Path, chosen: list[Household], title: str, method: str) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("抽查名单")
    t = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "text_wrap": True})
    note = wb.add_format({"text_wrap": True, "valign": "vcenter"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7",
                          "text_wrap": True})
    cell = wb.add_format({"border": 1, "valign": "vcenter"})
    wrap = wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True})
    center = wb.add_format({"border": 1, "valign": "vcenter", "align": "center"})
    money = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "¥#,##0.00"})
    fill = wb.add_format({"border": 1, "bg_color": "#FFF2CC"})
    heading = f"{title} 抽查名单"
    ws.merge_range(0, 0, 0, len(HEADS) - 1, heading, t)
    ws.set_row(0, 24 * display_lines(heading, int(sum(WIDTHS) * 11 / 16)) + 6)
    ws.merge_range(1, 0, 1, len(HEADS) - 1, method, note)
    ws.set_row(1, 15 * display_lines(method, sum(WIDTHS)) + 4)
    for j, (h, w) in enumerate(zip(HEADS, WIDTHS, strict=True)):
        ws.write_string(HEADER_ROW, j, h, head)
        ws.set_column(j, j, w)
    ws.set_row(HEADER_ROW, 15 * max(display_lines(h, w) for h, w in zip(HEADS, WIDTHS, strict=True)) + 6)
    r = HEADER_ROW + 1
    for n, h in enumerate(chosen, start=1):
        values = [str(n), h.village, h.household_no, h.head_name, mask_id(h.id_number), h.phone]
        for j, v in enumerate(values):
            ws.write_string(r, j, v, center if j == 0 else wrap if j in (1, 3) else cell)
        ws.write_number(r, 6, float(h.total), money)
        for j in range(7, len(HEADS)):
            ws.write_blank(r, j, None, fill)
        lines = max(display_lines(h.village, WIDTHS[1]), display_lines(h.head_name, WIDTHS[3]))
        ws.set_row(r, max(20, 15 * lines + 4))  # room to write the result by hand
        r += 1
    if chosen:
        ws.data_validation(HEADER_ROW + 1, 7, r - 1, 7, {"validate": "list", "source": list(RESULTS),
                                                        "error_title": "核实结果",
                                                        "error_message": "请从列表中选择：" + "、".join(RESULTS)})
        ws.data_validation(HEADER_ROW + 1, 8, r - 1, 8, {"validate": "decimal", "criteria": ">=", "value": 0})
    ws.freeze_panes(HEADER_ROW + 1, 0)
    print_a4_landscape(ws, header_row=HEADER_ROW, footer="&L核查人签字：&R第 &P 页，共 &N 页")
    wb.close()
