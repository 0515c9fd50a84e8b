"""Write 经费预算.xlsx: 经费预算表, 分村汇总, 物资采购清单, 资金测算, with native Excel charts.

The budget workbook is small (one row per standard, village or goods item), so XlsxWriter,
which draws charts from exact cell ranges, is the right tool here.  Every sheet is meant to be
printed and attached to a request for funds: A4 (portrait when the table fits across it at a
readable size), one page wide, its header row on every page, long names wrapped in rows tall
enough for them, and each chart a horizontal bar chart as wide as its table, every category
labelled, on a page of its own when it would not fit below the table.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from weiwen.model.recipients import COUNT_LABEL, GROUP_LABEL, RecipientKind
from weiwen.budget import BudgetFigures, StandardLine
from weiwen.core.errors import WeiwenError
from weiwen.core.atomic import write_atomic
from weiwen.core.text import display_lines
from weiwen.sheets.xlsx import HEAD, TITLE, new_workbook

MONEY = "¥#,##0.00"
CHART_MAX_VILLAGES = 40  # beyond this the bars and their labels no longer fit one printed page; the table stays


def read_summary(path: Path) -> tuple[dict[str, object], str]:
    """An earlier allocation's summary.json (``path`` is the allocate output folder or the file)."""
    target = path / "summary.json" if path.is_dir() else path
    if not target.is_file():
        raise WeiwenError(f"--compare：找不到 {target}。请指定以前一次 weiwen allocate 的输出文件夹（其中有 summary.json）。",
                          code="compare-not-found")
    try:
        doc = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise WeiwenError(f"--compare：{target} 不是 weiwen 写出的 summary.json。", code="compare-invalid") from None
    if not isinstance(doc, dict) or "by_standard" not in doc:
        raise WeiwenError(f"--compare：{target} 不是 weiwen 写出的 summary.json。", code="compare-invalid")
    return doc, str(doc.get("campaign_name") or doc.get("campaign") or target)


COUNT_NOTE = {RecipientKind.UNIT: "单位数：享受该项标准的慰问单位数；计发人次：每个单位计 1 次。",
              RecipientKind.PERSON: "人次：享受该项标准的事件数（一人一年多次的分别计数）；待决定、不同意的事件不在其中。"}


def write_budget(path: Path, b: BudgetFigures, title: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, b, title))


# Printing.  Every sheet prints on A4, one page wide, its header row repeated, at a readable size:
# portrait when the table fits at ``READABLE`` of its size or more, landscape otherwise.  Widths are
# estimated as LibreOffice lays them out (a little wider than Excel does): about 5.45 points a
# character of column width and 6.5 points a column; the printable width is the paper's less 0.5" margins.
PRINTABLE = {"portrait": 595.3 - 72, "landscape": 841.9 - 72}  # points
READABLE = 0.88  # 11-point text printed at 9.7 points or larger
LINE = 15  # points: one line of 11-point text


def printed_width(widths: list[int]) -> float:
    """Points the columns ``widths`` (characters) take on paper at 100%."""
    return 5.45 * sum(widths) + 6.5 * len(widths)


def _money_width(values: list[Decimal], floor: int = 15) -> int:
    """A column wide enough for the largest amount as ¥#,##0.00 (a narrow one shows ####) and for a
    header such as 物资折价（元） on one line."""
    return max([floor, *(len(f"¥{abs(v):,.2f}") + 3 for v in values)])


