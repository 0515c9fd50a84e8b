"""Write the allocation: allocation.xlsx (明细, 公示, 签领表, 汇总, 未纳入) and allocation.csv.

Every sheet has a frozen header, an autofilter where it helps, widths that fit Chinese text
and an A4 print setup with the header repeated and page numbers.  Data is always written as
text or numbers, never as formulas or links (XlsxWriter's conversions are switched off);
the only formulas are weiwen's own column totals, stored with their computed values.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import cn2an
import pandas as pd

from weiwen.allocation import Decision, goods_column, goods_total
from weiwen.engine.allocate import yuan
from weiwen.ids import mask_id
from weiwen.io.atomic import write_atomic, write_text_atomic
from weiwen.io.xlsx import new_workbook
from weiwen.layout import col_letter

SIGN_SHEETS_INLINE = 50  # more villages than this: one sign-sheet workbook per village
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MONEY = "¥#,##0.00"


def mask_name(name: str) -> str:
    """张*三 for three or more characters, 李* for two."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def capital(amount: Decimal) -> str:
    """Amount in capital Chinese numerals, as on a receipt: 壹仟壹佰元整."""
    if amount == 0:
        return "零元整"
    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def sheet_name(text: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text).strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def write_outputs(decision: Decision, out_dir: Path, title: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    xlsx = out_dir / "allocation.xlsx"
    by_village = {str(v): g for v, g in decision.table.groupby("village", sort=True)} if len(decision.table) else {}
    villages = list(by_village)
    inline = len(villages) <= SIGN_SHEETS_INLINE
    write_atomic(xlsx, lambda tmp: _workbook(tmp, decision, title, by_village if inline else {}))
    written.append(xlsx)
    if not inline:
        folder = out_dir / "签领表"
        width = len(str(len(villages)))
        for i, v in enumerate(villages, start=1):
            safe = _SHEET_BAD.sub("_", v).replace("..", "_") or "未填村名"
            target = folder / f"{i:0{width}d}-{safe}.xlsx"

            def one(tmp: Path, v: str = v) -> None:
                wb = new_workbook(tmp, constant_memory=True)
                _sign_sheet(wb, _formats(wb), decision, title, v, by_village[v], "签领表", set())
                wb.close()

            write_atomic(target, one)
            written.append(target)
    csv_path = out_dir / "allocation.csv"
    write_text_atomic(csv_path, _csv(decision))
    written.append(csv_path)
    return written


def _formats(wb: object) -> dict[str, object]:
    add = wb.add_format  # type: ignore[attr-defined]
    return {
        "title": add({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "sub": add({"font_size": 11, "align": "left"}),
        "head": add({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                     "bg_color": "#DDEBF7"}),
        "text": add({"border": 1, "valign": "vcenter"}),
        "wrap": add({"border": 1, "valign": "vcenter", "text_wrap": True}),
        "center": add({"border": 1, "align": "center", "valign": "vcenter"}),
        "money": add({"border": 1, "num_format": MONEY, "valign": "vcenter"}),
        "qty": add({"border": 1, "num_format": "#,##0.###", "valign": "vcenter"}),
        "total_text": add({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        "total_money": add({"border": 1, "bold": True, "num_format": MONEY, "bg_color": "#F2F2F2"}),
        "total_qty": add({"border": 1, "bold": True, "num_format": "#,##0.###", "bg_color": "#F2F2F2"}),
        "group": add({"bold": True, "bg_color": "#FFF2CC", "border": 1}),
        "foot": add({"font_size": 11}),
    }


def _print_setup(ws: object, header_row: int, landscape: bool = True) -> None:
    ws.set_paper(9)  # type: ignore[attr-defined]  # A4
    if landscape:
        ws.set_landscape()  # type: ignore[attr-defined]
    ws.repeat_rows(header_row)  # type: ignore[attr-defined]
    ws.fit_to_pages(1, 0)  # type: ignore[attr-defined]
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)  # type: ignore[attr-defined]
    ws.set_footer("&C第 &P 页，共 &N 页")  # type: ignore[attr-defined]
    ws.freeze_panes(header_row + 1, 0)  # type: ignore[attr-defined]


def _money(fen: int) -> float:
    return float(yuan(int(fen)))


def _workbook(path: Path, d: Decision, title: str, sign_villages: dict[str, pd.DataFrame]) -> None:
    wb = new_workbook(path, constant_memory=True)
    f = _formats(wb)
    used: set[str] = set()
    _detail(wb, f, d, title, used)
    _public(wb, f, d, title, used)
    for v, rows in sign_villages.items():
        _sign_sheet(wb, f, d, title, v, rows, f"签领表-{v}", used)
    _summary(wb, f, d, title, used)
    _left_out(wb, f, d, used)
    wb.close()


def _goods_cells(d: Decision, table_row: dict[str, object]) -> list[float]:
    return [float(table_row[goods_column(key)]) for key in d.goods]  # type: ignore[arg-type]


def _detail(wb: object, f: dict[str, object], d: Decision, title: str, used: set[str]) -> None:
    ws = wb.add_worksheet(sheet_name("慰问明细", used))  # type: ignore[attr-defined]
    goods_heads = [f"{item}（{unit}）" for item, unit in d.goods]
    heads = ["序号", "村(社区)", "户号", "户主", "身份证号", "人口数", "享受人数", "类别", "享受标准", "未享受标准",
             "现金（元）", *goods_heads, "物资折价（元）", "合计（元）", "核定依据", "备注"]
    widths = [6, 12, 8, 10, 21, 7, 8, 16, 18, 22, 12, *[10] * len(goods_heads), 12, 12, 36, 16]
    ws.merge_range(0, 0, 0, len(heads) - 1, f"{title} 慰问明细表", f["title"])
    ws.set_row(0, 28)
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(1, j, h, f["head"])
        ws.set_column(j, j, w)
    cash_col = 10
    r = 2
    for i, row in enumerate(d.table.to_dict("records"), start=1):
        values = [str(i), row["village"], row["household_no"], row["head_name"], row["head_id"] or "",
                  str(row["size"]), str(row["persons"]), row["categories"], row["applied_names"], row["suppressed"]]
        for j, v in enumerate(values):
            ws.write_string(r, j, str(v), f["center"] if j in (0, 5, 6) else f["text"])
        ws.write_number(r, cash_col, _money(row["cash_fen"]), f["money"])
        for k, qty in enumerate(_goods_cells(d, row)):
            ws.write_number(r, cash_col + 1 + k, qty, f["qty"])
        c = cash_col + 1 + len(d.goods)
        ws.write_number(r, c, _money(row["goods_fen"]), f["money"])
        ws.write_number(r, c + 1, _money(row["total_fen"]), f["money"])
        ws.write_string(r, c + 2, row["reason"], f["wrap"])
        ws.write_string(r, c + 3, f"封顶扣减 {yuan(row['capped_fen'])} 元" if row["capped_fen"] else "", f["text"])
        r += 1
    _totals_row(ws, f, d, r, 2, cash_col, "合计")
    ws.autofilter(1, 0, max(r - 1, 1), len(heads) - 1)
    _print_setup(ws, 1)


def _totals_row(ws: object, f: dict[str, object], d: Decision, r: int, first: int, cash_col: int, label: str) -> None:
    """A totals row of SUM formulas, each stored with the exact value weiwen computed."""
    ws.write_string(r, 0, label, f["total_text"])  # type: ignore[attr-defined]
    t = d.table
    sums = [_money(t["cash_fen"].sum())] if len(t) else [0.0]
    sums += [goods_total(d, key) for key in d.goods]
    sums += [_money(t["goods_fen"].sum()) if len(t) else 0.0, _money(t["total_fen"].sum()) if len(t) else 0.0]
    for k, value in enumerate(sums):
        c = cash_col + k
        fmt = f["total_qty"] if 0 < k <= len(d.goods) else f["total_money"]
        if r > first:
            ws.write_formula(r, c, f"=SUM({col_letter(c)}{first + 1}:{col_letter(c)}{r})", fmt, value)  # type: ignore[attr-defined]
        else:
            ws.write_number(r, c, value, fmt)  # type: ignore[attr-defined]


def _public(wb: object, f: dict[str, object], d: Decision, title: str, used: set[str]) -> None:
    """For posting: names and IDs masked, no phone or bank columns, grouped by village."""
    ws = wb.add_worksheet(sheet_name("公示名单", used))  # type: ignore[attr-defined]
    heads = ["序号", "村(社区)", "户主", "身份证号", "人口数", "享受标准", "金额（元）", "其中物资折价（元）"]
    widths = [6, 14, 10, 21, 8, 30, 12, 14]
    ws.merge_range(0, 0, 0, len(heads) - 1, f"{title} 慰问对象公示名单", f["title"])
    ws.set_row(0, 28)
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(1, j, h, f["head"])
        ws.set_column(j, j, w)
    r = 2
    n = 0
    for village, group in d.table.groupby("village", sort=True):
        ws.merge_range(r, 0, r, len(heads) - 1, f"{village}（{len(group)} 户）", f["group"])
        r += 1
        for row in group.to_dict("records"):
            n += 1
            values = [str(n), row["village"], mask_name(row["head_name"]), mask_id(row["head_id"] or ""),
                      str(row["size"]), row["applied_names"]]
            for j, v in enumerate(values):
                ws.write_string(r, j, v, f["center"] if j in (0, 4) else f["text"])
            ws.write_number(r, 6, _money(row["total_fen"]), f["money"])
            ws.write_number(r, 7, _money(row["goods_fen"]), f["money"])
            r += 1
    ws.write_string(r, 0, "合计", f["total_text"])
    ws.write_string(r, 1, f"{len(d.table)} 户", f["total_text"])
    for j in range(2, 6):
        ws.write_blank(r, j, None, f["total_text"])
    ws.write_number(r, 6, float(d.total), f["total_money"])
    ws.write_number(r, 7, float(d.goods_value), f["total_money"])
    ws.write_string(r + 2, 0, "公示期 3 天。对公示对象有异议的，请向镇（街道）民政办反映；举报属实的，取消慰问资格，不予补缺。",
                    f["foot"])
    _print_setup(ws, 1, landscape=False)


def _sign_sheet(wb: object, f: dict[str, object], d: Decision, title: str, village: str, rows: pd.DataFrame,
                name: str, used: set[str]) -> None:
    ws = wb.add_worksheet(sheet_name(name, used))  # type: ignore[attr-defined]
    heads = ["序号", "户主", "身份证号", "人口数", "享受标准", "现金（元）", "金额大写", "物资", "领取人签字", "领取日期"]
    widths = [5, 9, 21, 6, 18, 11, 20, 22, 16, 12]
    ws.merge_range(0, 0, 0, len(heads) - 1, f"{title} 发放签领表", f["title"])
    ws.write_string(1, 0, f"村(社区)：{village}        发放单位（盖章）：                    发放日期：    年   月   日",
                    f["sub"])
    ws.set_row(0, 28)
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(2, j, h, f["head"])
        ws.set_column(j, j, w)
    r = 3
    for n, row in enumerate(rows.to_dict("records"), start=1):
        ws.set_row(r, 30)
        cash = yuan(row["cash_fen"])
        goods = "、".join(
            f"{item}{_qty(row[goods_column((item, unit))])}{unit}" for item, unit in d.goods
            if row[goods_column((item, unit))]
        )
        values = [str(n), row["head_name"], mask_id(row["head_id"] or ""), str(row["size"]), row["applied_names"]]
        for j, v in enumerate(values):
            ws.write_string(r, j, v, f["center"] if j in (0, 3) else f["wrap"])
        ws.write_number(r, 5, float(cash), f["money"])
        ws.write_string(r, 6, capital(cash), f["wrap"])
        ws.write_string(r, 7, goods, f["wrap"])
        ws.write_blank(r, 8, None, f["text"])
        ws.write_blank(r, 9, None, f["text"])
        r += 1
    ws.write_string(r, 0, "合计", f["total_text"])
    for j in range(1, 5):
        ws.write_blank(r, j, None, f["total_text"])
    total = yuan(int(rows["cash_fen"].sum())) if len(rows) else Decimal("0.00")
    ws.write_number(r, 5, float(total), f["total_money"])
    ws.write_string(r, 6, capital(total), f["total_text"])
    for j in range(7, 10):
        ws.write_blank(r, j, None, f["total_text"])
    ws.write_string(r + 2, 0, "说明：本人签字领取，不得代签；足额发放，不得拆分。", f["foot"])
    ws.write_string(r + 3, 0, "制表人：                    审核人：                    发放人：", f["foot"])
    _print_setup(ws, 2)


def _qty(x: float) -> str:
    return f"{x:g}"


def _summary(wb: object, f: dict[str, object], d: Decision, title: str, used: set[str]) -> None:
    ws = wb.add_worksheet(sheet_name("汇总", used))  # type: ignore[attr-defined]
    ws.merge_range(0, 0, 0, 5, f"{title} 汇总表", f["title"])
    ws.set_column(0, 0, 30)
    ws.set_column(1, 5, 14)
    r = 2
    ws.write_string(r, 0, "一、按村(社区)", f["sub"])
    r += 1
    for j, h in enumerate(["村(社区)", "户数", "享受人数", "现金（元）", "物资折价（元）", "合计（元）"]):
        ws.write_string(r, j, h, f["head"])
    r += 1
    first = r
    for village, s in d.by_village.items():
        ws.write_string(r, 0, village, f["text"])
        ws.write_number(r, 1, s["households"], f["center"])
        ws.write_number(r, 2, s["persons"], f["center"])
        for j, k in ((3, "cash"), (4, "goods_value"), (5, "total")):
            ws.write_number(r, j, float(s[k]), f["money"])
        r += 1
    ws.write_string(r, 0, "合计", f["total_text"])
    totals = [len(d.table), d.persons_aided, float(d.cash), float(d.goods_value), float(d.total)]
    for j, value in enumerate(totals, start=1):
        fmt = f["total_text"] if j <= 2 else f["total_money"]
        if r > first:
            ws.write_formula(r, j, f"=SUM({col_letter(j)}{first + 1}:{col_letter(j)}{r})", fmt, value)
        else:
            ws.write_number(r, j, value, fmt)
    r += 2
    ws.write_string(r, 0, "二、按慰问标准", f["sub"])
    r += 1
    for j, h in enumerate(["慰问标准", "户数", "计发人次", "现金（元）", "物资折价（元）", "合计（元）"]):
        ws.write_string(r, j, h, f["head"])
    r += 1
    for code, s in d.by_standard.items():
        ws.write_string(r, 0, str(s["name"]), f["text"])
        ws.write_number(r, 1, int(s["households"]), f["center"])  # type: ignore[arg-type]
        ws.write_number(r, 2, int(s.get("units", 0)), f["center"])  # type: ignore[arg-type]
        ws.write_number(r, 3, float(s["cash"]), f["money"])  # type: ignore[arg-type]
        ws.write_number(r, 4, float(s.get("goods_value", 0)), f["money"])  # type: ignore[arg-type]
        ws.write_number(r, 5, float(s["total"]), f["money"])  # type: ignore[arg-type]
        r += 1
    ws.write_string(r, 0, "合计", f["total_text"])
    for j, value in ((3, float(d.cash)), (4, float(d.goods_value)), (5, float(d.total))):
        ws.write_number(r, j, value, f["total_money"])
    r += 2
    ws.write_string(r, 0, "三、物资数量", f["sub"])
    r += 1
    for j, h in enumerate(["物资", "单位", "数量"]):
        ws.write_string(r, j, h, f["head"])
    r += 1
    for item, unit in d.goods:
        ws.write_string(r, 0, item, f["text"])
        ws.write_string(r, 1, unit, f["center"])
        ws.write_number(r, 2, goods_total(d, (item, unit)), f["qty"])
        r += 1
    _print_setup(ws, 0, landscape=False)


def _left_out(wb: object, f: dict[str, object], d: Decision, used: set[str]) -> None:
    ws = wb.add_worksheet(sheet_name("未纳入", used))  # type: ignore[attr-defined]
    heads = ["类型", "文件", "工作表", "行", "村(社区)", "姓名", "身份证号", "原因"]
    widths = [10, 28, 10, 6, 12, 10, 21, 60]
    for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(0, j, h, f["head"])
        ws.set_column(j, j, w)
    for r, x in enumerate(d.left_out, start=1):
        for j, v in enumerate([x.kind, x.file, x.sheet, str(x.row), x.village, x.name, x.id_masked, x.reason]):
            ws.write_string(r, j, v, f["wrap"] if j == 7 else f["text"])
    ws.autofilter(0, 0, max(len(d.left_out), 1), len(heads) - 1)
    _print_setup(ws, 0)


def _csv(d: Decision) -> str:
    """For bank batch payment and other systems: UTF-8 with BOM, full ID, amounts in yuan."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["户编码", "村(社区)", "户号", "户主姓名", "身份证号", "银行卡号", "享受标准", "现金", "物资折价", "合计"])
    for row in d.table.to_dict("records"):
        w.writerow([_cell(v) for v in (row["key"].split("|")[-1], row["village"], row["household_no"], row["head_name"],
                                       row["head_id"] or "", row["head_bank"] or "", row["applied"],
                                       f"{yuan(row['cash_fen'])}", f"{yuan(row['goods_fen'])}",
                                       f"{yuan(row['total_fen'])}")])
    return "\ufeff" + buf.getvalue()


def _cell(value: object) -> str:
    """CSV injection guard (OWASP): text that a spreadsheet would run gets a leading apostrophe."""
    s = str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s
