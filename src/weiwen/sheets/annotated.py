"""Annotated copies for the sender: each bad cell filled and commented, plus an 错误清单 sheet.

The input file is never touched: an .xlsx/.xlsm is loaded and saved under a new name in the
report folder (macros dropped); an .xls or .csv is copied cell by cell into a new workbook.
Every cell weiwen writes is forced to text, so nothing a user typed becomes a formula.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from weiwen.core import jsonout
from weiwen.core import problems as P
from weiwen.core.errors import WeiwenError
from weiwen.roster.intake import Intake
from weiwen.core.atomic import fit_name, write_atomic, write_text_atomic
from weiwen.read.workbook import read_roster_file
from weiwen.roster.layout import cell_text
from weiwen.core.text import display_lines, strip_control

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
LIST_SHEET = "错误清单"
FIXED_TIME = datetime(2000, 1, 1)


def ensure_safe_xml() -> None:
    """openpyxl must parse through defusedxml (no entity expansion, no external entities)."""
    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise WeiwenError(
            "安全检查未通过：openpyxl 没有启用 defusedxml（可能设置了 OPENPYXL_DEFUSEDXML=False），"
            "为防止恶意文件，已拒绝运行。请删除该环境变量后重试。",
            code="unsafe-xml-parser",
        )


def write_reports(intake: Intake, inputs: list[Path], out_dir: Path) -> list[Path]:
    """Write one annotated copy per readable input, and ``校验报告.json``; return the paths."""
    ensure_safe_xml()
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise WeiwenError(f"--report 应是一个文件夹，但 {out_dir} 是一个文件。")
    resolved_inputs = {p.resolve() for p in inputs if p.exists()}
    by_file: dict[str, list[P.Problem]] = defaultdict(list)
    for p in intake.problems:
        by_file[p.file].append(p)
    written: list[Path] = []
    used: set[str] = set()
    for path, summary in zip(inputs, intake.files, strict=True):
        if not summary.readable or not path.is_file():
            continue
        name = _unique(fit_name(path.stem, ".标注.xlsx"), used)
        target = out_dir / name
        if target.resolve() in resolved_inputs:
            raise WeiwenError(f"标注副本 {target} 会覆盖输入文件，请换一个 --report 文件夹。")
        probs = [p for p in by_file.get(summary.path, []) if p.severity is not P.Severity.INFO]
        write_atomic(target, lambda tmp, path=path, probs=probs: _annotate(path, probs, tmp))
        written.append(target)
    report = out_dir / "校验报告.json"
    write_text_atomic(report, jsonout.dumps(intake.to_json()))
    written.append(report)
    return written


def _unique(name: str, used: set[str]) -> str:
    base, n = name, 2
    while name in used:
        name = base.replace(".标注.xlsx", f"({n}).标注.xlsx")
        n += 1
    used.add(name)
    return name


def _annotate(path: Path, problems: list[P.Problem], target: Path) -> None:
    wb = _open_copy(path)
    by_cell: dict[tuple[str, str], list[P.Problem]] = defaultdict(list)
    for p in problems:
        if p.sheet is None or p.row is None or p.sheet not in wb.sheetnames:
            continue
        by_cell[(p.sheet, p.cell or f"A{p.row}")].append(p)
    for (sheet, ref), probs in by_cell.items():
        ws = wb[sheet]
        if any(p.code == "row-hidden" for p in probs):  # shown in the copy, or the mark could not be seen
            ws.row_dimensions[probs[0].row].hidden = False
        cell = _anchor(ws, ref)
        worst = P.Severity.ERROR if any(p.severity is P.Severity.ERROR for p in probs) else P.Severity.WARNING
        cell.fill = ERROR_FILL if worst is P.Severity.ERROR else WARNING_FILL
        text = "\n".join(f"【{P.SEVERITY_ZH[p.severity]}】{p.message}" + (f" {p.hint}" if p.hint else "")
                         for p in probs)
        comment = Comment(strip_control(text), "weiwen")
        comment.width, comment.height = 320, 40 + 40 * len(probs)
        cell.comment = comment
    _error_list(wb, problems)
    wb.properties.creator = "weiwen"
    _save_reproducibly(wb, target)


def _anchor(ws: Worksheet, ref: str) -> object:
    """The cell itself, or the top-left cell of the merged range that covers it."""
    for rng in ws.merged_cells.ranges:
        if ref in rng:
            return ws.cell(row=rng.min_row, column=rng.min_col)
    return ws[ref]


def _open_copy(path: Path) -> openpyxl.Workbook:
    read = read_roster_file(path)
    if read.format is not None and read.format.value == "xlsx":
        return openpyxl.load_workbook(path)
    # .xls and .csv: copy every cell as text into a new workbook.
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in read.sheets:
        ws = wb.create_sheet(sheet.name[:31])
        for r, row in enumerate(sheet.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None or v == "":
                    continue
                _set_text(ws.cell(row=r, column=c), cell_text(v))
    return wb


def _set_text(cell: object, value: str) -> None:
    """Write ``value`` as a text cell, whatever it starts with (no formula, no link)."""
    cell.value = strip_control(value)  # type: ignore[attr-defined]
    cell.data_type = "s"  # type: ignore[attr-defined]


def _error_list(wb: openpyxl.Workbook, problems: list[P.Problem]) -> None:
    if LIST_SHEET in wb.sheetnames:
        del wb[LIST_SHEET]
    ws: Worksheet = wb.create_sheet(LIST_SHEET, 0)
    headers = ["级别", "工作表", "单元格", "行", "列", "问题", "说明", "建议", "代码"]
    widths = [6, 10, 7, 5, 12, 18, 48, 36, 24]
    for c, (h, w) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=c)
        _set_text(cell, h)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(c)].width = w
    order = {P.Severity.ERROR: 0, P.Severity.WARNING: 1, P.Severity.INFO: 2}
    rows = sorted(problems, key=lambda p: (order[p.severity], p.sheet or "", p.row or 0, p.column or ""))
    for r, p in enumerate(rows, start=2):
        values = [P.SEVERITY_ZH[p.severity], p.sheet or "", p.cell or "", str(p.row or ""), p.column or "",
                  P.kind(p.code).title, p.message, p.hint, p.code]
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            _set_text(cell, v)
            cell.alignment = Alignment(wrap_text=c in (7, 8), vertical="top")
        ws.cell(row=r, column=1).fill = ERROR_FILL if p.severity is P.Severity.ERROR else WARNING_FILL
        # Wrapped text does not grow the row by itself in every spreadsheet program.
        lines = max(display_lines(p.message, widths[6]), display_lines(p.hint, widths[7]))
        ws.row_dimensions[r].height = 15 * lines
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(len(rows) + 1, 1)}"
    if not rows:
        _set_text(ws.cell(row=2, column=1), "没有发现问题。")
    wb.active = 0


def _save_reproducibly(wb: openpyxl.Workbook, target: Path) -> None:
    """Save as openpyxl does, with the document's times and every zip entry's date fixed, so that
    the same inputs give the same bytes (openpyxl's ``save`` stamps the time of saving)."""
    buf = io.BytesIO()
    wb.properties.created = wb.properties.modified = FIXED_TIME
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()  # closes the zip
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
        for info in src.infolist():
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
