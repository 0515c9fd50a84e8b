"""The 抽查名单 workbook for callback checks, and reading it back once filled in."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_id
from weiwen.core.atomic import write_atomic
from weiwen.read.workbook import read_roster_file
from weiwen.sheets.xlsx import new_workbook
from weiwen.roster.layout import cell_text
from weiwen.audit import RESULTS, Household

HEADS = ["序号", "村(社区)", "户号", "户主", "身份证号", "联系电话", "发放金额（元）", "核实结果", "实收金额（元）", "备注",
         "核查人", "核查日期"]
HEADER_ROW = 2  # 0-based: title, method line, header


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


def read_filled(path: Path) -> list[dict[str, object]]:
    read = read_roster_file(path, sheet="抽查名单")
    if not read.sheets:
        raise WeiwenError(f"{path} 不是 weiwen sample 生成的抽查名单（{read.problems[0].message if read.problems else ''}）。",
                          code="sample-import")
    rows = read.sheets[0].rows
    if len(rows) <= HEADER_ROW or [cell_text(c) for c in rows[HEADER_ROW][:len(HEADS)]] != HEADS:
        raise WeiwenError(f"{path} 的表头与抽查名单不一致，请不要增删列。", code="sample-import")
    return [{h: (cell_text(v) if isinstance(v, str) else v) for h, v in zip(HEADS, row, strict=False)}
            for row in rows[HEADER_ROW + 1:] if any(c not in (None, "") for c in row)]
