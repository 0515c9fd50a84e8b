"""Hidden rows, formulas with no saved result and Excel error values (HAZARDS 12, 20, 21):
calamine reads them as ordinary or blank cells; weiwen reports each at its row and cell."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner
from xlsxwriter.worksheet import Worksheet

from tests.conftest import TODAY, make_id, write_xlsx
from tests.test_allocate import SPRING_PEOPLE, SPRING_TOTAL
from weiwen import load_rosters
from weiwen.cli import app
from weiwen.read.sheet_xml import SheetMarks, scan_sheet

runner = CliRunner()
HEADER = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]
ROWS = [
    HEADER,
    ["张庄村", "1", "王一", make_id(seq="111"), "户主", "低保", 1],
    ["张庄村", "2", "王二", make_id(seq="112"), "户主", "低保", 1],
    ["张庄村", "3", "王三", make_id(seq="113"), "户主", "低保", 1],
    ["张庄村", "4", "王四", make_id(seq="114"), "户主", "低保", 1],
]


def found(path: Path) -> set[tuple[int | None, str | None, str]]:
    intake = load_rosters([path], today=TODAY)
    return {(p.row, p.cell, p.code) for p in intake.errors}


def test_hidden_data_row_is_an_error_and_hidden_title_row_is_not(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [["张庄村慰问对象花名册"], *ROWS], hidden_rows=[1, 4])
    intake = load_rosters([p], today=TODAY)
    assert {(e.row, e.code) for e in intake.errors} == {(4, "row-hidden")}
    assert intake.valid_rows == 3
    assert "隐藏" in intake.errors[0].message


def test_formula_without_saved_result_is_an_error_at_its_cell(tmp_path: Path) -> None:
    # As a script writes it: openpyxl saves the formula and no result; calamine reads a blank.
    p = write_xlsx(tmp_path / "r.xlsx", ROWS, formulas={"F3": "=VLOOKUP(C3,Sheet2!A:B,2,0)", "H2": "=1+1"})
    assert found(p) == {(3, "F3", "formula-no-value")}  # H is no roster column: not reported


def xlsxwriter_roster(path: Path, write: Callable[[Worksheet], None]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("花名册")
    for r, row in enumerate(ROWS):
        sheet.write_row(r, 0, row)  # IDs are strings here: written as text
    write(sheet)
    book.close()
    return path


def test_error_values_are_reported_with_their_text(tmp_path: Path) -> None:
    def errors(sheet: Worksheet) -> None:
        sheet.write_formula("F3", "=VLOOKUP(C3,Sheet2!A:B,2,0)", None, "#N/A")
        sheet.write_formula("C4", "=Sheet2!A1", None, "#REF!")
    p = xlsxwriter_roster(tmp_path / "r.xlsx", errors)
    intake = load_rosters([p], today=TODAY)
    got = {(e.row, e.cell, e.code, e.value) for e in intake.errors if e.code == "cell-error-value"}
    assert got == {(3, "F3", "cell-error-value", "#N/A"), (4, "C4", "cell-error-value", "#REF!")}
    assert "#N/A" in next(e.message for e in intake.errors if e.row == 3)


def test_formulas_with_saved_results_are_read_as_their_results(tmp_path: Path) -> None:
    def saved(sheet: Worksheet) -> None:
        sheet.write_formula("F2", '=IF(1,"低保","")', None, "低保")
        sheet.write_formula("G3", "=1", None, 1)
        sheet.write_formula("F4", '=IF(0,"低保","")', None, "")  # no type, empty value: as good as none
    p = xlsxwriter_roster(tmp_path / "r.xlsx", saved)
    intake = load_rosters([p], today=TODAY)
    assert {(e.cell, e.code) for e in intake.errors} == {("F4", "formula-no-value")}
    assert intake.frame["categories"].tolist() == ["低保", "低保", "", "低保"]
    assert intake.frame["household_size"].tolist() == [1, 1, 1, 1]


def test_allocate_pays_no_hidden_row_and_lists_it(tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE, hidden_rows=[5])  # 赵强, 1260 by hand
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(tmp_path / "o"), "--json"])
    doc = json.loads(result.stdout)
    assert Decimal(doc["total"]) == SPRING_TOTAL - Decimal(1260)
    left = [x for x in doc["excluded"] if x["name"] == "赵强"]
    assert left and "隐藏" in left[0]["reason"]


SHEET = (b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b'<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>'
         b'<x:row r="2" hidden="1"><x:c r="A2"><x:v>1</x:v></x:c></x:row>'
         b'<x:row r="3"><x:c r="B3"><x:f>SUM(A1:A2)</x:f><x:v/></x:c><x:c r="C3" t="e"><x:v>#N/A</x:v></x:c></x:row>'
         b'<x:row r="4"><x:c r="D4" t="str"><x:f>""</x:f><x:v></x:v></x:c>'
         b'<x:c r="AA4"><x:f t="shared" ref="AA4:AA5" si="0">1</x:f></x:c></x:row>'
         b'<x:row r="5"><x:c r="AA5"><x:f t="shared" si="0"/></x:c><x:c r="E5"><x:f>1</x:f><x:v>1</x:v></x:c></x:row>'
         b'</x:sheetData></x:worksheet>')
MARKS = SheetMarks(hidden_rows=[1], no_value=[(2, 1), (3, 26), (4, 26)], errors=[(2, 2, "#N/A")])


def test_scan_by_hand_with_a_namespace_prefix() -> None:
    # D4 is how Excel saves a formula whose result is the empty text (t="str"): not reported.
    assert scan_sheet(io.BytesIO(SHEET)) == MARKS


@given(st.integers(min_value=1, max_value=len(SHEET) + 10))
def test_scan_does_not_depend_on_where_the_reads_end(chunk: int) -> None:
    assert scan_sheet(io.BytesIO(SHEET), chunk=chunk) == MARKS
    plain = SHEET.replace(b"<x:", b"<").replace(b"</x:", b"</")
    assert scan_sheet(io.BytesIO(plain), chunk=chunk) == MARKS


def test_annotated_copy_shows_the_hidden_row_it_marks(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", ROWS, hidden_rows=[4])
    result = runner.invoke(app, ["validate", str(p), "--report", str(tmp_path / "rep")])
    assert result.exit_code == 1
    copy = openpyxl.load_workbook(tmp_path / "rep" / "r.标注.xlsx")["花名册"]
    assert copy.row_dimensions[4].hidden is False and copy["A4"].comment is not None
    assert "隐藏" in copy["A4"].comment.text
    assert openpyxl.load_workbook(p)["花名册"].row_dimensions[4].hidden is True  # the input is untouched


def test_legacy_xls_hidden_row_and_error_value() -> None:
    """tests/fixtures/hidden.xls (saved by LibreOffice from an .xlsx): row 4 hidden, F3 is =NA()."""
    intake = load_rosters([Path(__file__).parent / "fixtures" / "hidden.xls"], today=TODAY)
    assert {(e.row, e.cell, e.code, e.value) for e in intake.errors} == {
        (4, None, "row-hidden", None), (3, "F3", "cell-error-value", "#N/A")}
    assert intake.valid_rows == 2


def test_xls_that_xlrd_cannot_look_into_is_a_warning_not_a_lost_file(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import xlrd

    def broken(*args: object, **kwargs: object) -> None:
        raise xlrd.XLRDError("Unsupported format")

    monkeypatch.setattr(xlrd, "open_workbook", broken)
    intake = load_rosters([Path(__file__).parent / "fixtures" / "hidden.xls"], today=TODAY)
    assert [w.code for w in intake.warnings if w.code == "marks-unchecked"] == ["marks-unchecked"]
    assert intake.rows == 4  # calamine still read every row
