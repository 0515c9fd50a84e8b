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
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
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
from weiwen.sheets.xlsx import FORMULA_LIKE

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
    _error_list(wb, problems, path.stem)
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
    """Write ``value`` as a text cell, whatever it starts with (no formula, no link); text that
    starts like a formula also gets Excel's quote prefix (weiwen.sheets.xlsx.FORMULA_LIKE)."""
    cell.value = strip_control(value)  # type: ignore[attr-defined]
    cell.data_type = "s"  # type: ignore[attr-defined]
    if cell.value.startswith(FORMULA_LIKE):  # type: ignore[attr-defined]
        cell.quotePrefix = True  # type: ignore[attr-defined]


LIST_HEADERS = ("级别", "工作表", "单元格", "行", "列", "问题", "说明", "建议")
LIST_WIDTHS = (6, 10, 7, 5, 12, 20, 46, 34)
LIST_HEADER_ROW = 3  # Excel row: the title, the count line, then the header
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_LINE = 15  # points: one line of 11-point text


def _error_list(wb: openpyxl.Workbook, problems: list[P.Problem], name: str) -> None:
    """The 错误清单 sheet, first in the copy: a title naming the file, how many errors and warnings,
    then one bordered row per problem — its place, the problem's Chinese title, what is wrong and
    what to do — printable on A4 landscape, one page wide, the header row on every page.  Only
    Chinese a clerk reads: no stable codes (they are in 校验报告.json)."""
    if LIST_SHEET in wb.sheetnames:
        del wb[LIST_SHEET]
    ws: Worksheet = wb.create_sheet(LIST_SHEET, 0)
    last = get_column_letter(len(LIST_HEADERS))
    order = {P.Severity.ERROR: 0, P.Severity.WARNING: 1, P.Severity.INFO: 2}
    rows = sorted(problems, key=lambda p: (order[p.severity], p.sheet or "", p.row or 0, p.column or ""))
    errors, warnings = P.count(rows, P.Severity.ERROR), P.count(rows, P.Severity.WARNING)

    title = strip_control(f"{name} 错误清单")
    ws.merge_cells(f"A1:{last}1")
    _set_text(ws["A1"], title)
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 24 * display_lines(title, int(sum(LIST_WIDTHS) * 11 / 16)) + 6
    if rows:
        summary = (f"共 {len(rows)} 处问题：错误 {errors} 处，警告 {warnings} 处。有错误的行不能核定，请改正后重新报送；"
                   "警告请核实。表中标红的单元格是错误，标黄的是警告，鼠标移到单元格上可以看到批注。")
    else:
        summary = "没有发现问题。"
    ws.merge_cells(f"A2:{last}2")
    _set_text(ws["A2"], summary)
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[2].height = _LINE * display_lines(summary, sum(LIST_WIDTHS)) + 6

    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for c, (h, w) in enumerate(zip(LIST_HEADERS, LIST_WIDTHS, strict=True), start=1):
        cell = ws.cell(row=LIST_HEADER_ROW, column=c)
        _set_text(cell, h)
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.row_dimensions[LIST_HEADER_ROW].height = _LINE + 5
    wrapped = (2, 5, 6, 7, 8)  # 工作表, 列, 问题, 说明, 建议
    for r, p in enumerate(rows, start=LIST_HEADER_ROW + 1):
        values = [P.SEVERITY_ZH[p.severity], p.sheet or "", p.cell or "", str(p.row or ""), p.column or "",
                  P.kind(p.code).title, p.message, p.hint]
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            _set_text(cell, v)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=c in wrapped, vertical="top",
                                       horizontal="center" if c in (1, 3, 4) else None)
        ws.cell(row=r, column=1).fill = ERROR_FILL if p.severity is P.Severity.ERROR else WARNING_FILL
        # Wrapped text does not grow the row by itself in every spreadsheet program.
        lines = max(display_lines(strip_control(values[c - 1]), LIST_WIDTHS[c - 1]) for c in wrapped)
        ws.row_dimensions[r].height = min(_LINE * lines + 3, 409)
    ws.freeze_panes = f"A{LIST_HEADER_ROW + 1}"
    ws.print_title_rows = f"{LIST_HEADER_ROW}:{LIST_HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.footer = ws.page_margins.header = 0.3  # the page number well inside the paper
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if rows:
        ws.auto_filter.ref = f"A{LIST_HEADER_ROW}:{last}{LIST_HEADER_ROW + len(rows)}"
    for other in wb.worksheets:  # only the list selected: sheets selected together print together
        other.sheet_view.tabSelected = other is ws
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
