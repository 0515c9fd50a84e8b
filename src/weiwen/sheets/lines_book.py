"""The sheets of campaigns whose recipients are not households (writers only).

- A unit list gives 发放清单.xlsx: a summary by leading department (units, cash, each item's
  quantity, total), then one distribution list per department with a signature and a date column,
  to hand the goods over and sign for them.
- An event roster gives 慰问登记册.xlsx: the member condolence register (department, member,
  event, date, standard, amounts, a signature column), the events held for a decision (待决定,
  with the member's earlier dates of the year) and the events refused (不同意).

No public list is written for these kinds: a member's hospitalisation is not for posting, and a
unit list has no one to object.  ID numbers are masked; the full ones stay in allocation.csv.
Print standards as the household sheets (:mod:`weiwen.sheets.printed`): A4 portrait, title and
header on every page, page numbers, a sign-off line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rustpy_xlsxwriter as rx

from weiwen.core import jsonout
from weiwen.core.atomic import write_text_atomic
from weiwen.core.ids import mask_id
from weiwen.decision import Decision, LeftOut
from weiwen.engine.amounts import yuan
from weiwen.model.frames import goods_column
from weiwen.model.recipients import RecipientKind
from weiwen.sheets.payment_csv import write_lines_csv, write_payment_csv, write_persons_csv
from weiwen.summary import summary
from weiwen.sheets.printed import Formats, Rows, display_lines, heights_of, page_numbers, sheet_name, small_book, titled_sheet

UNIT_BOOK = "发放清单.xlsx"
EVENT_BOOK = "慰问登记册.xlsx"
SIGN_OFF = "制表人：                审核人：                负责人："


def _qty(q: float) -> str:
    return f"{q:g}"


def _goods_text(row: pd.Series, goods: list[tuple[str, str]]) -> str:
    parts = [f"{item}{_qty(float(row[goods_column((item, unit))]))}{unit}" for item, unit in goods
             if float(row[goods_column((item, unit))])]
    return "、".join(parts)


def _money(fen: int) -> float:
    return float(yuan(int(fen)))


def write_line_outputs(decision: Decision, out_dir: Path, title: str) -> list[Path]:
    """Every output of a unit or event campaign: its workbook, allocation.csv and persons.csv (for
    payment, as for households), lines.csv (what the ledger records of units and events) and summary.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    book = write_line_book(decision, out_dir, title)
    csv_path, persons_path, summary_path = out_dir / "allocation.csv", out_dir / "persons.csv", out_dir / "summary.json"
    write_payment_csv(csv_path, decision.table)
    write_persons_csv(persons_path, decision.table, decision.members)
    lines_path = out_dir / "lines.csv"
    write_lines_csv(lines_path, decision.table, decision.events, decision.kind.value)
    write_text_atomic(summary_path, jsonout.dumps(summary(decision)))
    return [book, csv_path, persons_path, lines_path, summary_path]


def write_line_book(decision: Decision, out_dir: Path, title: str) -> Path:
    """The kind's workbook into ``out_dir`` (atomically)."""
    if decision.kind is RecipientKind.UNIT:
        target = out_dir / UNIT_BOOK
        small_book(target, lambda book: _unit_book(book, decision, title))
    else:
        target = out_dir / EVENT_BOOK
        small_book(target, lambda book: _event_book(book, decision, title))
    return target


