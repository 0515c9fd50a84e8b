"""weiwen explain for every outcome of a household: paid, excluded (ID list, column), over quota,
already in the ledger, roster errors, not found, several households for one key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen.cli import app
from weiwen.core.ids import mask_id
from weiwen.ledger.store import KEY_ENV, Ledger, runs

runner = CliRunner()
ROOT = Path(__file__).parent.parent

A, A2, B, C, D = (make_id(seq=s) for s in ("111", "112", "211", "311", "411"))
E, F, G, H = (make_id(seq=s) for s in ("511", "611", "711", "811"))
_GOOD_BAD = make_id(seq="911")
BAD = _GOOD_BAD[:-1] + ("1" if _GOOD_BAD[-1] != "1" else "2")  # a wrong check digit: a roster error
_GOOD_BAD2 = make_id(seq="113")
BAD2 = _GOOD_BAD2[:-1] + ("1" if _GOOD_BAD2[-1] != "1" else "2")

# rules/spring.yaml: 低保 1 person 550, 3 persons 1100, + 面粉 25×4 + 清油 5×16 = 180 in goods;
# 三属 960; 困难家庭 600 + 大米 2×60 + 食用油 70 = 790.
ROSTER = [
    ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "上年已慰问"],
    ["张庄村", "1", "甲", A, "户主", "低保", 3, ""],  # 1100 + 180 = 1280, rank 1
    ["张庄村", "1", "甲妻", BAD2, "配偶", "", 3, ""],  # row 3: a member's row with an error
    ["张庄村", "1", "甲子", A2, "儿子", "", 3, ""],
    ["张庄村", "2", "乙", B, "户主", "三属", 1, ""],  # 960, rank 2: the last within 2 slots
    ["张庄村", "3", "丙", C, "户主", "困难家庭", 1, ""],  # 790, rank 3: over quota
    ["张庄村", "4", "丁", D, "户主", "低保", 1, ""],  # 550 + 180 = 730, rank 4: over quota
    ["李家湾村", "1", "戊", E, "户主", "低保", 1, "是"],  # excluded by the column 上年已慰问
    ["李家湾村", "2", "己", F, "户主", "低保", 1, ""],  # excluded by the rules' ID list
    ["李家湾村", "3", "庚", BAD, "户主", "低保", 1, ""],  # the head's row has an error
    ["李家湾村", "4", "辛", G, "户主", "低保", 1, ""],  # 730, unless the ledger has them
    ["李家湾村", "5", "壬", H, "户主", "", 1, ""],  # no category: qualifies for nothing
]


def rules_file(tmp_path: Path, *, ids: str = "[]", quota: str = "", extra: str = "") -> Path:
    text = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")
    text = text.replace("  ids: []", f"  ids: {ids}{extra}")
    if quota:
        text = text.replace("combination:", f"quotas:\n{quota}\ncombination:")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "花名册.xlsx", ROSTER)


def explain(key: str, roster: Path, rules: Path, *more: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["explain", key, str(roster), "--rules", str(rules), *more], env={"COLUMNS": "200"})


def test_paid_household_is_traced(tmp_path: Path, roster: Path) -> None:
    result = explain(B, roster, rules_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert "户主 乙" in result.stdout and "✓ 三属" in result.stdout
    assert "合计 960.00 元" in result.stdout
    assert B not in result.stdout and mask_id(B) in result.stdout


def test_paid_household_names_its_rows_with_errors(tmp_path: Path, roster: Path) -> None:
    result = explain("张庄村/1", roster, rules_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert "合计 1280.00 元" in result.stdout
    assert "另有 1 行因有错误未纳入核定" in result.stdout and "第 3 行 甲妻" in result.stdout
    assert BAD2 not in result.stdout and mask_id(BAD2) in result.stdout


def test_excluded_by_the_id_list(tmp_path: Path, roster: Path) -> None:
    result = explain("李家湾村/2", roster, rules_file(tmp_path, ids=f"[{F}]"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "结果：未纳入核定（排除）——举报属实取消" in out
    assert f"户内 己（{mask_id(F)}）的身份证号在规则文件的排除名单（exclusions.ids）中" in out
    assert "最终：不发放（0 元）" in out and "合计" not in out
    assert F not in out


def test_excluded_by_an_id_list_file(tmp_path: Path, roster: Path) -> None:
    (tmp_path / "取消名单.csv").write_text(f"身份证号\n{F}\n", encoding="utf-8")
    result = explain(F, roster, rules_file(tmp_path, extra="\n  ids_file: 取消名单.csv"))
    assert result.exit_code == 0, result.output
    assert "排除名单文件 取消名单.csv（规则 exclusions.ids_file）" in result.stdout
    assert F not in result.stdout


def test_excluded_by_a_column(tmp_path: Path, roster: Path) -> None:
    result = explain("李家湾村：1", roster, rules_file(tmp_path))  # full-width colon
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "结果：未纳入核定（排除）——上年已慰问为“是”" in out
    assert "规则 exclusions.column——花名册“上年已慰问”列为“是”的户整户不纳入；本户 戊（第 8 行）这一列为“是”" in out
    assert "0 元" in out


def test_over_quota_gives_rank_slots_and_the_last_admitted_amount(tmp_path: Path, roster: Path) -> None:
    rules = rules_file(tmp_path, quota="  slots: {张庄村: 2}")
    third = explain(C, roster, rules)
    assert third.exit_code == 0, third.output
    # 张庄村: 甲 1280, 乙 960 | 丙 790, 丁 730 — two slots, so the last admitted is 乙's 960.
    assert "结果：未纳入核定（超出名额）" in third.stdout
    assert ("本户按标准应得 790.00 元，在张庄村符合条件的户中按金额排第 3 名；"
            "张庄村名额 2 户，末位入选（第 2 名）的户为 960.00 元。") in third.stdout
    assert "符合的标准：困难家庭（790.00 元）" in third.stdout
    fourth = explain("张庄村/4", roster, rules)
    assert "应得 730.00 元" in fourth.stdout and "排第 4 名" in fourth.stdout
    admitted = explain(B, roster, rules)
    assert admitted.exit_code == 0 and "合计 960.00 元" in admitted.stdout


def test_an_upheld_objection_keeps_its_slot_in_the_ranking(tmp_path: Path, roster: Path) -> None:
    # 乙 (960, rank 2) is withdrawn and the slot is not refilled: 丙 stays third, the cut-off is still 960.
    rules = rules_file(tmp_path, ids=f"[{B}]", quota="  slots: {张庄村: 2}")
    withdrawn = explain(B, roster, rules)
    assert "举报属实取消，名额不予补缺" in withdrawn.stdout
    third = explain(C, roster, rules)
    assert "排第 3 名" in third.stdout and "末位入选（第 2 名）的户为 960.00 元" in third.stdout


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(KEY_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    paid = tmp_path / "已发放.csv"
    paid.write_text("\ufeff户编码,村(社区),户号,户主姓名,身份证号,银行卡号,享受标准,现金,物资折价,合计,联系电话,核定依据\r\n"
                    f"no:李家湾村:4,李家湾村,4,辛,{G},,dibao,500.00,0.00,500.00,,享受“低保家庭”\r\n", encoding="utf-8")
    ledger = Ledger.create(url)
    ledger.record(paid, "县总工会", "spring-2027")
    with ledger.engine.begin() as conn:  # recorded on a known day, not on whatever day the test runs
        conn.execute(runs.update().values(recorded_at="2027-01-25T09:30:00+00:00"))
    return url


def test_in_the_ledger(tmp_path: Path, roster: Path, ledger_url: str) -> None:
    rules = rules_file(tmp_path)
    without = explain(G, roster, rules)
    assert without.exit_code == 0 and "合计 730.00 元" in without.stdout  # no ledger given: paid
    result = explain(G, roster, rules, "--ledger", ledger_url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "结果：未纳入核定（已在发放台账中）——台账中已有记录：县总工会 于 2027-01-25 在活动 spring-2027 中发放 500.00 元" in out
    assert "730.00" not in out and "最终：不发放（0 元）" in out
    assert G not in out


def test_the_person_whose_row_has_an_error(tmp_path: Path, roster: Path) -> None:
    result = explain(BAD2, roster, rules_file(tmp_path))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert f"甲妻（{mask_id(BAD2)}）所在的行有错误，此人未纳入核定" in out
    assert "第 3 行" in out and "校验码" in out
    assert "本户其他成员的核定情况" in out and "合计 1280.00 元" in out  # the rest of the household is paid
    assert "另有" not in out  # the row is not listed a second time
    assert BAD2 not in out


def test_a_household_whose_head_row_has_an_error(tmp_path: Path, roster: Path) -> None:
    result = explain("李家湾村/3", roster, rules_file(tmp_path))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "户主所在行有错误，整户待更正后再核定" in out
    assert "第 10 行 庚" in out and "校验码" in out
    assert BAD not in out and mask_id(BAD) in out


def test_not_qualified_is_traced(tmp_path: Path, roster: Path) -> None:
    result = explain(H, roster, rules_file(tmp_path))
    assert result.exit_code == 0, result.output
    assert "结果：不符合任何慰问标准，未纳入核定。" in result.stdout and "✗ 低保家庭" in result.stdout


def test_not_in_the_rosters(tmp_path: Path, roster: Path) -> None:
    rules = rules_file(tmp_path)
    missing = make_id(seq="999")
    result = explain(missing, roster, rules)
    assert result.exit_code == 1
    assert f"在花名册中找不到“{mask_id(missing)}”" in result.stdout and missing not in result.stdout
    assert "或“村名/户号”（如“张庄村/1”）" in result.stdout  # an example from these rosters
    assert explain("9", roster, rules).exit_code == 1
    assert explain("王庄村/1", roster, rules).exit_code == 1  # 户号 1 exists, not in that village


def test_a_household_number_in_two_villages_is_ambiguous(tmp_path: Path, roster: Path) -> None:
    rules = rules_file(tmp_path)
    result = explain("1", roster, rules)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "“1”对应 2 户" in out
    assert "张庄村 户号 1，户主 甲" in out and "李家湾村 户号 1，户主 戊" in out
    assert "村名/户号" in out and "weiwen explain 张庄村/1" in out
    assert "合计" not in out  # neither household is explained as if it were the only one
    precise = explain("张庄村/1", roster, rules)
    assert precise.exit_code == 0 and "户主 甲" in precise.stdout and "合计 1280.00 元" in precise.stdout
    other = explain("李家湾村／1", roster, rules)  # full-width slash
    assert other.exit_code == 0 and "户主 戊" in other.stdout and "上年已慰问" in other.stdout


def test_a_person_listed_in_two_villages_is_ambiguous(tmp_path: Path) -> None:
    rows = [ROSTER[0], ["张庄村", "7", "甲", A, "户主", "低保", 1, ""], ["李家湾村", "8", "甲", A, "户主", "三属", 1, ""]]
    roster = write_xlsx(tmp_path / "重复.xlsx", rows)
    rules = rules_file(tmp_path)
    result = explain(A, roster, rules)
    assert result.exit_code == 1
    assert f"“{mask_id(A)}”对应 2 户" in result.stdout and A not in result.stdout
    # Both rows are roster errors ("listed twice"): the precise key picks one of them.
    second = explain(f"李家湾村：{A}", roster, rules)
    assert second.exit_code == 1
    assert "甲（" in second.stdout and "第 3 行 甲" in second.stdout and "第 2 行 甲" not in second.stdout
    assert "重复出现" in second.stdout and A not in second.stdout


def test_a_roster_without_household_numbers_is_not_matched_by_row(tmp_path: Path) -> None:
    ids = [make_id(seq=s) for s in ("101", "102", "103")]
    roster = tmp_path / "无户号.csv"
    roster.write_text("姓名,身份证号,类别\n" + "".join(f"{n},{i},低保\n" for n, i in zip("王李张", ids, strict=True)),
                      encoding="utf-8")
    rules = rules_file(tmp_path)
    row3 = explain("3", roster, rules)  # spreadsheet row 3 is 李 (the header is row 1)
    assert row3.exit_code == 1
    assert "找不到“3”" in row3.stdout and "李" not in row3.stdout
    assert "这些花名册没有户号，请写户内任何一人的身份证号" in row3.stdout
    by_id = explain(ids[1], roster, rules)
    assert by_id.exit_code == 0, by_id.output
    assert "户主 李" in by_id.stdout and "合计 730.00 元" in by_id.stdout


def test_help_names_the_precise_key_in_chinese() -> None:
    result = runner.invoke(app, ["explain", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "村名/户号" in result.stdout and "--ledger" in result.stdout
    assert "KEY" not in result.stdout


def test_a_household_number_typed_without_its_zeros_is_found() -> None:
    """户号 001 in the roster, 1 typed at the counter: the same household, never a row number."""
    root = Path(__file__).parent.parent
    files = sorted(str(p) for p in (root / "samples" / "rosters").glob("*.xlsx"))
    one = CliRunner().invoke(app, ["explain", "王楼村/1", *files, "--campaign", "spring"])
    assert one.exit_code == 0, one.output
    assert one.stdout.startswith("户：王楼村 户号 001，户主 袁燕花")
    several = CliRunner().invoke(app, ["explain", "1", *files, "--campaign", "spring"])
    assert several.exit_code == 1 and "“1”对应 3 户" in several.stdout
