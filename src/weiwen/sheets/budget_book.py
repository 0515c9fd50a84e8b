"""Write 经费预算.xlsx: 经费预算表, 分村汇总, 物资采购清单, 资金测算, with native Excel charts.

The budget workbook is small (one row per standard, village or goods item), so XlsxWriter,
which draws charts from exact cell ranges, is the right tool here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from weiwen.budget import BudgetFigures, StandardLine
from weiwen.core.errors import WeiwenError
from weiwen.core.atomic import write_atomic
from weiwen.sheets.xlsx import new_workbook

MONEY = "¥#,##0.00"
CHART_MAX_VILLAGES = 60  # beyond this a bar per village is unreadable; the table stays


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


def write_budget(path: Path, b: BudgetFigures, title: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, b, title))


def _write(path: Path, b: BudgetFigures, title: str) -> None:
    wb = new_workbook(path)
    f = {
        "title": wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "head": wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                               "bg_color": "#DDEBF7"}),
        "text": wb.add_format({"border": 1}),
        "wrap": wb.add_format({"border": 1, "text_wrap": True, "valign": "vcenter"}),
        "center": wb.add_format({"border": 1, "align": "center"}),
        "money": wb.add_format({"border": 1, "num_format": MONEY}),
        "qty": wb.add_format({"border": 1, "num_format": "#,##0.###"}),
        "ttext": wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        "tmoney": wb.add_format({"border": 1, "bold": True, "num_format": MONEY, "bg_color": "#F2F2F2"}),
        "note": wb.add_format({"italic": True, "font_color": "#595959"}),
    }

    def table(ws: object, top: int, heads: list[str], widths: list[int], heading: str) -> int:
        ws.merge_range(0, 0, 0, len(heads) - 1, heading, f["title"])  # type: ignore[attr-defined]
        ws.set_row(0, 28)  # type: ignore[attr-defined]
        for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.write_string(top, j, h, f["head"])  # type: ignore[attr-defined]
            ws.set_column(j, j, w)  # type: ignore[attr-defined]
        ws.freeze_panes(top + 1, 0)  # type: ignore[attr-defined]
        ws.set_paper(9)  # type: ignore[attr-defined]
        ws.repeat_rows(top)  # type: ignore[attr-defined]
        ws.fit_to_pages(1, 0)  # type: ignore[attr-defined]
        ws.set_footer("&C第 &P 页，共 &N 页")  # type: ignore[attr-defined]
        return top + 1

    # 经费预算表: standard × count × amount = subtotal.
    ws = wb.add_worksheet("经费预算表")
    r = table(ws, 1, ["序号", "慰问标准", "户数", "计发人次", "单位标准（元）", "现金（元）", "物资折价（元）", "小计（元）"],
              [6, 30, 8, 10, 14, 14, 14, 14], f"{title} 经费预算表")
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
        figures_of(r, s)
        r += 1
    last = r - 1
    if b.cap_cut:
        ws.write_string(r, 1, "每户上限扣减", f["text"])
        ws.write_number(r, 5, -float(b.cap_cut), f["money"])
        ws.write_number(r, 7, -float(b.cap_cut), f["money"])
        r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    ws.write_blank(r, 1, None, f["ttext"])
    for j in (2, 3, 4):
        ws.write_blank(r, j, None, f["ttext"])
    for j, v in ((5, b.cash), (6, b.goods_value), (7, b.total)):
        ws.write_number(r, j, float(v), f["tmoney"])
    packages = [s for s in b.standards if s.parts]
    if packages:  # a package's parts, below the total: they are already counted in the package's line
        r += 2
        ws.write_string(r, 1, "组合包各部分（已含在上表各项中，不另计）", f["note"])
        r += 1
        for s in packages:
            for part in s.parts:
                label = f"{s.name}：{part.name}"
                ws.write_string(r, 1, label, f["wrap"])
                ws.set_row(r, 15 * -(-len(label) // 14))  # wrapped: ~14 Chinese characters a line in 30 widths
                figures_of(r, part)
                r += 1
    if b.standards:
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
        for j, name in ((5, "现金"), (6, "物资折价")):
            chart.add_series({"name": name, "categories": ["经费预算表", first, 1, last, 1],
                              "values": ["经费预算表", first, j, last, j]})
        chart.set_title({"name": "各标准经费（现金与物资）"})
        chart.set_y_axis({"min": 0, "num_format": "#,##0"})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(r + 2, 1, chart)

    # 分村汇总: per village, per township subtotal, grand total.
    ws = wb.add_worksheet("分村汇总")
    r = table(ws, 1, ["乡镇(街道)", "村(社区)", "户数", "人数", "现金（元）", "物资折价（元）", "合计（元）"],
              [14, 16, 8, 8, 14, 14, 14], f"{title} 分村(社区)汇总表")
    first = r
    towns: dict[str, list[tuple[str, str, int, int, Decimal, Decimal]]] = {}
    for row in b.villages:
        towns.setdefault(row[0], []).append(row)
    chart_rows = []
    for town, rows in towns.items():
        for _t, village, hh, persons, cash, goods in rows:
            ws.write_string(r, 0, town or "—", f["text"])
            ws.write_string(r, 1, village or "（未填村名）", f["text"])
            ws.write_number(r, 2, hh, f["center"])
            ws.write_number(r, 3, persons, f["center"])
            for j, v in ((4, cash), (5, goods), (6, cash + goods)):
                ws.write_number(r, j, float(v), f["money"])
            chart_rows.append(r)
            r += 1
        if len(towns) > 1:
            ws.write_string(r, 0, town or "—", f["ttext"])
            ws.write_string(r, 1, "小计", f["ttext"])
            ws.write_number(r, 2, sum(x[2] for x in rows), f["ttext"])
            ws.write_number(r, 3, sum(x[3] for x in rows), f["ttext"])
            for j, v in ((4, sum(x[4] for x in rows)), (5, sum(x[5] for x in rows))):
                ws.write_number(r, j, float(v), f["tmoney"])
            ws.write_number(r, 6, float(sum(x[4] + x[5] for x in rows)), f["tmoney"])
            r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    ws.write_blank(r, 1, None, f["ttext"])
    ws.write_number(r, 2, sum(x[2] for x in b.villages), f["ttext"])
    ws.write_number(r, 3, sum(x[3] for x in b.villages), f["ttext"])
    for j, v in ((4, b.cash), (5, b.goods_value), (6, b.total)):
        ws.write_number(r, j, float(v), f["tmoney"])
    if b.villages and len(b.villages) <= CHART_MAX_VILLAGES and len(towns) == 1:
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "合计", "categories": ["分村汇总", first, 1, first + len(b.villages) - 1, 1],
                          "values": ["分村汇总", first, 6, first + len(b.villages) - 1, 6]})
        chart.set_title({"name": "各村(社区)经费"})
        chart.set_x_axis({"min": 0, "num_format": "#,##0"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": max(300, 24 * len(b.villages))})
        ws.insert_chart(r + 2, 0, chart)
    elif b.villages:
        ws.write_string(r + 2, 0, f"村(社区)较多（{len(b.villages)} 个）或分属多个乡镇，未绘制分村图表。", f["note"])

    # 物资采购清单.
    ws = wb.add_worksheet("物资采购清单")
    r = table(ws, 1, ["序号", "物资", "单位", "数量", "折价（元）"], [6, 20, 8, 14, 16], f"{title} 物资采购清单")
    for i, g in enumerate(b.goods, start=1):
        ws.write_string(r, 0, str(i), f["center"])
        ws.write_string(r, 1, g.item, f["text"])
        ws.write_string(r, 2, g.unit, f["center"])
        ws.write_number(r, 3, float(g.quantity), f["qty"])
        ws.write_number(r, 4, float(g.value), f["money"])
        r += 1
    ws.write_string(r, 0, "合计", f["ttext"])
    for j in (1, 2, 3):
        ws.write_blank(r, j, None, f["ttext"])
    ws.write_number(r, 4, float(sum((g.value for g in b.goods), Decimal(0))), f["tmoney"])

    # 资金测算: against the ceiling, and a fixed fund split.
    ws = wb.add_worksheet("资金测算")
    r = table(ws, 1, ["项目", "金额（元）", "说明"], [24, 16, 50], f"{title} 资金测算")
    ws.write_string(r, 0, "核定所需经费", f["text"])
    ws.write_number(r, 1, float(b.total), f["money"])
    ws.write_string(r, 2, f"现金 {b.cash} 元，物资折价 {b.goods_value} 元", f["text"])
    r += 1
    if b.ceiling is not None:
        ws.write_string(r, 0, "上级下拨资金（上限）", f["text"])
        ws.write_number(r, 1, float(b.ceiling), f["money"])
        ws.write_blank(r, 2, None, f["text"])
        r += 1
        gap = b.shortfall or Decimal(0)
        ws.write_string(r, 0, "资金缺口" if gap > 0 else "结余", f["ttext"])
        ws.write_number(r, 1, float(abs(gap)), f["tmoney"])
        ws.write_string(r, 2, "所需超过下拨资金，请调整标准或申请追加" if gap > 0 else "下拨资金足以支付", f["ttext"])
        r += 1
    if b.over_quota:
        r += 1
        ws.write_string(r, 0, "超出名额、未列入预算", f["head"])
        ws.write_string(r, 1, "户数", f["head"])
        ws.write_string(r, 2, "详见 allocate 的“未纳入”表", f["head"])
        r += 1
        for village, n in sorted(b.over_quota.items()):
            ws.write_string(r, 0, village, f["text"])
            ws.write_number(r, 1, n, f["center"])
            ws.write_blank(r, 2, None, f["text"])
            r += 1
    if b.split:
        r += 1
        ws.write_string(r, 0, "资金分配", f["head"])
        ws.write_string(r, 1, "金额（元）", f["head"])
        ws.write_string(r, 2, b.split_rule, f["head"])
        r += 1
        for name, amount in b.split:
            ws.write_string(r, 0, name, f["text"])
            ws.write_number(r, 1, float(amount), f["money"])
            ws.write_blank(r, 2, None, f["text"])
            r += 1
        ws.write_string(r, 0, "合计", f["ttext"])
        ws.write_number(r, 1, float(sum((a for _n, a in b.split), Decimal(0))), f["tmoney"])
        ws.write_string(r, 2, "各部分之和等于分配的资金总额", f["ttext"])

    if b.compare:
        ws = wb.add_worksheet("对比")
        r = table(ws, 1, ["分类", "名称", "以前户数", "本次户数", "以前金额（元）", "本次金额（元）", "增减（元）"],
                  [10, 30, 10, 10, 16, 16, 16], f"{title} 与“{b.compare_with}”对比")
        for c in b.compare:
            bold = c.kind == "合计"
            ws.write_string(r, 0, c.kind, f["ttext"] if bold else f["text"])
            ws.write_string(r, 1, c.name, f["ttext"] if bold else f["text"])
            ws.write_number(r, 2, c.households_before, f["ttext"] if bold else f["center"])
            ws.write_number(r, 3, c.households_now, f["ttext"] if bold else f["center"])
            for j, v in ((4, c.total_before), (5, c.total_now), (6, c.change)):
                ws.write_number(r, j, float(v), f["tmoney"] if bold else f["money"])
            r += 1
    wb.close()
