"""Nothing in a rules file may change an amount without the user knowing (issue: never a silently
wrong amount): aliases mean their category, unknown names and missing columns are refused, tiers
must not leave anyone at 0, contradictions are refused, and what only warns is said loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen.cli import app
from weiwen.app.pipeline import load_and_decide
from weiwen.rules import find_campaign, load_rules
from weiwen.rules.lint import RulesRefused

runner = CliRunner()
ROOT = Path(__file__).parent.parent
SAMPLES = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))
SPRING = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")


def _allocate(tmp_path: Path, rules_text: str, rosters: list[str] = SAMPLES, name: str = "r.yaml"):
    rules = tmp_path / name
    rules.write_text(rules_text, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["allocate", *rosters, "--rules", str(rules), "-o", str(out), "--json"])
    return result, out


def test_aliases_in_rules_pay_exactly_what_their_category_pays(tmp_path: Path) -> None:
    """The issue's case: 三属 -> 烈属 dropped the samples' total from 51,340 to 50,380, and 低保 -> 低保户
    to 18,380, with exit 0.  An alias now means its category: the total stays 51,340.00."""
    assert "{category: 三属}" in SPRING and "{category: 低保}" in SPRING
    aliased = SPRING.replace("{category: 三属}", "{category: 烈属}").replace("{category: 低保}", "{category: 低保户}")
    result, _ = _allocate(tmp_path, aliased)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["total"] == "51340.00"
    assert doc["by_standard"]["sanshu"]["total"] == "960.00"
    assert doc["by_standard"]["dibao"]["households"] == 30


def test_a_misspelt_category_is_refused_with_a_suggestion_and_nothing_written(tmp_path: Path) -> None:
    result, out = _allocate(tmp_path, SPRING.replace("{category: 低保边缘}", "{category: 低保边沿}"))
    assert result.exit_code == 1
    assert "低保边沿" in result.output and "是不是“低保边缘”" in result.output
    assert "rules-category-unknown" in result.output and "第 53 行" in result.output
    assert not out.exists()


def _roster(tmp_path: Path, header: str, value: str) -> str:
    rows = [["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", header],
            ["张庄村", "001", "王五", make_id(seq="101"), "户主", "困难职工", value],
            ["张庄村", "002", "赵六", make_id(seq="102"), "户主", "困难职工", "2000"]]
    return str(write_xlsx(tmp_path / "r.xlsx", rows))


INCOME_RULES = """
campaign: {name: 测试, code: t, reference_date: 2027-01-20}
standards:
  - code: low
    name: 低收入
    when: {all: [{category: 困难职工}, {column: "COLUMN", lt: 1290}]}
    cash: 1000
"""


def test_a_column_is_matched_as_headers_are_full_width_brackets_included(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "家庭人均月收入(元)", "1,000元")
    result, _ = _allocate(tmp_path, INCOME_RULES.replace("COLUMN", "家庭人均月收入（元）"), [roster])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == "1000.00"  # 王五 1,000 < 1,290; 赵六 2,000 is not


def test_a_column_no_roster_has_is_refused(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "家庭人均收入", "1000")
    result, out = _allocate(tmp_path, INCOME_RULES.replace("COLUMN", "家庭月收入"), [roster])
    assert result.exit_code == 1
    assert "rules-column-missing" in result.output and "“家庭月收入”" in result.output
    assert "是不是“家庭人均收入”" in result.output
    assert not out.exists()


TIERS = """
campaign: {name: 测试, code: t, reference_date: 2027-01-20}
standards:
  - code: dibao
    name: 低保家庭
    when: {category: 低保}
    tiers:
      by: household_size
      steps:
STEPS
"""


@pytest.mark.parametrize(("steps", "says"), [
    ("        - {max: 1, cash: 550}\n        - {min: 3, cash: 1100}", "户人口数为 2 的对象不在任何一档内"),
    ("        - {max: 2, cash: 550}\n        - {min: 2, cash: 1100}", "户人口数为 2 的对象同时落在第 1 档和第 2 档"),
    ("        - {max: 1, cash: 550}\n        - {min: 2, max: 5, cash: 1100}", "户人口数 6 及以上的对象"),
    ("        - {min: 2, cash: 1100}", "户人口数为 1 的对象不在任何一档内"),
])
def test_tier_gaps_and_overlaps_are_refused(tmp_path: Path, steps: str, says: str) -> None:
    result, out = _allocate(tmp_path, TIERS.replace("STEPS", steps))
    assert result.exit_code == 1, result.output
    assert says in result.output.replace("\n", "")
    assert not out.exists()


def test_contradictory_conditions_are_refused(tmp_path: Path) -> None:
    text = """
campaign: {name: 测试, code: t, reference_date: 2027-01-20}
standards:
  - code: old
    name: 高龄
    when: {all: [{category: 低保}, {age: {gte: 80}}, {age: {lt: 60}}]}
    cash: 100
  - code: ok
    name: 低保
    when: {all: [{age: {gt: 79}}, {age: {lte: 80}}]}
    cash: 100
