"""The intake issue's acceptance workbook: every planted problem at its row and column,
nothing on the clean rows, the title or the footer — in the JSON and in the annotated copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.conftest import id_ending_in_x, make_id, write_xlsx
from weiwen.cli import app
from weiwen.core import problems as P
from weiwen.core.ids import check_digit

WANG = make_id("110101", "19600302", "011")  # male
LI = make_id("110101", "19620415", "022")  # female
ZHAO_NUMERIC = 1.10101199003075e17
LIU_BAD = make_id("110102", "19700101", "044")[:-1]
LIU_BAD += "0" if make_id("110102", "19700101", "044")[-1] != "0" else "1"
CHEN_FUTURE = make_id("110105", "20300101", "055")
YANG = make_id("110106", "19750505", "066")
YANG_FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in YANG)
HUANG = id_ending_in_x("110107", "19800808")
HUANG_SEX = "男" if int(HUANG[16]) % 2 else "女"
ZHOU = make_id("110108", "19550505", "077")
WU_JUN = make_id("110109", "19500101", "091")
WU_LEI = make_id("110109", "19780101", "093")
NONAME = make_id("110111", "19400101", "101")
ZHENG = make_id("110112", "19881212", "102")  # female (even sequence)

ROWS = [
    ["城关镇张庄村2027年春节走访慰问对象花名册"],
    ["填报单位：张庄村村委会"],
    ["序号", "所在村（社区）", "户编号", "姓 名", "公民身份号码", "性别", "与户主的关系", "对象类别", "家庭人口"],
    [1, "张庄村", "001", "王建国", WANG, "男", "户主", "低保、残疾人", 2],
    [2, "张庄村", "001", "李秀英", LI, "女", "配偶", None, 2],
    [3, "张庄村", "002", "赵强", ZHAO_NUMERIC, "男", "户主", "低保", 1],
    [4, "张庄村", "003", "刘敏", LIU_BAD, "女", "户主", "特困", 1],
    [5, "张庄村", "004", "陈杰", CHEN_FUTURE, "男", "户主", "低保边缘", 1],
    [6, "张庄村", "005", "杨丽", YANG_FULLWIDTH, "女", "户主", "低保", 1],
    [7, "张庄村", "006", "黄伟", HUANG.lower(), HUANG_SEX, "户主", "三属", 1],
    [8, "张庄村", "007", "周涛", ZHOU, "男", "户主", "低宝户", 1],
    [9, "张庄村", "008", "吴军", WU_JUN, "男", "户主", "低保", 2],
    [10, "张庄村", "008", "吴磊", WU_LEI, "男", "户主", None, 2],
    [11, "张庄村", "009", None, NONAME, "男", "户主", "低保", 1],
    [12, "张庄村", "010", "郑芳", ZHENG, "男", "户主", "低保", 1],
    ["合计", None, None, "10户12人"],
    [],
    ["制表人：张三", None, None, None, "审核人：李四", None, None, "填报日期：2026年12月"],
]

EXPECTED_ERRORS = {
    (6, "公民身份号码", "id-numeric-cell"),
    (7, "公民身份号码", "id-checksum"),
    (8, "公民身份号码", "id-birthdate-implausible"),
    (11, "对象类别", "category-unknown"),
    (13, "与户主的关系", "household-multiple-heads"),
    (14, "姓 名", "name-missing"),
    (15, "性别", "sex-mismatch"),
}
EXPECTED_WARNINGS = {
    (9, "公民身份号码", "id-normalized"),
    (10, "公民身份号码", "id-normalized"),
}
CELLS = {6: "E6", 7: "E7", 8: "E8", 9: "E9", 10: "E10", 11: "H11", 13: "G13", 14: "D14", 15: "F15"}


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    assert int(ZHENG[16]) % 2 == 0 and int(WANG[16]) % 2 == 1
    return write_xlsx(tmp_path / "张庄村.xlsx", ROWS, merged=["A1:I1"])


def run_json(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["validate", *args, "--json", "--date", "2026-11-23"])
    return result.exit_code, json.loads(result.stdout)


def test_every_planted_problem_is_reported_at_its_cell(roster: Path) -> None:
    code, doc = run_json([str(roster)])
    assert code == 1
    errors = {(e["row"], e["column"], e["code"]) for e in doc["errors"]}
    warnings = {(w["row"], w["column"], w["code"]) for w in doc["warnings"]}
    assert errors == EXPECTED_ERRORS
    assert warnings == EXPECTED_WARNINGS
    for e in doc["errors"] + doc["warnings"]:
        assert e["file"] == str(roster)
        assert e["sheet"] == "花名册"
        assert e["cell"] == CELLS[e["row"]]
        assert re.search(r"[\u4e00-\u9fff]", e["message"]), e
    assert doc["rows"] == 12
    # Rows 4, 5 and 12 are clean; 9 and 10 only carry a normalisation warning.
    assert doc["valid_rows"] == 12 - len({r for r, _, _ in EXPECTED_ERRORS})


def test_title_and_footer_rows_are_skipped_and_said(roster: Path) -> None:
    _, doc = run_json([str(roster)])
    infos = {i["code"]: i for i in doc["infos"]}
    assert infos["rows-skipped-title"]["row"] == 1
    assert "1-2" in infos["rows-skipped-title"]["message"]
    assert "16" in infos["rows-skipped-footer"]["message"] and "18" in infos["rows-skipped-footer"]["message"]
    reported_rows = {p["row"] for p in doc["errors"] + doc["warnings"]}
    assert not reported_rows & {1, 2, 3, 4, 5, 12, 16, 17, 18}


def test_messages_carry_the_specifics(roster: Path) -> None:
    _, doc = run_json([str(roster)])
    by_row = {e["row"]: e for e in doc["errors"]}
    assert "文本" in by_row[6]["hint"]
    assert f"应为 {check_digit(LIU_BAD[:17])}" in by_row[7]["message"]
    assert "2030-01-01" in by_row[8]["message"] and "晚于核对日期" in by_row[8]["message"]
    assert "低宝户" in by_row[11]["message"] and "低保" in by_row[11]["message"]
    assert "第 12、13 行" in by_row[13]["message"]
    assert "“男”" in by_row[15]["message"] and "“女”" in by_row[15]["message"]


def test_annotated_copy_marks_each_cell(roster: Path, tmp_path: Path) -> None:
    before = roster.read_bytes()
    report = tmp_path / "report"
    code, doc = run_json([str(roster), "--report", str(report)])
    assert code == 1
    assert roster.read_bytes() == before, "the input must never be modified"
    copy = report / "张庄村.标注.xlsx"
    assert str(copy) in doc["reports"]
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == "错误清单"
    ws = wb["花名册"]
    for row, cell in CELLS.items():
        c = ws[cell]
        assert c.comment is not None, cell
        is_error = any(r == row for r, _, _ in EXPECTED_ERRORS)
        assert c.fill.fgColor.rgb.endswith("FFC7CE" if is_error else "FFEB9C"), cell  # red: error; yellow: warning
    for clean in ("E4", "E5", "D12", "A16", "A18"):
        assert ws[clean].comment is None, clean
    listing = wb["错误清单"]  # title, count line, header (row 3); each problem by its Chinese title, no code
    titles = [listing.cell(row=r, column=6).value for r in range(4, listing.max_row + 1)]
    assert sorted(titles) == sorted(P.kind(c).title for _, _, c in EXPECTED_ERRORS | EXPECTED_WARNINGS)
    assert json.loads((report / "校验报告.json").read_text(encoding="utf-8"))["rows"] == 12


def test_no_full_id_leaks_into_json(roster: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(roster), "--json", "--date", "2026-11-23"])
    assert not re.search(r"\d{17}[\dXx]", result.stdout)
    assert not re.search(r"\d{17}[\dXx]", result.stderr or "")


def test_annotated_copies_carry_no_time_of_writing(tmp_path: Path) -> None:
    """Same inputs, same bytes: the annotated copy's document times and zip entry dates are fixed
    (openpyxl's save would stamp the time of saving, so two runs a second apart differed)."""
    import zipfile

    roster = Path(__file__).parent.parent / "samples" / "rosters" / "1-王楼村.xlsx"
    result = CliRunner().invoke(app, ["validate", str(roster), "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    (copy,) = (tmp_path / "r").glob("*.标注.xlsx")
    with zipfile.ZipFile(copy) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    props = openpyxl.load_workbook(copy).properties
    assert (props.created.year, props.modified.year) == (2000, 2000)