def _write(path: Path, b: BudgetFigures, title: str) -> None:
    wb = new_workbook(path)
    f = {
        "title": wb.add_format(TITLE),
        "head": wb.add_format(HEAD),
        "text": wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True}),
        "center": wb.add_format({"border": 1, "align": "center", "valign": "vcenter", "num_format": "#,##0"}),
        "money": wb.add_format({"border": 1, "num_format": MONEY, "valign": "vcenter"}),
        "qty": wb.add_format({"border": 1, "num_format": "#,##0.###", "valign": "vcenter"}),
        "ttext": wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2", "valign": "vcenter",
                                "text_wrap": True}),
        "tcount": wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2", "align": "center",
                                 "valign": "vcenter", "num_format": "#,##0"}),
        "tmoney": wb.add_format({"border": 1, "bold": True, "num_format": MONEY, "bg_color": "#F2F2F2",
                                 "valign": "vcenter"}),
        "note": wb.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"}),
    }

    def table(ws: Any, heads: list[str], widths: list[int], heading: str) -> int:
        """Title (row 1), header (row 2), print setup; the first data row (0-based)."""
        last = len(heads) - 1
        ws.merge_range(0, 0, 0, last, heading, f["title"])
        ws.set_row(0, 24 * display_lines(heading, int(sum(widths) * 11 / 16)) + 6)  # 16-point characters
        for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.write_string(1, j, h, f["head"])
            ws.set_column(j, j, w)
        ws.set_row(1, LINE * max(display_lines(h, w) for h, w in zip(heads, widths, strict=True)) + 4)
        ws.freeze_panes(2, 0)
        ws.set_paper(9)  # A4
        if PRINTABLE["portrait"] / printed_width(widths) < READABLE:
            ws.set_landscape()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.repeat_rows(1)
        ws.fit_to_pages(1, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
        return 2

    def text_row(ws: Any, r: int, cells: list[tuple[int, str, int]]) -> None:
        """Row ``r`` as tall as its longest wrapped text: (column, text, column width)."""
        lines = max([1, *(display_lines(t, w) for _j, t, w in cells)])
        if lines > 1:  # wrapped text does not grow its row by itself in every spreadsheet program
            ws.set_row(r, LINE * lines + 2)

    def note(ws: Any, r: int, last: int, text: str, widths: list[int]) -> None:
        ws.merge_range(r, 0, r, last, text, f["note"])
        ws.set_row(r, LINE * display_lines(text, sum(widths)) + 2)

    # 经费预算表: standard × count × amount = subtotal.
    ws = wb.add_worksheet("经费预算表")
    money = _money_width([b.total, b.cash, b.goods_value])
    widths = [5, 24, 7, 9, 9, money, money, money]
    r = table(ws, ["序号", "慰问标准", COUNT_LABEL[b.kind], "计发人次", "单位标准（元）", "现金（元）", "物资折价（元）", "小计（元）"],
              widths, f"{title} 经费预算表")
    first = r

    def figures_of(r: int, line: StandardLine) -> None:
        ws.write_number(r, 2, line.households, f["center"])
        ws.write_number(r, 3, line.units, f["center"])
        ws.write_string(r, 4, line.per_unit, f["center"])
        for j, v in ((5, line.cash), (6, line.goods_value), (7, line.total)):
            ws.write_number(r, j, float(v), f["money"])

    for i, s in enumerate(b.standards, start=1):
        ws.write_string(r, 0, str(i), f["center"])
        ws.write_string(r, 1, s.name, f["text"])
        text_row(ws, r, [(1, s.name, widths[1])])
        figures_of(r, s)
        r += 1
    last = r - 1
    if b.cap_cut:
        ws.write_blank(r, 0, None, f["center"])
        ws.write_string(r, 1, "每户上限扣减", f["text"])
        for j in (2, 3, 4, 6):
            ws.write_blank(r, j, None, f["center"])
        ws.write_number(r, 5, -float(b.cap_cut), f["money"])
        ws.write_number(r, 7, -float(b.cap_cut), f["money"])
        r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    for j in (1, 2, 3, 4):
        ws.write_blank(r, j, None, f["ttext"])
    for j, v in ((5, b.cash), (6, b.goods_value), (7, b.total)):
        ws.write_number(r, j, float(v), f["tmoney"])
    r += 1
    note(ws, r, 7, COUNT_NOTE.get(b.kind, "户数：享受该项标准的户数（一户享受多项标准的，在各项中分别计数，所以不另计合计户数）；"
                                          "计发人次：按户计发的标准每户计 1 次，按人计发的计享受的人数。"), widths)
    packages = [s for s in b.standards if s.parts]
    if packages:  # a package's parts, below the total: they are already counted in the package's line
        r += 2
        note(ws, r, 7, "组合包各部分（已含在上表各项中，不另计）", widths)
        r += 1
        for s in packages:
            for part in s.parts:
                label = f"{s.name}：{part.name}"
                ws.write_blank(r, 0, None, f["center"])
                ws.write_string(r, 1, label, f["text"])
                text_row(ws, r, [(1, label, widths[1])])
                figures_of(r, part)
                r += 1
    if b.standards:
        # Horizontal bars: the standards' names read across, each on its own line, in the table's order.
        chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for j, name in ((5, "现金"), (6, "物资折价")):
            chart.add_series({"name": name, "categories": ["经费预算表", first, 1, last, 1],
                              "values": ["经费预算表", first, j, last, j], "gap": 60})
        _place_chart(ws, chart, r + 2, "各标准经费（现金与物资）", len(b.standards), widths, legend=True)

    _villages_sheet(wb, f, b, title, table, text_row, note)

    # 物资采购清单.
    ws = wb.add_worksheet("物资采购清单")
    goods_total = sum((g.value for g in b.goods), Decimal(0))
    widths = [5, 20, 8, 14, _money_width([goods_total])]
    r = table(ws, ["序号", "物资", "单位", "数量", "折价（元）"], widths, f"{title} 物资采购清单")
    for i, g in enumerate(b.goods, start=1):
        ws.write_string(r, 0, str(i), f["center"])
        ws.write_string(r, 1, g.item, f["text"])
        text_row(ws, r, [(1, g.item, widths[1])])
        ws.write_string(r, 2, g.unit, f["center"])
        ws.write_number(r, 3, float(g.quantity), f["qty"])
        ws.write_number(r, 4, float(g.value), f["money"])
        r += 1
    if not b.goods:
        ws.merge_range(r, 0, r, 4, "本次慰问标准不含实物。", f["center"])
        r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    for j in (1, 2, 3):
        ws.write_blank(r, j, None, f["ttext"])
    ws.write_number(r, 4, float(goods_total), f["tmoney"])

    _funds_sheet(wb, f, b, title, table, text_row)

    if b.compare:
        ws = wb.add_worksheet("对比")
        money = _money_width([v for c in b.compare for v in (c.total_before, c.total_now, c.change)])
        widths = [9, 24, 8, 8, money, money, money]
        r = table(ws, ["分类", "名称", "以前户数", "本次户数", "以前金额（元）", "本次金额（元）", "增减（元）"],
                  widths, f"{title} 与“{b.compare_with}”对比")
        for c in b.compare:
            bold = c.kind == "合计"
            ws.write_string(r, 0, c.kind, f["ttext"] if bold else f["text"])
            ws.write_string(r, 1, c.name, f["ttext"] if bold else f["text"])
            text_row(ws, r, [(1, c.name, widths[1])])
            ws.write_number(r, 2, c.households_before, f["tcount"] if bold else f["center"])
            ws.write_number(r, 3, c.households_now, f["tcount"] if bold else f["center"])
            for j, v in ((4, c.total_before), (5, c.total_now), (6, c.change)):
                ws.write_number(r, j, float(v), f["tmoney"] if bold else f["money"])
            r += 1
    wb.close()


def _villages_sheet(wb: Any, f: dict[str, Any], b: BudgetFigures, title: str, table: Any, text_row: Any,
                    note: Any) -> None:
    """分村汇总: per village, per township subtotal, grand total; a bar per village.

    The 乡镇(街道) column shows each roster's township, else the campaign's (campaign.township); when
    neither is known anywhere the column is left out rather than printed full of dashes."""
    group = GROUP_LABEL[b.kind]
    households = b.kind is RecipientKind.HOUSEHOLD
    sheet = "分村汇总" if households else f"分{group}汇总"
    ws = wb.add_worksheet(sheet)
    towns: dict[str, list[tuple[str, str, int, int, Decimal, Decimal]]] = {}
    for row in b.villages:
        towns.setdefault(row[0] or b.township, []).append(row)
    known = any(towns)  # some township is known
    unknown = "（未填乡镇）"
    money = _money_width([b.total, b.cash, b.goods_value])
    heads = [group, COUNT_LABEL[b.kind], "享受人数" if households else "计发次数", "现金（元）", "物资折价（元）", "合计（元）"]
    widths = [16, 7, 9, money, money, money]
    if known:
        heads, widths = ["乡镇(街道)", *heads], [14, *widths]
    c0 = 1 if known else 0  # the village column
    last_col = len(heads) - 1
    r = table(ws, heads, widths, f"{title} 分{group}汇总表")
    first = r

    def figures(r: int, rows: list[tuple[str, str, int, int, Decimal, Decimal]], total: bool) -> None:
        count, amount = (f["tcount"], f["tmoney"]) if total else (f["center"], f["money"])
        ws.write_number(r, c0 + 1, sum(x[2] for x in rows), count)
        ws.write_number(r, c0 + 2, sum(x[3] for x in rows), count)
        cash, goods = sum((x[4] for x in rows), Decimal(0)), sum((x[5] for x in rows), Decimal(0))
        for j, v in ((c0 + 3, cash), (c0 + 4, goods), (c0 + 5, cash + goods)):
            ws.write_number(r, j, float(v), amount)

    for town, rows in towns.items():
        for row in rows:
            village = row[1] or "（未填村名）"
            if known:
                ws.write_string(r, 0, town or unknown, f["text"])
            ws.write_string(r, c0, village, f["text"])
            text_row(ws, r, [(0, town or unknown, widths[0]), (c0, village, widths[c0])])
            figures(r, [row], total=False)
            r += 1
        if len(towns) > 1:
            ws.write_string(r, 0, town or unknown, f["ttext"])
            ws.write_string(r, 1, "小计", f["ttext"])
            figures(r, rows, total=True)
            r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    if known:
        ws.write_blank(r, 1, None, f["ttext"])
    figures(r, b.villages, total=True)
    r += 1
    note(ws, r, last_col, "享受人数：各户中符合所享受标准条件的人数（户主和家庭成员都计）；花名册只在户主一行填写类别的，"
                          "每户计 1 人。" if households else "计发次数：每个单位、每件事计 1 次。", widths)
    if b.villages and len(b.villages) <= CHART_MAX_VILLAGES and len(towns) == 1:
        n = len(b.villages)
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "合计", "categories": [sheet, first, c0, first + n - 1, c0],
                          "values": [sheet, first, last_col, first + n - 1, last_col], "gap": 60})
        _place_chart(ws, chart, r + 2, f"各{group}经费", n, widths, legend=False)
    elif b.villages:
        why = f"分属 {len(towns)} 个乡镇" if len(towns) > 1 else f"较多（{len(b.villages)} 个）"
        note(ws, r + 2, last_col, f"{group}{why}，未绘制分{'村' if households else group}图表。", widths)