"""
    result, _ = _allocate(tmp_path, text)
    assert result.exit_code == 1
    assert "标准“高龄”的条件自相矛盾" in result.output
    assert "标准“低保”的条件自相矛盾" not in result.output  # age 80 satisfies > 79 and <= 80


def test_what_only_warns_is_said_in_the_summary_and_the_json(tmp_path: Path) -> None:
    """The bundled samples have no 上年已慰问 column: the exclusion cannot work, and the run says so."""
    result, out = _allocate(tmp_path, SPRING)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    codes = {f["code"]: f for f in doc["findings"]}
    assert "名单无法按“上年已慰问”排除" in codes["rules-exclusion-column-missing"]["message"]
    assert codes["rules-exclusion-column-missing"]["row"] == 34  # the line of 上年已慰问 itself
    assert "“孤儿”" in codes["rules-category-uncovered"]["message"]
    assert "重度残疾人" in codes["rules-standard-unused"]["message"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in summary["findings"]] == [f["code"] for f in doc["findings"]]
    plain = runner.invoke(app, ["allocate", *SAMPLES, "--rules", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "o2")])
    assert "名单无法按“上年已慰问”排除" in plain.stdout


def test_rules_check_reports_the_same_list_as_allocate(tmp_path: Path) -> None:
    result, _ = _allocate(tmp_path, SPRING)
    allocate_codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    check = runner.invoke(app, ["rules", "check", str(tmp_path / "r.yaml"), *SAMPLES, "--json"])
    assert check.exit_code == 0, check.output
    found = json.loads(check.stdout)["findings"]
    assert [f["code"] for f in found if f["severity"] != "info"] == allocate_codes


def test_rules_check_with_rosters_refuses_what_allocate_refuses(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "家庭人均收入", "1000")
    rules = tmp_path / "x.yaml"
    rules.write_text(INCOME_RULES.replace("COLUMN", "家庭月收入"), encoding="utf-8")
    alone = runner.invoke(app, ["rules", "check", str(rules)])
    assert alone.exit_code == 0  # the file alone is fine: only the rosters show the column is missing
    against = runner.invoke(app, ["rules", "check", str(rules), roster])
    assert against.exit_code == 1 and "家庭月收入" in against.stdout


def test_a_library_caller_gets_the_campaigns_categories(tmp_path: Path) -> None:
    """rule_vocabulary lived in the CLI: load_and_decide without it lost the plan's categories."""
    rows = [["姓名", "身份证号", "类别", "家庭人均收入", "困难原因", "上年已慰问"],
            ["张三", make_id(seq="201"), "困难职工户", "1000", "患病", "否"]]
    roster = write_xlsx(tmp_path / "u.xlsx", rows)
    intake, decision = load_and_decide([roster], load_rules(find_campaign("union")))
    assert decision is not None and not intake.errors
    assert str(decision.total) == "1000.00"


def test_a_library_caller_is_refused_too(tmp_path: Path) -> None:
    roster = Path(_roster(tmp_path, "家庭人均收入", "1000"))
    rules = tmp_path / "x.yaml"
    rules.write_text(INCOME_RULES.replace("COLUMN", "家庭月收入"), encoding="utf-8")
    with pytest.raises(RulesRefused) as err:
        load_and_decide([roster], load_rules(rules))
    assert [p.code for p in err.value.problems] == ["rules-column-missing"]


def test_validate_knows_the_campaigns_categories(tmp_path: Path) -> None:
    rows = [["姓名", "身份证号", "类别", "家庭人均收入", "困难原因", "上年已慰问"],
            ["张三", make_id(seq="201"), "困难职工户", "1000", "患病", "否"]]
    roster = str(write_xlsx(tmp_path / "u.xlsx", rows))
    plain = runner.invoke(app, ["validate", roster, "--json"])
    assert "category-unknown" in {p["code"] for p in json.loads(plain.stdout)["errors"]}
    with_campaign = runner.invoke(app, ["validate", roster, "--campaign", "union", "--json"])
    assert with_campaign.exit_code == 0, with_campaign.output
    doc = json.loads(with_campaign.stdout)
    assert doc["errors"] == []
    assert doc["rules_findings"] == []


def test_validate_with_rules_reports_what_allocate_would_refuse(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "家庭人均收入", "1000")
    rules = tmp_path / "x.yaml"
    rules.write_text(INCOME_RULES.replace("COLUMN", "家庭月收入"), encoding="utf-8")
    result = runner.invoke(app, ["validate", roster, "--rules", str(rules)])
    assert result.exit_code == 1
    assert "allocate 将拒绝核定" in result.stdout and "家庭月收入" in result.stdout


def test_the_template_offers_the_campaigns_categories_and_columns(tmp_path: Path) -> None:
    import openpyxl

    rules = tmp_path / "x.yaml"
    rules.write_text(INCOME_RULES.replace("COLUMN", "家庭人均月收入（元）").replace(
        "campaign: {name: 测试, code: t, reference_date: 2027-01-20}",
        "campaign: {name: 测试, code: t, reference_date: 2027-01-20}\n"
        "categories: {失地农民: {aliases: [失地农民家庭]}}\nexclusions: {column: {上年已慰问: 是}}"), encoding="utf-8")
    out = tmp_path / "模板.xlsx"
    result = runner.invoke(app, ["template", "-o", str(out), "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[2]]
    assert headers[-2:] == ["家庭人均月收入（元）", "上年已慰问"]
    assert ws["A1"].value.endswith("测试对象花名册")
    listed = {c.value for row in wb.worksheets[1].iter_rows() for c in row}
    assert "失地农民" in listed


def test_check_duplicates_reads_the_rosters_as_allocate_does(tmp_path: Path) -> None:
    rows = [["姓名", "身份证号", "类别", "家庭人均收入", "困难原因", "上年已慰问"],
            ["张三", make_id(seq="201"), "困难职工户", "1000", "患病", "否"]]
    roster = str(write_xlsx(tmp_path / "u.xlsx", rows))
    result = runner.invoke(app, ["check-duplicates", roster, "--campaign", "union", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"groups": []}
