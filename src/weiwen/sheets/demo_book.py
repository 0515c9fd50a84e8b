"""Write generated rosters as the workbooks villages send: a title, a header, a footer."""

from __future__ import annotations

from pathlib import Path

from weiwen.core import jsonout
from weiwen.core.atomic import write_atomic, write_text_atomic
from weiwen.core.text import display_lines
from weiwen.sheets.xlsx import new_workbook, print_a4_landscape
from weiwen.demo import Village

# Villages word their headers differently; the writer rotates through real variants.
HEADER_VARIANTS = (
    ("序号", "村(社区)", "户号", "姓名", "身份证号", "性别", "与户主关系", "类别", "人口数", "残疾等级", "联系电话",
     "银行卡号", "开户行", "家庭住址", "备注"),
    ("序号", "所在村（社区）", "户编号", "姓名", "公民身份号码", "性别", "与户主的关系", "对象类别", "家庭人口",
     "残疾等级", "手机号码", "银行账号", "开户银行", "住址", "备注"),
    ("编号", "村居", "户号", "慰问对象姓名", "身份证号码（18位）", "性别", "家庭关系", "救助类别", "家庭人数",
     "残疾级别", "联系电话", "银行卡账号", "开户行", "家庭住址", "备注"),
)


# Column widths: one page wide on A4 landscape at about 85% (an 18-digit ID and a 19-digit card just fit);
# the texts that can run long (村名、姓名、类别、开户行、住址) wrap.
WIDTHS = (5, 9, 5, 7, 20, 5, 7, 14, 5, 5, 13, 21, 13, 22, 5)
WRAPPED = frozenset({1, 3, 7, 12, 13})


def _rows(village: Village) -> list[tuple[object, ...]]:
    rows = []
    seq = 0
    for hh in village.households:
        for p in hh.members:
            seq += 1
            id_cell: object = float(p.id_number) if p.id_as_number else p.id_number
            rows.append((seq, village.name, hh.number, p.name, id_cell, p.sex, p.relation, p.categories, hh.size,
                         p.disability_grade, p.phone, p.bank_card, p.bank_name, hh.address, ""))
    return rows


def write_village(path: Path, village: Village, variant: int = 0, year: int = 2027) -> None:
    def write(tmp: Path) -> None:
        wb = new_workbook(tmp, constant_memory=True)
        title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        head = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7",
                              "text_wrap": True})
        text = wb.add_format({"num_format": "@", "border": 1, "valign": "vcenter"})
        cell = wb.add_format({"border": 1, "valign": "vcenter"})
        wrap = wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True})
        ws = wb.add_worksheet("花名册")
        headers = HEADER_VARIANTS[variant % len(HEADER_VARIANTS)]
        ws.set_row(0, 24)
        ws.merge_range(0, 0, 0, len(headers) - 1,
                       f"{village.township}{village.name}{year}年春节走访慰问对象花名册", title)
        ws.set_row(1, 15 * max(display_lines(h, w) for h, w in zip(headers, WIDTHS, strict=True)) + 4)
        for j, h in enumerate(headers):
            ws.write_string(1, j, h, head)
        for j, w in enumerate(WIDTHS):
            ws.set_column(j, j, w)
        r = 2
        for row in _rows(village):
            lines = max(display_lines(str(row[j]), WIDTHS[j]) for j in WRAPPED)
            if lines > 1:  # wrapped text does not grow its row by itself in every spreadsheet program
                ws.set_row(r, 15 * lines + 2)
            for j, v in enumerate(row):
                if isinstance(v, float):
                    ws.write_number(r, j, v, cell)
                elif isinstance(v, int):
                    ws.write_number(r, j, v, cell)
                else:
                    ws.write_string(r, j, str(v), text if j in (2, 4, 10, 11) else wrap if j in WRAPPED else cell)
            r += 1
        ws.write_string(r, 0, "合计", head)
        ws.write_string(r, 3, f"{len(village.households)}户{village.persons}人", cell)
        ws.write_string(r + 2, 0, "制表人：")
        ws.write_string(r + 2, 4, "审核人：")
        ws.write_string(r + 2, 9, f"填报日期：{year - 1}年12月")
        print_a4_landscape(ws, header_row=1)
        ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
        ws.center_horizontally()
        wb.close()

    write_atomic(path, write)


def write_single(path: Path, villages: list[Village], year: int = 2027) -> None:
    """All villages in one sheet (a township-wide roster; used by the benchmarks)."""

    def write(tmp: Path) -> None:
        wb = new_workbook(tmp, constant_memory=True)
        ws = wb.add_worksheet("花名册")
        ws.write_string(0, 0, f"{villages[0].township if villages else ''}{year}年春节走访慰问对象花名册")
        headers = HEADER_VARIANTS[0]
        for j, h in enumerate(headers):
            ws.write_string(1, j, h)
        r = 2
        for v in villages:
            for row in _rows(v):
                for j, val in enumerate(row):
                    if isinstance(val, (int, float)):
                        ws.write_number(r, j, val)
                    elif val != "":
                        ws.write_string(r, j, str(val))
                r += 1
        ws.write_string(r, 0, "合计")
        wb.close()

    write_atomic(path, write)


def write_planted(path: Path, villages: list[Village]) -> None:
    """Where the generator planted mistakes: for tests and for checking a demo by eye."""
    items = []
    for v in villages:
        row = 3  # Excel row of the first person in a village workbook
        for hh in v.households:
            for p in hh.members:
                if p.planted:
                    items.append({"village": v.name, "row": row, "household": hh.number, "kind": p.planted})
                row += 1
    write_text_atomic(path, jsonout.dumps(items))
