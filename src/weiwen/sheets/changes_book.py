"""Write the 变更清单 workbook: the households that differ between two lists, and why.

One sheet 变更清单 (the totals first, then one row per household by village) and a sheet 说明.
ID numbers appear only masked; any full ID that found its way into a reason is masked as well.
Small, so XlsxWriter (:func:`weiwen.sheets.xlsx.new_workbook`): the same changes give the same
bytes, written atomically.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from weiwen.changes import Change, ChangeKind, count_changes
from weiwen.core.atomic import write_atomic
from weiwen.core.ids import mask_id
from weiwen.sheets.xlsx import HEAD, TITLE, new_workbook

SHEET = "变更清单"
NOTES_SHEET = "说明"
HEADS = ("序号", "变化", "村(社区)", "户主", "身份证号", "原享受标准", "原金额（元）", "现享受标准", "现金额（元）",
         "变化原因")
WIDTHS = (5, 6, 12, 9, 19, 18, 13, 18, 13, 40)  # about 90% on A4 landscape: 11-point text prints at 9.5 points or more
NO_DIFFERENCE = "两版名单没有差别"
MONEY = "#,##0.00_ "  # the trailing space keeps the figure off the next column's text
SIGNED = '"+"#,##0.00_ ;"−"#,##0.00_ ;0.00_ '
_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])|(?<![0-9])[0-9]{15}(?![0-9])")
_LINE_HEIGHT = 15.0  # points, one line of the default 11-point font
_MAX_ROW_HEIGHT = 409.0  # points: Excel's limit
_TOTALS_TOP = 2  # 0-based: the title, a blank row, then the totals block


def write_changes_book(path: Path, changes: Sequence[Change], *, title: str, before_label: str,
                       after_label: str) -> None:
    write_atomic(path, lambda tmp: _write(tmp, changes, title, before_label, after_label))


def _write(path: Path, changes: Sequence[Change], title: str, before: str, after: str) -> None:
    wb = new_workbook(path)
    f = {
        "title": wb.add_format(TITLE),
        "head": wb.add_format(HEAD),
        "text": wb.add_format({"border": 1, "valign": "vcenter", "indent": 1}),
        "wrap": wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True, "indent": 1}),
        "center": wb.add_format({"border": 1, "align": "center", "valign": "vcenter"}),
        "money": wb.add_format({"border": 1, "valign": "vcenter", "num_format": MONEY}),
        "ttext": wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2", "indent": 1}),
        "tcount": wb.add_format({"border": 1, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
        "tmoney": wb.add_format({"border": 1, "bold": True, "num_format": SIGNED, "bg_color": "#F2F2F2"}),
        "count": wb.add_format({"border": 1, "align": "center"}),
        "signed": wb.add_format({"border": 1, "num_format": SIGNED}),
        "note": wb.add_format({"text_wrap": True, "valign": "top"}),
        "empty": wb.add_format({"border": 1, "align": "center", "valign": "vcenter", "bold": True}),
    }
    last_col = len(HEADS) - 1
    ws = wb.add_worksheet(SHEET)
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    heading = f"{title}：{after} 与 {before} 相比"
    ws.merge_range(0, 0, 0, last_col, heading, f["title"])
    ws.set_row(0, min(30 * _lines(heading, sum(WIDTHS) * 0.55), _MAX_ROW_HEIGHT))  # 16-point characters

    # The totals block: one line per kind of change, then the whole list's difference.
    counts = count_changes(changes)
    r = _TOTALS_TOP
    # Laid over the list's columns: 变化 in A:B, 户数 in C, 金额变化 in D:E, 说明 in F:J.
    ws.merge_range(r, 0, r, 1, "变化", f["head"])
    ws.write_string(r, 2, "户数", f["head"])
    ws.merge_range(r, 3, r, 4, "金额变化（元）", f["head"])
    ws.merge_range(r, 5, r, last_col, "说明", f["head"])
    lines = ((ChangeKind.ADDED.value, counts.added, counts.added_fen, "本次新纳入的户，按现金额计"),
             (ChangeKind.DROPPED.value, counts.dropped, counts.dropped_fen, "本次不再慰问的户，按原金额计"),
             (ChangeKind.CHANGED.value, counts.changed, counts.changed_fen, "两版都有，但村(社区)、户主姓名、享受标准、类别或金额有变化的户"),
             ("合计变化", counts.households, counts.difference_fen, f"{after}合计金额减{before}合计金额"))
    for k, (label, n, fen, note) in enumerate(lines, start=1):
        total = label == "合计变化"
        ws.merge_range(r + k, 0, r + k, 1, label, f["ttext"] if total else f["text"])
        ws.write_number(r + k, 2, n, f["tcount"] if total else f["count"])
        ws.merge_range(r + k, 3, r + k, 4, fen / 100, f["tmoney"] if total else f["signed"])
        ws.merge_range(r + k, 5, r + k, last_col, note, f["ttext"] if total else f["text"])

    # The list: one row per household that differs.
    header = r + len(lines) + 2
    for j, h in enumerate(HEADS):
        ws.write_string(header, j, h, f["head"])
    ws.set_row(header, 2 * _LINE_HEIGHT)
    r = header + 1
    if not changes:
        ws.merge_range(r, 0, r, last_col, NO_DIFFERENCE, f["empty"])
        ws.set_row(r, 2 * _LINE_HEIGHT)
    for n, c in enumerate(changes, start=1):
        b, a = c.before, c.after
        cells = (str(n), c.kind.value, c.village, c.name, _clean(c.id_masked),
                 _clean(b.shown_standards) if b else "", None, _clean(a.shown_standards) if a else "", None,
                 _clean("；".join(c.reasons)))
        height = 1
        for j, v in enumerate(cells):
            if j in (6, 8):
                continue
            fmt = f["center"] if j in (0, 1) else f["text"] if j == 4 else f["wrap"]
            ws.write_string(r, j, v or "", fmt)
            if j in (2, 3, 5, 7, 9):
                height = max(height, _lines(v or "", WIDTHS[j] - 2))  # less the indent
        for j, listed in ((6, b), (8, a)):
            if listed is None:
                ws.write_blank(r, j, None, f["money"])
            else:
                ws.write_number(r, j, listed.total_fen / 100, f["money"])
        if height > 1:
            ws.set_row(r, min(_LINE_HEIGHT * height, _MAX_ROW_HEIGHT))
        r += 1
    ws.freeze_panes(header + 1, 0)
    ws.repeat_rows(header)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f"&C{_header_text(title)}变更清单")  # Excel allows 255 characters: the title is cut
    ws.set_footer("&L制表人：　　　　审核人：&R第 &P 页，共 &N 页")

    notes = wb.add_worksheet(NOTES_SHEET)
    notes.set_column(0, 0, 100)
    notes.write_string(0, 0, f"{title}变更清单说明", f["title"])
    texts = (
        f"本表列出“{after}”与“{before}”相比有变化的户：新增的户、取消的户，以及两版都有但村(社区)、户主姓名、"
        "享受标准、类别或金额有变化的户。两版完全相同的户不列出。",
        "两版名单按户主身份证号逐户对应。更换了户主的户，显示为原户主一户取消、新户主一户新增。",
        "“变化原因”：变更的户逐项写明变化（如“村(社区)由 A 变为 B”“享受标准由 X 变为 Y”“金额由 1100.00 元变为 "
        "600.00 元”）；取消的户写明本次未纳入的原因（如“排除：举报属实取消”），本次花名册中没有该户的，写"
        f"“{_clean('本次名单中没有该户（花名册未报送）')}”；新增的户写明享受的标准。",
        "“金额变化”为现金额减原金额：新增的户计现金额，取消的户计负的原金额，各项相加等于两版合计金额之差。",
        "身份证号只显示前 6 位和后 4 位；本表不含银行卡号、联系电话。",
        f"共 {counts.households} 户有变化。" if changes else f"{NO_DIFFERENCE}。",
    )
    for k, text in enumerate(texts, start=2):
        notes.write_string(k, 0, f"{k - 1}. {text}", f["note"])
        notes.set_row(k, min(_LINE_HEIGHT * _lines(text, 98), _MAX_ROW_HEIGHT))
    notes.set_paper(9)
    notes.set_landscape()
    notes.fit_to_pages(1, 0)
    wb.close()


def _clean(text: str) -> str:
    """``text`` with any full ID in it masked (the book never holds one)."""
    return _ID.sub(lambda m: mask_id(m.group(0)), text)


def _header_text(title: str) -> str:
    """The title as page-header text: short enough for Excel's 255 characters, its & escaped."""
    short = title if len(title) <= 60 else title[:59] + "…"
    return short.replace("&", "&&")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a Chinese
    character counts two)."""
    room = max(int(width), 1)
    return max(1, -(-_width(text) // room))
