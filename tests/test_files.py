"""Bad files: each gets its own Chinese message and the other files are still processed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen import load_rosters
from weiwen.cli import app
from weiwen.core.atomic import fit_name
from weiwen.read.sniff import OLE_MAGIC

GOOD_ROWS = [["姓名", "身份证号", "类别"], ["王建国", make_id(), "低保"], ["李秀英", make_id(seq="124"), "特困"]]


def codes(path: Path) -> list[str]:
    return [p.code for p in load_rosters([path]).problems if p.severity.value == "error"]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert codes(tmp_path / "nope.xlsx") == ["file-not-found"]
    assert codes(tmp_path) == ["file-is-directory"]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    assert codes(p) == ["file-empty"]


def test_truncated_workbook_is_corrupt(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", GOOD_ROWS)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert codes(bad) == ["file-corrupt"]


def test_html_export_renamed_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "export.xlsx"
    p.write_text("<html><body><table><tr><td>姓名</td></tr></table></body></html>", encoding="utf-8")
    assert codes(p) == ["file-is-html"]


def test_text_file_with_excel_extension(tmp_path: Path) -> None:
    p = tmp_path / "notes.xlsx"
    p.write_text("这不是表格", encoding="utf-8")
    assert codes(p) == ["file-unsupported"]


def test_encrypted_workbook(tmp_path: Path) -> None:
    p = tmp_path / "secret.xlsx"
    # An encrypted OOXML file is an OLE container with an EncryptionInfo stream.
    p.write_bytes(OLE_MAGIC + b"\x00" * 100 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 400)
    assert codes(p) == ["file-encrypted"]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert codes(p) == ["file-unsupported"]


def test_zip_bomb_refused_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (120 * 1024 * 1024))
    assert codes(p) == ["file-too-large"]


def test_sheet_without_header(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "x.xlsx", [["随便写点什么"], ["第二行"]])
    assert codes(p) == ["header-not-found"]


def test_all_sheets_empty(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "x.xlsx", [])
    assert codes(p) == ["file-no-data"]


def test_instruction_sheet_beside_roster_is_only_noted(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "x.xlsx", GOOD_ROWS, extra_sheets={"填表说明": [["请认真填写"]], "旧数据": GOOD_ROWS},
                   hidden=["旧数据"])
    intake = load_rosters([p])
    assert not intake.errors
    assert {i.code for i in intake.infos} >= {"sheet-no-table", "sheet-hidden"}
    assert intake.rows == 2  # the hidden sheet was not read


def test_sheet_option(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "x.xlsx", GOOD_ROWS, extra_sheets={"第二村": GOOD_ROWS[:2]})
    assert load_rosters([p], sheet="第二村").rows == 1
    missing = load_rosters([p], sheet="第三村")
    assert [e.code for e in missing.errors] == ["sheet-not-found"]
    assert "花名册" in missing.errors[0].message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_give_identical_records(tmp_path: Path, encoding: str) -> None:
    text = "\n".join(",".join(r) for r in GOOD_ROWS) + "\n"
    p = tmp_path / f"roster-{encoding}.csv"
    p.write_bytes(text.encode(encoding))
    intake = load_rosters([p])
    assert not intake.errors
    assert intake.frame["name"].tolist() == ["王建国", "李秀英"]
    assert intake.frame["categories"].tolist() == ["低保", "特困"]


def test_csv_in_unknown_encoding(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes("姓名,身份证号\n王一,".encode() + b"\xff\xff\n")  # neither UTF-8 nor GB18030
    assert codes(p) == ["encoding-unknown"]
    assert "既不是 UTF-8 也不是 GBK/GB18030" in load_rosters([p]).errors[0].message


def test_utf16_text_is_not_taken_for_a_roster(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes("姓名,身份证号\n".encode("utf-16"))  # every other byte NUL: looks binary
    assert codes(p) == ["file-unsupported"]


def test_csv_na_strings_stay_text(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(f"姓名,身份证号,备注\nNA,{make_id()},None\n", encoding="utf-8")
    frame = load_rosters([p]).frame
    assert frame["name"].tolist() == ["NA"] and frame["remark"].tolist() == ["None"]


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", GOOD_ROWS)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "missing.xlsx"), str(good), "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["rows"] == 2 and doc["valid_rows"] == 2
    assert [e["code"] for e in doc["errors"]] == ["file-not-found"]


def test_golden_xls_matches_xlsx() -> None:
    """A genuine BIFF8 .xls (saved by LibreOffice from the .xlsx beside it) validates identically."""
    fixtures = Path(__file__).parent / "fixtures"
    a = load_rosters([fixtures / "golden.xlsx"])
    b = load_rosters([fixtures / "golden.xls"])
    cols = ["row", "name", "id_number", "categories", "household", "household_link", "household_ref", "valid"]
    a_frame = a.frame[cols]
    b_frame = b.frame[cols]
    assert a_frame.equals(b_frame)
    assert [(p.row, p.code) for p in a.problems if p.severity.value != "info"] == [
        (p.row, p.code) for p in b.problems if p.severity.value != "info"]


def test_annotated_copy_of_csv_never_makes_formulas(tmp_path: Path) -> None:
    """Cells that look like formulas or links stay text in every output (no <f>, no hyperlink)."""
    p = tmp_path / "inject.csv"
    p.write_text(
        "姓名,身份证号,类别,备注\n"
        f"=HYPERLINK(\"http://evil\"),{make_id()},=1+1,@SUM(A1)\n"
        f"+张三,{make_id(seq='124')},低保,http://example.com\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(p), "--report", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 1  # "=1+1" is not a known category
    copy = tmp_path / "r" / "inject.标注.xlsx"
    with zipfile.ZipFile(copy) as zf:
        xml = "".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/"))
        assert "<f>" not in xml and "<f " not in xml
        assert not any("hyperlink" in n.lower() for n in zf.namelist())
        assert "<hyperlink" not in xml.lower()
    import openpyxl

    ws = openpyxl.load_workbook(copy)["inject"]
    assert ws["A2"].value == '=HYPERLINK("http://evil")' and ws["A2"].data_type == "s"


def test_text_longer_than_an_excel_cell_is_an_error(tmp_path: Path) -> None:
    """HAZARD 37: a CSV cell can hold what no Excel cell can; the writers would cut it silently."""
    p = tmp_path / "r.csv"
    p.write_text("姓名,身份证号,类别,备注\n"
                 f"王建国,{make_id()},低保,{'长' * 32768}\n"
                 f"李秀英,{make_id(seq='124')},特困,{'长' * 32767}\n", encoding="utf-8")
    intake = load_rosters([p])
    assert [(e.code, e.row, e.cell) for e in intake.errors] == [("cell-too-long", 2, "D2")]
    assert "32768" in intake.errors[0].message
    assert intake.valid_rows == 1


def test_village_name_too_long_for_a_file_name(tmp_path: Path) -> None:
    """A village cell holding a whole paragraph still gets its sign-sheet workbook (name cut to fit)."""
    long_village = "张庄村（" + "备注文字" * 60 + "）"
    lines = ["村(社区),姓名,身份证号,类别", f"{long_village},王建国,{make_id()},低保"]
    lines += [f"村{k},李{k},{make_id(seq=f'{200 + k:03d}')},低保" for k in range(60)]
    roster = tmp_path / "r.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted((out / "签领表").iterdir())
    assert len(files) == 61
    assert max(len(f.name.encode()) for f in files) <= 200
    assert any(f.name.startswith("01-张庄村(备注文字") and f.suffix == ".xlsx" for f in files)


@given(st.text(min_size=0, max_size=300), st.sampled_from([".xlsx", ".标注.xlsx"]))
def test_file_names_fit_and_keep_whole_characters(stem: str, suffix: str) -> None:
    name = fit_name(stem, suffix)
    assert len(name.encode()) <= 200 and name.endswith(suffix)
    assert stem.startswith(name[: -len(suffix)])


def test_csv_number_guards_from_system_exports_are_taken_off(tmp_path: Path) -> None:
    """'110…, ="110…" and tabs keep Excel from rounding a CSV's long numbers; they are not part of them."""
    ids = [make_id(seq=f"{600 + k:03d}") for k in range(5)]
    card = "6228480402564890018"
    p = tmp_path / "export.csv"
    p.write_text("姓名,身份证号,类别,银行卡号,联系电话\n"
                 f"王一,'{ids[0]},低保,'{card},'13800138000\n"
                 f'王二,"=""{ids[1]}""",低保,"=""{card}""","=""13800138000"""\n'
                 f"王三,\t{ids[2]},低保,\t{card},13800138000\t\n"
                 f"王四,{ids[3]}\t,低保,{card},13800138000\n"
                 f"王五,=1+{ids[4]},低保,,\n", encoding="utf-8")
    intake = load_rosters([p])
    assert intake.frame["id_number"].tolist()[:4] == ids[:4]
    assert intake.frame["bank_card"].tolist()[:3] == [card] * 3
    assert [(e.row, e.code) for e in intake.errors] == [(6, "id-bad-char")]  # only the wrappers come off
    assert not intake.warnings
    notes = {i.column: i.message for i in intake.infos if i.code == "text-guard-removed"}
    assert set(notes) == {"身份证号", "银行卡号", "联系电话"} and "4 格" in notes["身份证号"]


def test_signature_and_note_lines_below_the_table_are_footers(tmp_path: Path) -> None:
    """填表人/联系电话/填表日期 lines and 注:/说明: notes end the table; a person whose ID is missing and
    whose remark merely mentions 备注 stays a person with an error."""
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["张庄村2027年春节慰问对象花名册"], ["序号", "姓名", "身份证号", "类别", "备注"],
        [1, "王一", make_id(seq="901"), "低保", ""], [2, "王二", "", "低保", "备注：低保"],
        ["合计", "2户2人"], ["说明：类别按民政口径填写"],
        ["填表人：张三", "", "联系电话：13800138000", "填表日期：2026年12月1日"],
    ])
    intake = load_rosters([p])
    assert [(e.row, e.code) for e in intake.errors] == [(4, "id-missing")]
    footer = next(i for i in intake.infos if i.code == "rows-skipped-footer")
    assert "第 5、7 行" in footer.message and intake.rows == 2  # row 6 is text in the 序号 column only: blank