def _unit_book(book: rx.FastExcel, d: Decision, title: str) -> None:
    fmt = Formats()
    used: set[str] = set()
    table = d.table
    goods = d.goods
    departments = list(dict.fromkeys(table["village"]))
    heads = ["牵头部门", "单位数", *[f"{item}（{unit}）" for item, unit in goods], "现金（元）", "合计（元）"]
    records: list[dict[str, object]] = []
    for dept in departments:
        part = table[table["village"] == dept]
        records.append({"牵头部门": dept, "单位数": len(part),
                        **{f"{i}（{u}）": float(part[goods_column((i, u))].sum()) for i, u in goods},
                        "现金（元）": _money(part["cash_fen"].sum()), "合计（元）": _money(part["total_fen"].sum())})
    records.append({"牵头部门": "合计", "单位数": len(table),
                    **{f"{i}（{u}）": float(table[goods_column((i, u))].sum()) for i, u in goods},
                    "现金（元）": _money(table["cash_fen"].sum()), "合计（元）": _money(table["total_fen"].sum())})
    last = len(records) + 1  # the totals row (after title and header)
    widths = [22.0, 8.0, *[12.0] * len(goods), 12.0, 12.0]
    formats = [fmt.wrap, fmt.center, *[fmt.qty] * len(goods), fmt.amount, fmt.amount]
    titled_sheet(book, sheet_name("汇总", used), Rows(heads, records), f"{title} 发放汇总", fmt, formats, widths,
                 landscape=False, footer=f"&C{page_numbers(False)}", row_formats={last: fmt.total})
    for dept in departments:
        part = table[table["village"] == dept]
        rows = [{"序号": str(k), "慰问单位": r["head_name"], "慰问物资": _goods_text(r, goods),
                 "现金（元）": _money(r["cash_fen"]), "合计（元）": _money(r["total_fen"]), "签收人": "", "签收日期": ""}
                for k, (_, r) in enumerate(part.iterrows(), 1)]
        total = {"序号": "合计", "慰问单位": f"{len(part)} 个单位", "慰问物资": _goods_total(part, goods),
                 "现金（元）": _money(part["cash_fen"].sum()), "合计（元）": _money(part["total_fen"].sum()),
                 "签收人": "", "签收日期": ""}
        heads = list(total)
        widths = [5.0, 17.0, 25.0, 10.0, 10.0, 12.0, 9.0]  # portrait A4 at 100%: signed, so printed at 11 pt
        lines = np.array([max(display_lines(str(r["慰问单位"]), 17), display_lines(str(r["慰问物资"]), 22))
                          for r in [*rows, total]], dtype=np.int64)
        heights = heights_of(lines, 3, least=30)  # room to sign; the data start under title, subtitle, header
        # Row formats and a bare last row: the totals row keeps its height (the writer's quirk,
        # weiwen.sheets.printed); the sign-off line is in the footer, on every page.
        row_formats: dict[int, object] = {3 + k: fmt.cell for k in range(len(rows))}
        row_formats[3 + len(rows)] = fmt.cell_total
        titled_sheet(book, sheet_name(f"发放清单-{dept}", used), Rows(heads, [*rows, total, dict.fromkeys(heads, "")]),
                     f"{title} 发放清单", fmt, None, widths, subtitles=(f"牵头部门：{dept}",), landscape=False,
                     footer=f"&L{SIGN_OFF}&R{page_numbers(False)}", heights=heights, row_formats=row_formats)
    _left_out_sheet(book, fmt, used, d, title, "慰问单位")


def _goods_total(part: pd.DataFrame, goods: list[tuple[str, str]]) -> str:
    return "、".join(f"{i}{_qty(float(part[goods_column((i, u))].sum()))}{u}" for i, u in goods
                     if float(part[goods_column((i, u))].sum()))


def _event_book(book: rx.FastExcel, d: Decision, title: str) -> None:
    fmt = Formats()
    used: set[str] = set()
    # By department in the roster's order (as the clerk listed them), then by roster row.
    first = {v: k for k, v in reversed(list(enumerate(d.table["village"])))}
    table = d.table.assign(_dept=d.table["village"].map(first)).sort_values(
        ["_dept", "file", "sheet", "row"], kind="stable").drop(columns="_dept")
    goods = d.goods
    events = (d.events.set_index("household").loc[table["household"].to_numpy()] if d.events is not None
              else None)
    staff = events["staff_no"].tolist() if events is not None else [""] * len(table)
    days = ([pd.Timestamp(x).date().isoformat() if not pd.isna(x) else "" for x in events["event_date"]]
            if events is not None else [""] * len(table))
    rows = [{"序号": str(k), "部门": r["village"], "姓名": r["head_name"], "工号": staff[k - 1],
             "身份证号": mask_id(r["head_id"]), "慰问事由": r["categories"], "事件日期": days[k - 1],
             "慰问标准": r["applied_names"], "现金（元）": _money(r["cash_fen"]), "慰问物资": _goods_text(r, goods),
             "合计（元）": _money(r["total_fen"]), "领取人签字": "", "备注": _note(str(r["reason"]))}
            for k, (_, r) in enumerate(table.iterrows(), 1)]
    total = {"序号": "合计", "部门": "", "姓名": f"{len(table)} 人次", "工号": "", "身份证号": "", "慰问事由": "",
             "事件日期": "", "慰问标准": "", "现金（元）": _money(table["cash_fen"].sum()),
             "慰问物资": _goods_total(table, goods), "合计（元）": _money(table["total_fen"].sum()), "领取人签字": "",
             "备注": ""}
    heads = list(total)
    widths = [4.0, 8.0, 7.0, 6.0, 19.0, 9.0, 10.5, 10.0, 10.5, 11.0, 10.5, 11.0, 14.5]  # landscape A4 at about 100%
    notes = [max(display_lines(str(r["备注"]), 14), display_lines(str(r["慰问标准"]), 10),
                 display_lines(str(r["慰问事由"]), 9), display_lines(str(r["慰问物资"]), 11),
                 display_lines(str(r["部门"]), 8)) for r in [*rows, total]]
    heights = heights_of(np.array(notes, dtype=np.int64), 2, least=28)
    # Row formats rather than column formats, and a bare row last: the totals row then is not the
    # sheet's last row and keeps its height (the writer's quirk, weiwen.sheets.printed).  The sign-off
    # line is in the footer: on every page, never a page of its own.
    row_formats: dict[int, object] = {2 + k: fmt.cell for k in range(len(rows))}
    row_formats[2 + len(rows)] = fmt.cell_total
    titled_sheet(book, sheet_name("登记册", used), Rows(heads, [*rows, total, dict.fromkeys(heads, "")]),
                 f"{title} 慰问登记册", fmt, None, widths, footer=f"&L{SIGN_OFF}&R{page_numbers(False)}",
                 heights=heights, row_formats=row_formats)
    for kind, name in (("待决定", "待决定"), ("不同意", "不同意")):
        held = [x for x in d.left_out if x.kind == kind]
        if kind == "不同意" and not held:
            continue
        _held_sheet(book, fmt, used, name, held, title)
    _left_out_sheet(book, fmt, used, d, title, "姓名")