def _funds_sheet(wb: Any, f: dict[str, Any], b: BudgetFigures, title: str, table: Any, text_row: Any) -> None:
    """资金测算: against the ceiling, the households left out by quotas, a fixed fund split."""
    ws = wb.add_worksheet("资金测算")
    money = _money_width([b.total, *([b.ceiling] if b.ceiling is not None else [])])
    widths = [24, money, 46]
    r = table(ws, ["项目", "金额（元）", "说明"], widths, f"{title} 资金测算")

    def line(r: int, label: str, amount: Decimal | None, text: str, bold: bool = False) -> None:
        ws.write_string(r, 0, label, f["ttext"] if bold else f["text"])
        if amount is None:
            ws.write_blank(r, 1, None, f["money"])
        else:
            ws.write_number(r, 1, float(amount), f["tmoney"] if bold else f["money"])
        ws.write_string(r, 2, text, f["ttext"] if bold else f["text"])
        text_row(ws, r, [(0, label, widths[0]), (2, text, widths[2])])

    line(r, "核定所需经费", b.total, f"现金 {b.cash} 元，物资折价 {b.goods_value} 元")
    r += 1
    if b.ceiling is not None:
        line(r, "上级下拨资金（上限）", b.ceiling, "")
        r += 1
        gap = b.shortfall or Decimal(0)
        line(r, "资金缺口" if gap > 0 else "结余", abs(gap),
             "所需超过下拨资金，请调整标准或申请追加" if gap > 0 else "下拨资金足以支付", bold=True)
        r += 1
    if b.over_quota:
        r += 1
        for j, h in enumerate(("超出名额、未列入预算的村(社区)", "户数", "说明")):
            ws.write_string(r, j, h, f["head"])
        ws.set_row(r, 2 * LINE + 4)
        r += 1
        for village, n in sorted(b.over_quota.items()):
            ws.write_string(r, 0, village, f["text"])
            ws.write_number(r, 1, n, f["center"])
            ws.write_string(r, 2, "详见慰问明细表中的“未纳入”表", f["text"])
            text_row(ws, r, [(0, village, widths[0])])
            r += 1
    if b.split:
        r += 1
        for j, h in enumerate(("资金分配", "金额（元）", b.split_rule)):
            ws.write_string(r, j, h, f["head"])
        ws.set_row(r, LINE * max(2, display_lines(b.split_rule, widths[2])) + 4)
        r += 1
        for name, amount in b.split:
            line(r, name, amount, "")
            r += 1
        line(r, "合计", sum((a for _n, a in b.split), Decimal(0)), "各部分之和等于分配的资金总额", bold=True)


