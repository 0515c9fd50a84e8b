"""The 重复核查 workbook: each duplicate group with its source rows."""

from __future__ import annotations

from pathlib import Path

from weiwen.dedupe import KIND_ZH, Group
from weiwen.core.atomic import write_atomic
from weiwen.sheets.xlsx import new_workbook, print_a4_landscape

def write_duplicates(path: Path, groups: list[Group]) -> None:
    write_atomic(path, lambda tmp: _write(tmp, groups))


def _write(path: Path, groups: list[Group]) -> None:
    wb = new_workbook(path)
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7", "text_wrap": True})
    cell = wb.add_format({"border": 1})
    exact = wb.add_format({"border": 1, "bg_color": "#FFC7CE"})
    maybe = wb.add_format({"border": 1, "bg_color": "#FFEB9C"})
    ws = wb.add_worksheet("重复核查")
    heads = ["组号", "类型", "原因", "可信度", "文件", "工作表", "行", "村(社区)", "姓名", "身份证号"]
    widths = [6, 10, 40, 8, 30, 10, 6, 12, 10, 21]
    ws.merge_range(0, 0, 0, len(heads) - 1, "重复核查表", title)
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(1, j, h, head)
        ws.set_column(j, j, w)
    r = 2
    for n, g in enumerate(groups, start=1):
        fmt = exact if g.kind == "exact" else maybe
        for rec in g.records:
            values = [str(n), KIND_ZH[g.kind], g.reason, f"{g.score:.0%}", rec.file, rec.sheet, str(rec.row),
                      rec.village, rec.name, rec.id_masked]
            for j, v in enumerate(values):
                ws.write_string(r, j, v, fmt if j < 4 else cell)
            r += 1
    if not groups:
        ws.write_string(r, 0, "没有发现重复。")
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(r - 1, 2), len(heads) - 1)
    print_a4_landscape(ws)
    wb.close()
