"""The 重复核查 workbook: each duplicate group with its source rows."""

from __future__ import annotations

from pathlib import Path

from weiwen.dedupe import KIND_ZH, Group
from weiwen.core.atomic import write_atomic
from weiwen.core.text import display_lines
from weiwen.sheets.xlsx import new_workbook, print_a4_landscape

def write_duplicates(path: Path, groups: list[Group]) -> None:
    write_atomic(path, lambda tmp: _write(tmp, groups))


HEADS = ("组号", "类型", "原因", "可信度", "文件", "工作表", "行", "村(社区)", "姓名", "身份证号")
# One page wide on A4 landscape at about 100%; the reason, the file and the names wrap.
WIDTHS = (5, 9, 38, 7, 20, 9, 6, 10, 8, 19)
WRAPPED = (2, 4, 5, 7, 8)
LINE = 15  # points: one line of 11-point text


def _write(path: Path, groups: list[Group]) -> None:
    wb = new_workbook(path)
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7",
                          "text_wrap": True})

    def fmt(**extra: object) -> object:
        return wb.add_format({"border": 1, "valign": "vcenter", **extra})

    plain = {False: fmt(), True: fmt(text_wrap=True)}
    colored = {kind: {False: fmt(bg_color=color), True: fmt(bg_color=color, text_wrap=True)}
               for kind, color in (("exact", "#FFC7CE"), ("other", "#FFEB9C"))}
    ws = wb.add_worksheet("重复核查")
    ws.merge_range(0, 0, 0, len(HEADS) - 1, "重复核查表", title)
    ws.set_row(0, 28)
    for j, (h, w) in enumerate(zip(HEADS, WIDTHS, strict=True)):
        ws.write_string(1, j, h, head)
        ws.set_column(j, j, w)
    ws.set_row(1, LINE + 5)
    r = 2
    for n, g in enumerate(groups, start=1):
        shade = colored["exact" if g.kind == "exact" else "other"]
        for rec in g.records:
            values = [str(n), KIND_ZH[g.kind], g.reason, f"{g.score:.0%}", rec.file, rec.sheet, str(rec.row),
                      rec.village, rec.name, rec.id_masked]
            for j, v in enumerate(values):
                ws.write_string(r, j, v, (shade if j < 4 else plain)[j in WRAPPED])
            # Wrapped text does not grow its row by itself in every spreadsheet program.
            lines = max(display_lines(values[j], WIDTHS[j]) for j in WRAPPED)
            if lines > 1:
                ws.set_row(r, LINE * lines + 3)
            r += 1
    if not groups:
        ws.merge_range(r, 0, r, len(HEADS) - 1, "没有发现重复。", plain[False])
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(r - 1, 2), len(HEADS) - 1)
    print_a4_landscape(ws)
    wb.close()