PAGE_HEIGHT = {"portrait": 841.9 - 2 * 0.6 * 72, "landscape": 595.3 - 2 * 0.6 * 72}  # points inside the margins


def _place_chart(ws: Any, chart: Any, row: int, name: str, bars: int, widths: list[int], *, legend: bool) -> None:
    """A horizontal bar chart below the table at ``row``: as wide as the table (so it changes neither the
    page width nor the print scale), a bar and a readable label for every category, none skipped, in the
    table's order; on a page of its own when it would not fit below the table (a chart is never cut
    by a page break)."""
    orientation = "portrait" if PRINTABLE["portrait"] / printed_width(widths) >= READABLE else "landscape"
    scale = min(1.0, PRINTABLE[orientation] / printed_width(widths))
    page = PAGE_HEIGHT[orientation] / scale * 0.95  # points at 100% that one page holds
    per_bar = max(14, min(26, int(((page - 40) / 0.75 - 90) / bars)))  # pixels; 14 still parts 8-point labels
    font = 9 if per_bar >= 16 else 8
    chart.set_title({"name": name, "name_font": {"size": 12, "bold": True}})
    # In a bar chart XlsxWriter's y axis is the category axis, its x axis the values.
    chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1, "interval_tick": 1,
                      "num_font": {"size": font}, "major_tick_mark": "none"})
    chart.set_x_axis({"min": 0, "num_format": "#,##0", "num_font": {"size": font},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top", "font": {"size": 9}} if legend else {"none": True})
    height = max(240, 90 + per_bar * bars)
    chart.set_size({"width": min(sum(w * 7 + 5 for w in widths) - 8, 1000), "height": height})
    above = sum(ws.row_sizes.get(i, [ws.default_row_height])[0] for i in range(row)) * 0.75  # points
    on_page = above % page  # roughly: where the chart would start on its page
    if height * 0.75 <= page < on_page + height * 0.75:
        ws.set_h_pagebreaks([row - 1])  # the blank row above the chart ends the page
    ws.insert_chart(row, 0, chart, {"x_offset": 4})
