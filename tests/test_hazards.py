"""Rows of ../shared/HAZARDS.md that no other test covered (the map of every row: docs/hazards.md).

Each test names its row.  What the row expects and what weiwen does instead, where they differ,
is said in docs/hazards.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen import load_rosters
from weiwen.cli import app
from weiwen.ledger.settings import KEY_ENV

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()
ROWS = [["姓名", "身份证号", "类别"], ["王建国", make_id(), "低保"], ["李秀英", make_id(seq="124"), "特困"]]


def _persons(path: Path) -> list[tuple[str, str]]:
    frame = load_rosters([path], jobs=1).frame
    return list(zip(frame["name"], frame["id_number"], strict=True))


def test_row_4_a_workbook_under_the_other_excel_extension_is_read_by_its_content(tmp_path: Path) -> None:
    """HAZARD 4: an .xlsx renamed .xls and a BIFF8 .xls renamed .xlsx are sniffed by their first
    bytes, read by the right reader (the same persons as under their own name) and reported."""
    for real, other in (("golden.xlsx", "renamed.xls"), ("golden.xls", "renamed.xlsx")):
        renamed = tmp_path / other
        shutil.copyfile(FIXTURES / real, renamed)
        intake = load_rosters([renamed], jobs=1)
        assert "file-ext-mismatch" in {p.code for p in intake.problems}, real
        assert _persons(renamed) == _persons(FIXTURES / real) and len(intake.frame) > 0


def test_row_9_rare_characters_are_kept_whole_in_csv_and_xlsx(tmp_path: Path) -> None:
    """HAZARD 9: 𠮷 (outside the BMP) and 䶮 (extension A) come out of both readers as written."""
    rows = [["姓名", "身份证号", "类别"], ["𠮷䶮", make_id(), "低保"], ["王𠮷", make_id(seq="124"), "低保"]]
    book = write_xlsx(tmp_path / "r.xlsx", rows)
    text = tmp_path / "r.csv"
    text.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    for path in (book, text):
        names = [n.encode("utf-8") for n, _ in _persons(path)]
        assert names == ["𠮷䶮".encode(), "王𠮷".encode()], path.suffix


def test_row_11_a_very_hidden_sheet_is_reported_and_not_read(tmp_path: Path) -> None:
    """HAZARD 11: a sheet hidden so that Excel's menu cannot show it (veryHidden) is never read
    silently: it is named in a problem and its persons are not in the roster."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "花名册"
    for r in ROWS[:2]:
        ws.append(r)
    stale = wb.create_sheet("去年")
    for r in (ROWS[0], ROWS[2]):
        stale.append(r)
    stale.sheet_state = "veryHidden"
    wb.save(tmp_path / "r.xlsx")
    intake = load_rosters([tmp_path / "r.xlsx"], jobs=1)
    assert ("sheet-hidden", "去年") in {(p.code, p.sheet) for p in intake.problems}
    assert list(intake.frame["name"]) == ["王建国"]


def test_row_36_a_control_character_in_a_name_is_removed_and_said(tmp_path: Path) -> None:
    """HAZARD 36: a bell character (\\x07) in a name (possible in CSV; openpyxl would refuse to write it
    later) is stripped, with a warning at its cell; trailing spaces do not count."""
    path = tmp_path / "r.csv"
    path.write_text(f"姓名,身份证号,类别\n王\x07建国 ,{make_id()},低保\n", encoding="utf-8")
    intake = load_rosters([path], jobs=1)
    assert ("name-control-chars", 2, "姓名") in {(p.code, p.row, p.column) for p in intake.problems}
    assert list(intake.frame["name"]) == ["王建国"]


def _with_sheet_prefix(tmp_path: Path, name: str, dtd: bytes, entity: bytes) -> Path:
    book = write_xlsx(tmp_path / "base.xlsx", ROWS)
    with zipfile.ZipFile(book) as z:
        members = [(i.filename, z.read(i)) for i in z.infolist()]
    out = tmp_path / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member, body in members:
            if member == "xl/worksheets/sheet1.xml":
                body = dtd + body.replace("王建国".encode(), entity)
            z.writestr(member, body)
    return out


