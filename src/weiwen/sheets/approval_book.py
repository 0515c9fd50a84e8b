"""Write 审批表.xlsx: the one A4 page a leader signs to approve the campaign's money.

The totals by standard and by village, the grand total in figures and in capitals (大写), and a
box each for 经办人, 审核人 and 审批人 to write an opinion, sign and date.  Many villages would
push it past one page: then the ten with the largest amounts are listed and the others are one
line (其余 N 个村(社区)); the full table is the 汇总 sheet of 慰问明细.xlsx.  A small form with
merged boxes: written with XlsxWriter, which places any cell and merge.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from weiwen.core.atomic import write_atomic
from weiwen.decision import Decision
from weiwen.sheets.printed import MONEY, capital, display_lines
from weiwen.sheets.xlsx import new_workbook

APPROVAL_BOOK = "审批表.xlsx"
VILLAGES_LISTED = 15  # more villages than this: the largest TOP_VILLAGES and one line for the rest
TOP_VILLAGES = 10
ROLES = ("经办人", "审核人", "审批人")
_HEADS = ("户数", "人数/人次", "现金（元）", "物资折价（元）", "合计（元）")


def village_lines(by_village: dict[str, dict[str, object]]) -> list[tuple[str, int, int, Decimal, Decimal, Decimal]]:
    """The by-village lines of the form: every village when there are at most VILLAGES_LISTED, else
    the TOP_VILLAGES largest by amount (largest first) and 其余 N 个村(社区) for the others."""
    lines = [(name, int(s["households"]), int(s["persons"]), Decimal(str(s["cash"])),  # type: ignore[call-overload]
              Decimal(str(s["goods_value"])), Decimal(str(s["total"]))) for name, s in by_village.items()]
    if len(lines) <= VILLAGES_LISTED:
        return lines
    ranked = sorted(lines, key=lambda x: (-x[5], x[0]))
    top, rest = ranked[:TOP_VILLAGES], ranked[TOP_VILLAGES:]
    other = (f"其余 {len(rest)} 个村(社区)", sum(x[1] for x in rest), sum(x[2] for x in rest),
             sum((x[3] for x in rest), Decimal(0)), sum((x[4] for x in rest), Decimal(0)),
             sum((x[5] for x in rest), Decimal(0)))
    return [*top, other]


def write_approval(path: Path, d: Decision, title: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, d, title))


def _write(path: Path, d: Decision, title: str) -> None:
    wb = new_workbook(path)
    base = {"valign": "vcenter", "text_wrap": True}
    box = {**base, "border": 1}
    f: dict[str, Any] = {
        "title": wb.add_format({**base, "bold": True, "font_size": 18, "align": "center"}),
        "info": wb.add_format(base),
        "info_right": wb.add_format({**base, "align": "right"}),
        "section": wb.add_format({**base, "bold": True, "font_size": 12}),
        "head": wb.add_format({**box, "bold": True, "align": "center", "bg_color": "#DDEBF7"}),
        "text": wb.add_format(box),
        "count": wb.add_format({**box, "align": "center"}),
        "money": wb.add_format({**box, "num_format": MONEY}),
        "t_text": wb.add_format({**box, "bold": True, "bg_color": "#F2F2F2"}),
        "t_count": wb.add_format({**box, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
        "t_money": wb.add_format({**box, "bold": True, "num_format": MONEY, "bg_color": "#F2F2F2"}),
        "label": wb.add_format({**box, "bold": True, "align": "center"}),
        "amount": wb.add_format({**box, "bold": True, "font_size": 12}),
        "sign": wb.add_format({**box, "align": "right", "valign": "bottom"}),
        "note": wb.add_format({**base, "font_size": 10, "font_color": "#595959"}),
    }
    ws = wb.add_worksheet("审批表")
    money = max(14, len(f"¥{d.total:,.2f}") + 2)
    widths = [26, 8, 10, money, money, money]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    heading = f"{title} 慰问资金审批表"
    ws.merge_range(0, 0, 0, 5, heading, f["title"])
    ws.set_row(0, 26 * display_lines(heading, int(sum(widths) * 11 / 18)) + 10)
    ws.merge_range(1, 0, 1, 2, "填报单位（盖章）：", f["info"])
    ws.merge_range(1, 3, 1, 5, "填报日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日", f["info_right"])
    ws.set_row(1, 26)
    row = 2

    def section(text: str) -> None:
        nonlocal row
        ws.merge_range(row, 0, row, 5, text, f["section"])
        ws.set_row(row, 22)
        row += 1

    def line(name: str, households: object, persons: object, cash: object, goods: object, total: object,
             total_row: bool = False) -> None:
        nonlocal row
        t = "t_" if total_row else ""
        ws.write_string(row, 0, name, f[f"{t}text"])
        for j, value in ((1, households), (2, persons)):
            ws.write_string(row, j, str(value), f[f"{t}count"])
        for j, value in ((3, cash), (4, goods), (5, total)):
            if value == "":
                ws.write_blank(row, j, None, f[f"{t}money"])
            else:
                ws.write_number(row, j, float(value), f[f"{t}money"])  # type: ignore[arg-type]
        ws.set_row(row, max(17, 15 * display_lines(name, widths[0]) + 3))
        row += 1

    def header(first: str, persons: str) -> None:
        nonlocal row
        for j, text in enumerate((first, _HEADS[0], persons, *_HEADS[2:])):
            ws.write_string(row, j, text, f["head"])
        ws.set_row(row, 22)
        row += 1

    section("一、按慰问标准")
    header("慰问标准", _HEADS[1])
    for s in d.by_standard.values():
        line(str(s["name"]), s.get("households", ""), s.get("units", ""), s.get("cash", ""), s.get("goods_value", ""),
             s.get("total", ""))
    line("合计", len(d.table), d.persons_aided, d.cash, d.goods_value, d.total, total_row=True)
    villages = village_lines(d.by_village)
    many = len(d.by_village) > VILLAGES_LISTED
    section(f"二、按村(社区)（金额最多的 {TOP_VILLAGES} 个村(社区)，全部 {len(d.by_village)} 个见慰问明细.xlsx“汇总”表）"
            if many else "二、按村(社区)")
    header("村(社区)", "享受人数")
    for v in villages:
        line(*v)
    line("合计", len(d.table), d.persons_aided, d.cash, d.goods_value, d.total, total_row=True)
    section("三、资金合计")
    for label, text in (("合计金额（小写）", f"¥{d.total:,.2f}（其中现金 ¥{d.cash:,.2f}，物资折价 ¥{d.goods_value:,.2f}）"),
                        ("合计金额（大写）", capital(d.total))):
        ws.write_string(row, 0, label, f["label"])
        ws.merge_range(row, 1, row, 5, text, f["amount"])
        ws.set_row(row, 26)
        row += 1
    section("四、审批意见")
    for role in ROLES:
        ws.write_string(row, 0, f"{role}意见", f["label"])
        ws.merge_range(row, 1, row, 5, "签字：" + "\u3000" * 10 + "年\u3000\u3000月\u3000\u3000日\u3000", f["sign"])
        ws.set_row(row, 54)
        row += 1
    ws.merge_range(row, 0, row, 5, "注：一户享受几项标准的，在各项标准中分别计数，合计不重复计算；每户明细见慰问明细.xlsx。",
                   f["note"])
    ws.set_row(row, 15 * display_lines("注：一户享受几项标准的，在各项标准中分别计数，合计不重复计算；每户明细见慰问明细.xlsx。",
                                       int(sum(widths) * 11 / 10)) + 4)
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)
    ws.center_horizontally()
    ws.set_margins(left=0.6, right=0.6, top=0.5, bottom=0.5)
    ws.print_area(0, 0, row, 5)
    wb.close()
