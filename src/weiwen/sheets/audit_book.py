"""The 抽查名单 workbook for callback checks, and reading it back once filled in."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.ids import mask_id
from weiwen.core.atomic import write_atomic
from weiwen.sheets.xlsx import new_workbook
from weiwen.audit import HEADER_ROW, HEADS, RESULTS, Household

def write_sample(path: Path, chosen: list[Household], title: str, method: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, chosen, title, method))


def _write(path: Path, chosen: list[Household], title: str, method: str) -> None:
    wb = new_workbook(path)
    ws = wb.add_worksheet("抽查名单")
    t = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7", "text_wrap": True})
    cell = wb.add_format({"border": 1})
    money = wb.add_format({"border": 1, "num_format": "¥#,##0.00"})
    fill = wb.add_format({"border": 1, "bg_color": "#FFF2CC"})
    ws.merge_range(0, 0, 0, len(HEADS) - 1, f"{title} 抽查名单", t)
    ws.merge_range(1, 0, 1, len(HEADS) - 1, method)
    for j, (h, w) in enumerate(zip(HEADS, [5, 12, 8, 10, 21, 14, 12, 12, 12, 20, 10, 12], strict=True)):
        ws.write_string(HEADER_ROW, j, h, head)
        ws.set_column(j, j, w)
    r = HEADER_ROW + 1
    for n, h in enumerate(chosen, start=1):
        values = [str(n), h.village, h.household_no, h.head_name, mask_id(h.id_number), h.phone]
        for j, v in enumerate(values):
            ws.write_string(r, j, v, cell)
        ws.write_number(r, 6, float(h.total), money)
        for j in range(7, len(HEADS)):
            ws.write_blank(r, j, None, fill)
        r += 1
    if chosen:
        ws.data_validation(HEADER_ROW + 1, 7, r - 1, 7, {"validate": "list", "source": list(RESULTS),
                                                        "error_title": "核实结果",
                                                        "error_message": "请从列表中选择：" + "、".join(RESULTS)})
        ws.data_validation(HEADER_ROW + 1, 8, r - 1, 8, {"validate": "decimal", "criteria": ">=", "value": 0})
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.repeat_rows(HEADER_ROW)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L核查人签字：&R第 &P 页，共 &N 页")
    wb.close()
