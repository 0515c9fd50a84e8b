"""check-duplicates: every planted kind found, near-misses left alone, in table, JSON and workbook."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from tests.conftest import id_ending_in_x, make_id, write_xlsx
from weiwen.cli import app

runner = CliRunner()
SAME = make_id(seq="101")
X = id_ending_in_x("110101", "19700101")
LEGACY18 = make_id(birth="19491231", seq="002")  # its 15-digit form drops "19" and the check character
LEGACY15 = LEGACY18[:6] + LEGACY18[8:17]
TYPO_GOOD = make_id(seq="301")
TYPO_BAD = TYPO_GOOD[:10] + TYPO_GOOD[11] + TYPO_GOOD[10] + TYPO_GOOD[12:]  # two digits swapped
HEAD = make_id(seq="401")

A = [
    ["村(社区)", "户号", "姓名", "身份证号", "户主身份证号", "与户主关系", "类别", "联系电话", "家庭住址"],
    ["张庄村", "1", "王一", SAME, "", "户主", "低保", "", ""],
    ["张庄村", "2", "赵六", X.lower(), "", "户主", "低保", "", ""],
    ["张庄村", "3", "钱七", LEGACY18, "", "户主", "低保", "", ""],
    ["张庄村", "4", "孙八", make_id(birth="19800505", seq="201"), "", "户主", "低保", "", ""],
    ["张庄村", "5", "周九", TYPO_GOOD, "", "户主", "低保", "", ""],
    ["张庄村", "6", "张偉", make_id(seq="501"), "", "户主", "低保", "13800138000", ""],
    ["张庄村", "7", "陈户主", HEAD, HEAD, "户主", "低保", "", ""],
    # near-misses: a different 张建国, a family sharing a phone
    ["张庄村", "8", "张建国", make_id(birth="19620101", seq="601"), "", "户主", "低保", "13900139000", "张庄1号"],
    ["张庄村", "8", "李芳", make_id(birth="19640101", seq="602"), "", "配偶", "", "13900139000", "张庄1号"],
]
B = [
    ["村(社区)", "户号", "姓名", "身份证号", "户主身份证号", "与户主关系", "类别", "联系电话", "家庭住址"],
    ["李家湾村", "1", "王一", SAME, "", "户主", "低保", "", ""],
    ["李家湾村", "2", "赵六", X, "", "户主", "低保", "", ""],
    ["李家湾村", "3", "钱七", LEGACY15, "", "户主", "低保", "", ""],
    ["李家湾村", "4", "孙八", make_id(birth="19800505", seq="203"), "", "户主", "低保", "", ""],
    ["李家湾村", "5", "周九", TYPO_BAD, "", "户主", "低保", "", ""],
    ["李家湾村", "6", "张伟", make_id(seq="503"), "", "户主", "低保", "13800138000", ""],
    ["李家湾村", "7", "陈儿子", make_id(seq="403"), HEAD, "子", "", "", ""],
    ["李家湾村", "8", "张建国", make_id(birth="19751111", seq="611"), "", "户主", "低保", "13700137000", "李家湾2号"],
]


def test_every_planted_group_and_no_false_group(tmp_path: Path) -> None:
    a = write_xlsx(tmp_path / "a.xlsx", A)
    b = write_xlsx(tmp_path / "b.xlsx", B)
    out = tmp_path / "重复核查.xlsx"
    result = runner.invoke(app, ["check-duplicates", str(a), str(b), "--json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    groups = json.loads(result.stdout)["groups"]
    found = {(g["kind"], tuple(sorted((r["file"][-6:], r["row"]) for r in g["records"]))) for g in groups}
    expected = {
        ("exact", (("a.xlsx", 2), ("b.xlsx", 2))),  # same ID in two villages
        ("exact", (("a.xlsx", 3), ("b.xlsx", 3))),  # ...x and ...X
        ("exact", (("a.xlsx", 4), ("b.xlsx", 4))),  # 18- and 15-digit forms
        ("exact", (("a.xlsx", 8), ("b.xlsx", 8))),  # one household's members in two villages
        ("suspected", (("a.xlsx", 5), ("b.xlsx", 5))),  # same name and birth date
        ("suspected", (("a.xlsx", 6), ("b.xlsx", 6))),  # one transposition apart
        ("suspected", (("a.xlsx", 7), ("b.xlsx", 7))),  # 张偉 / 张伟 with the same phone
    }
    assert found == expected
    for g in groups:
        assert g["reason"] and 0 < g["score"] <= 1
        for r in g["records"]:
            assert "*" in r["id_masked"] and r["village"] in ("张庄村", "李家湾村")
    ws = openpyxl.load_workbook(out)["重复核查"]
    assert ws.max_row - 2 == sum(len(g["records"]) for g in groups)


def test_nothing_found_exits_zero(tmp_path: Path) -> None:
    a = write_xlsx(tmp_path / "a.xlsx", A[:2] + A[8:])
    result = runner.invoke(app, ["check-duplicates", str(a)])
    assert result.exit_code == 0 and "没有发现重复" in result.stdout