@pytest.mark.parametrize("name, dtd, entity", [
    ("xxe.xlsx", b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"),
    ("laughs.xlsx", b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
     + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + k]), b"&%s;" % bytes([97 + k]) * 10) for k in range(9)) + b"]>",
     b"&j;"),
])
def test_rows_40_41_entities_in_a_sheet_are_refused_unexpanded(tmp_path: Path, name: str, dtd: bytes,
                                                               entity: bytes) -> None:
    """HAZARDS 40, 41: a billion-laughs DTD and an external entity (XXE) in the sheet XML: the file
    is refused as damaged (weiwen says file-corrupt, not a code of its own), nobody is read from it,
    and nothing of /etc/passwd appears anywhere."""
    path = _with_sheet_prefix(tmp_path, name, dtd, entity)
    intake = load_rosters([path], jobs=1)
    assert "file-corrupt" in {p.code for p in intake.problems}
    assert len(intake.frame) == 0
    said = " ".join(p.message + p.hint + (p.value or "") for p in intake.problems)
    assert "root:" not in said and "aaaaaaaaaa" not in said


def test_row_49_outputs_are_not_world_readable(tmp_path: Path) -> None:
    """HAZARD 49: what weiwen writes holds personal data: annotated copies are not readable by every
    account on the machine (the ledger's 0600 is in tests/test_ledger.py)."""
    roster = write_xlsx(tmp_path / "r.xlsx", ROWS + [["", "123", "低保"]])
    result = runner.invoke(app, ["validate", str(roster), "--report", str(tmp_path / "report")])
    assert result.exit_code in (1, 2), result.output
    written = [p for p in (tmp_path / "report").rglob("*") if p.is_file()]
    assert written
    for p in written:
        assert p.stat().st_mode & 0o007 == 0, (p.name, oct(p.stat().st_mode))


def test_row_55_a_damaged_ledger_file_is_refused_not_reinitialised(tmp_path: Path) -> None:
    """HAZARD 55: a ledger file that is not a database any more (bytes overwritten) is a Chinese error,
    exit 2, and the file is left exactly as it was: never a silent new ledger.  The real entry point,
    in a child process each time (an open connection in this process would still see the old file)."""
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}

    def weiwen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "weiwen", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    assert weiwen("ledger", "init").returncode == 0
    db = tmp_path / "weiwen-ledger.db"
    garbage = bytes(range(256)) * 16
    db.write_bytes(garbage)
    done = weiwen("ledger", "list")
    assert done.returncode == 2 and "已损坏" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert db.read_bytes() == garbage


def test_row_19_blank_rows_are_skipped_and_said_and_formatted_empty_rows_make_nobody(tmp_path: Path) -> None:
    """HAZARD 19: two blank rows inside the table are skipped and reported; 3,000 rows that carry only
    a format below it (a sheet whose used range Excel stretched) make no phantom persons."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(ROWS[0])
    ws.append(ROWS[1])
    ws.append([])
    ws.append([])
    ws.append(ROWS[2])
    fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")
    for r in range(6, 3006):
        ws.cell(row=r, column=1).fill = fill
        ws.cell(row=r, column=2).number_format = "@"
    wb.save(tmp_path / "r.xlsx")
    intake = load_rosters([tmp_path / "r.xlsx"], jobs=1)
    assert list(intake.frame["name"]) == ["王建国", "李秀英"]
    blank = [p for p in intake.problems if p.code == "rows-skipped-blank"]
    assert blank and blank[0].row == 3 and "第 3-4 行" in blank[0].message


@pytest.mark.parametrize("header", ["公民身份号码", "身份证号（18位）", "身份证号(18位)", "身份证\n号码", " 身份证号码 "])
def test_row_14_header_variants_are_matched(tmp_path: Path, header: str) -> None:
    """HAZARD 14: the ID column under the names villages give it (full- and half-width brackets, a line
    break, spaces) is found; so is 姓 名 with a space."""
    path = write_xlsx(tmp_path / "r.xlsx", [["姓 名", header, "类别"], ["王建国", make_id(), "低保"]])
    intake = load_rosters([path], jobs=1)
    assert list(intake.frame["id_number"]) == [make_id()]
    assert not [p for p in intake.errors]


def test_row_14_a_missing_required_column_names_what_is_needed(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [["姓名", "住址", "类别"], ["王建国", "三组", "低保"]])
    said = [p for p in load_rosters([path], jobs=1).errors if p.code == "header-not-found"]
    assert said and "身份证号" in said[0].message and "姓名" in said[0].message


def test_row_15_a_duplicate_header_is_an_error_naming_both_columns(tmp_path: Path) -> None:
    """HAZARD 15: two 身份证号 columns: weiwen cannot know which to use, and says so with both columns."""
    path = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "身份证号", "类别"],
                                             ["王建国", make_id(), make_id(seq="124"), "低保"]])
    intake = load_rosters([path], jobs=1)
    dup = [p for p in intake.errors if p.code == "header-duplicate"]
    assert dup and dup[0].row == 1 and "B 列" in dup[0].message and "C 列" in dup[0].message
    assert intake.exit_code != 0
