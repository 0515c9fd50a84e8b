"""Text that starts like a formula (HAZARDS row 38, issue #19): in every output workbook it is a text
cell — no ``<f>`` element anywhere — and carries Excel's quote prefix (its cell format has
``quotePrefix="1"``); in the CSV outputs it gets a leading '.  Checked in the files' XML.

The outputs: allocate's three workbooks (rustpy-xlsxwriter and XlsxWriter), check-duplicates'
workbook (XlsxWriter), validate's annotated copy of a CSV roster (openpyxl)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen.cli import app
from weiwen.sheets.xlsx import FORMULA_LIKE, new_workbook

runner = CliRunner()
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# What a name may start with; tab and CR are in the roster too (the reader cleans them out of names,
# and a workbook cannot hold NUL at all: they are checked in the writer's own test below).
STARTS = ("=", "+", "-", "@", "{=", "\t", "\r")
HEADER = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]


def text_cells(path: Path) -> Iterator[tuple[str, str, bool]]:
    """Every text cell of every sheet of the workbook: (sheet and cell, text, has the quote prefix).
    Fails on any formula element."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        xfs = ET.fromstring(z.read("xl/styles.xml")).find(f"{M}cellXfs")
        assert xfs is not None
        quoted = [xf.get("quotePrefix") in ("1", "true") for xf in xfs.findall(f"{M}xf")]
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = ["".join(t.text or "" for t in si.iter(f"{M}t"))
                      for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall(f"{M}si")]
        for name in names:
            if not name.startswith("xl/worksheets/sheet"):
                continue
            xml = z.read(name).decode("utf-8")
            assert not re.search(r"<f[ >/]", xml), f"{path.name} {name}: a formula element"
            for c in ET.fromstring(xml).iter(f"{M}c"):
                if c.get("t") == "s":
                    text = shared[int(c.findtext(f"{M}v") or "0")]
                elif c.get("t") in ("inlineStr", "str"):
                    text = "".join(t.text or "" for t in c.iter(f"{M}t"))
                else:
                    continue
                yield f"{path.name} {name} {c.get('r')}", text, quoted[int(c.get("s", "0"))]


def formula_like(path: Path) -> dict[str, str]:
    """The text cells that start like a formula; each must carry the quote prefix."""
    found = {}
    for where, text, quoted in text_cells(path):
        if text.startswith(FORMULA_LIKE):
            assert quoted, f"{where}: {text!r} without the quote prefix"
            found[where] = text
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formula")
    rows = [HEADER] + [["张庄村", str(k + 1), f"{c}王{k}", make_id(seq=f"{k + 1:02d}1"), "户主", "低保", 1]
                       for k, c in enumerate(STARTS)]
    roster = write_xlsx(folder / "花名册.xlsx", rows)
    result = runner.invoke(app, ["allocate", str(roster), "-c", "spring", "-o", str(folder / "核定")])
    assert result.exit_code == 0, result.output
    # The same persons again in a second roster: check-duplicates lists every one of them.
    again = write_xlsx(folder / "花名册2.xlsx", [HEADER] + [[f"{c}李庄", "9", name, pid, "户主", "低保", 1]
                                                       for c, (_, _, name, pid, *_) in zip(STARTS, rows[1:],
                                                                                           strict=True)])
    result = runner.invoke(app, ["check-duplicates", str(roster), str(again), "-o", str(folder / "查重.xlsx")])
    assert result.exit_code == 1, result.output
    csv = folder / "花名册.csv"
    csv.write_text("姓名,身份证号,类别,备注\n" + "".join(f"{c}王{k},{make_id(seq=f'{k + 1:02d}1')},{c}低保,{c}备注\n"
                                                         for k, c in enumerate(STARTS[:5])), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(csv), "--report", str(folder / "校验")])
    assert result.exit_code == 1, result.output  # "=低保" is no category
    return folder


def test_names_that_start_like_formulas_are_quoted_text_in_the_decision_workbooks(outputs: Path) -> None:
    detail = formula_like(outputs / "核定" / "慰问明细.xlsx")
    for k, c in enumerate(STARTS[:5]):  # tab and CR: the reader took them out of the names
        assert sum(text == f"{c}王{k}" for text in detail.values()) == 2  # the detail list and the sign sheet
    public = set(formula_like(outputs / "核定" / "公示名单.xlsx").values())
    assert public == {"=*0", "+*1", "-*2", "@*3"}  # names masked to their first character; "{*4" is harmless
    formula_like(outputs / "核定" / "审批表.xlsx")  # no names in it: no formula, nothing unquoted


def test_the_duplicates_workbook_quotes_them(outputs: Path) -> None:
    found = set(formula_like(outputs / "查重.xlsx").values())
    assert {f"{c}王{k}" for k, c in enumerate(STARTS[:5])} <= found
    assert {f"{c}李庄" for c in STARTS[:5]} <= found


def test_the_annotated_copy_of_a_csv_roster_quotes_them(outputs: Path) -> None:
    books = list((outputs / "校验").glob("*.xlsx"))
    assert len(books) == 1
    found = set(formula_like(books[0]).values())
    assert {f"{c}备注" for c in STARTS[:5]} <= found and {f"{c}王{k}" for k, c in enumerate(STARTS[:5])} <= found


def test_the_csv_outputs_put_an_apostrophe_before_them(outputs: Path) -> None:
    allocation = (outputs / "核定" / "allocation.csv").read_text(encoding="utf-8-sig")
    persons = (outputs / "核定" / "persons.csv").read_text(encoding="utf-8-sig")
    for k, c in enumerate(STARTS[:4]):
        assert f",'{c}王{k}," in allocation and f",'{c}王{k}," in persons
    assert ",{=王4," in allocation  # not a formula start in a CSV file: left as it is


def test_the_workbook_writer_quotes_every_formula_start(tmp_path: Path) -> None:
    """XlsxWriter workbooks of weiwen: every way of writing a string, every start, and a cell format kept."""
    path = tmp_path / "w.xlsx"
    wb = new_workbook(path)
    bold = wb.add_format({"bold": True, "border": 1})
    ws = wb.add_worksheet("表")
    texts = [f"{c}文字" for c in FORMULA_LIKE]
    for k, text in enumerate(texts):
        ws.write_string(k, 0, text, bold)
        ws.write(k, 1, text)
    ws.write_row(len(texts), 0, texts)
    ws.merge_range(len(texts) + 1, 0, len(texts) + 1, 2, "=合并", bold)
    ws.write_string(len(texts) + 2, 0, "普通文字", bold)
    wb.close()
    cells = {where.split()[-1]: (text, quoted) for where, text, quoted in text_cells(path)}
    expected_quoted = {f"{col}{k + 1}" for k in range(len(texts)) for col in "AB"}
    expected_quoted |= {f"{chr(65 + k)}{len(texts) + 1}" for k in range(len(texts))} | {f"A{len(texts) + 2}"}
    assert {ref for ref, (_, quoted) in cells.items() if quoted} == expected_quoted
    assert cells[f"A{len(texts) + 3}"] == ("普通文字", False)
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
    # The bold bordered format and its quoted copy: both bold, both bordered.
    assert len(re.findall(r'<xf [^>]*fontId="1"[^>]*borderId="1"[^>]*quotePrefix="1"', styles)) == 1