def _note(reason: str) -> str:
    """The register's remark: what the decision adds beyond the standard (an approved further event)."""
    return "；".join(p for p in reason.split("；") if p and not p.startswith("享受"))


def _lines(texts: pd.Series, width: float) -> np.ndarray:
    return np.array([display_lines(t, width) for t in texts], dtype=np.int64)


def _left_out_sheet(book: rx.FastExcel, fmt: Formats, used: set[str], d: Decision, title: str, who: str) -> None:
    """The lines not paid for another reason (an error in the row, a ledger record, an exclusion):
    every line of the list is accounted for in the workbook, paid or not and why."""
    out = [x for x in d.left_out if x.kind not in ("待决定", "不同意")]
    if not out:
        return
    files = {x.file for x in out}
    rows = [{"序号": str(k), "类型": x.kind, "部门": x.village, who: x.name,
             "位置": (f"{Path(x.file).name} " if len(files) > 1 else "") + f"第 {x.row} 行", "原因": x.reason}
            for k, x in enumerate(out, 1)]
    heads = ["序号", "类型", "部门", who, "位置", "原因"]
    widths = [5.0, 9.0, 10.0, 18.0, 12.0, 60.0]
    lines = np.array([max(display_lines(str(r["原因"]), 60), display_lines(str(r[who]), 18)) for r in rows], dtype=np.int64)
    heights = heights_of(lines, 3, least=20)
    row_formats = {3 + k: fmt.wrap for k in range(len(rows))}
    rows.append(dict.fromkeys(heads, ""))  # the last row bare (the writer's quirk, weiwen.sheets.printed)
    titled_sheet(book, sheet_name("未纳入", used), Rows(heads, rows), f"{title} 未纳入", fmt, None, widths,
                 subtitles=("名单上没有发放的行和原因：改正错误后重新核定；“台账中已有记录”的不再发放。",),
                 footer=f"&C{page_numbers(False)}", heights=heights, row_formats=row_formats)


def _held_sheet(book: rx.FastExcel, fmt: Formats, used: set[str], name: str, held: list[LeftOut], title: str) -> None:
    rows = [{"序号": str(k), "部门": x.village, "姓名": x.name, "身份证号": x.id_masked, "慰问事由": x.event,
             "事件日期": x.event_date.isoformat() if x.event_date else "",
             "本年度此前日期": "、".join(e.isoformat() for e in x.earlier), "说明": x.reason,
             "决定（是/否）": "" if name == "待决定" else "否"}
            for k, x in enumerate(held, 1)]
    heads = ["序号", "部门", "姓名", "身份证号", "慰问事由", "事件日期", "本年度此前日期", "说明", "决定（是/否）"]
    widths = [5.0, 10.0, 9.0, 21.0, 11.0, 12.0, 14.0, 36.0, 10.0]
    # Row formats rather than column formats: the sign-off line after the table prints bare, and
    # being the last row it spares the table's last row the writer's quirk (weiwen.sheets.printed).
    lines = np.array([max(display_lines(str(r["说明"]), 36), display_lines(str(r["本年度此前日期"]), 14))
                      for r in rows], dtype=np.int64)
    heights = heights_of(lines, 3, least=28) if rows else {}
    row_formats = {3 + k: fmt.cell for k in range(max(len(rows), 1))}
    rows.append(dict.fromkeys(heads, ""))  # the last row bare (the writer's quirk, weiwen.sheets.printed)
    sub = ("超过方案次数限制的事件：既未发放，也未删去。请领导决定后，在登记表“是否同意”一列填“是”或“否”，再核定一次。"
           if name == "待决定" else "登记表“是否同意”填了“否”的事件，不予慰问。")
    titled_sheet(book, sheet_name(name, used), Rows(heads, rows), f"{title} {name}", fmt, None, widths,
                 subtitles=(sub,), footer=f"&L决定人：                    日期：&R{page_numbers(False)}", heights=heights,
                 row_formats=row_formats)
