"""Rules files: one broken file per failure mode, each message naming the line and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.rules import RulesError, load_rules

runner = CliRunner()
ROOT = Path(__file__).parent.parent

GOOD = """\
campaign:
  name: 测试活动
  code: test-2027
  reference_date: 2027-01-20
standards:
  - code: dibao
    name: 低保家庭
    when: {category: 低保}
    cash: 500
"""


def broken(tmp_path: Path, text: str) -> str:
    p = tmp_path / "r.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(WeiwenError) as exc:
        load_rules(p)
    return exc.value.message


def test_good_file_loads_with_exact_money(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(GOOD.replace("cash: 500", "cash: 350.50"), encoding="utf-8")
    r = load_rules(p).rules
    assert str(r.standards[0].cash) == "350.50"


def test_misspelt_key_names_line_and_suggests(tmp_path: Path) -> None:
    msg = broken(tmp_path, GOOD.replace("    cash: 500", "    cahs: 500"))
    assert "第 9 行" in msg and "cahs" in msg and "是不是“cash”" in msg


def test_missing_key(tmp_path: Path) -> None:
    msg = broken(tmp_path, GOOD.replace("    name: 低保家庭\n", ""))
    assert "缺少必填的键“name”" in msg and "第 6 行" in msg


def test_money_must_be_exact_and_non_negative(tmp_path: Path) -> None:
    assert "两位小数" in broken(tmp_path, GOOD.replace("cash: 500", "cash: 350.505"))
    assert "负数" in broken(tmp_path, GOOD.replace("cash: 500", "cash: -5"))
    assert "不是数字" in broken(tmp_path, GOOD.replace("cash: 500", "cash: 五百"))


def test_yaml_11_surprises_do_not_happen(tmp_path: Path) -> None:
    # `no` and `010` stay text; a code of 010 is accepted as the string "010".
    p = tmp_path / "r.yaml"
    p.write_text(GOOD.replace("code: dibao", "code: 010"), encoding="utf-8")
    assert load_rules(p).rules.standards[0].code == "010"
    assert "true 或 false" in broken(tmp_path, GOOD.replace("    cash: 500", "    cash: 500\n    stacking: maybe"))


def test_duplicate_keys_and_tags_are_refused(tmp_path: Path) -> None:
    assert "重复" in broken(tmp_path, GOOD.replace("    cash: 500", "    cash: 500\n    cash: 600"))
    msg = broken(tmp_path, GOOD + "x: !!python/object/apply:os.system [echo]\n")
    assert "标签" in msg and "第 10 行" in msg


def test_condition_with_two_kinds(tmp_path: Path) -> None:
    msg = broken(tmp_path, GOOD.replace("{category: 低保}", "{category: 低保, age: {gte: 60}}"))
    assert "只能写一种" in msg and "第 8 行" in msg


def test_all_errors_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("    cash: 500", "    cahs: 500").replace("reference_date: 2027-01-20", "reference_date: 明年")
    with pytest.raises(RulesError) as exc:
        p = tmp_path / "r.yaml"
        p.write_text(text, encoding="utf-8")
        load_rules(p)
    assert len(exc.value.messages) == 2


def test_bundled_examples_are_valid_and_clean() -> None:
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        result = runner.invoke(app, ["rules", "check", str(path)])
        assert result.exit_code == 0, (path, result.output)


def test_check_finds_an_unknown_category(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(GOOD.replace("{category: 低保}", "{category: 低宝}"), encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(p)])
    assert result.exit_code == 1
    assert "第 8 行" in result.stdout and "低宝" in result.stdout and "低保" in result.stdout


def test_check_warns_about_a_declared_category_no_standard_uses(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(GOOD.replace("standards:", "categories:\n  困难老党员:\n    aliases: [困难老党员户]\nstandards:"),
                 encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(p)])
    assert result.exit_code == 0
    assert "警告 规则文件第 5 行：方案自己定义的类别没有任何标准涉及：困难老党员。" in result.stdout
    bundled = next(line for line in result.stdout.splitlines() if line.startswith("提示 自带类别表"))
    assert "特困" in bundled and "低保" not in bundled.split("：", 1)[1].split("、")  # 低保 is covered


def test_check_reports_yaml_errors_as_usage(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(GOOD.replace("    cash: 500", "    cahs: 500"), encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(p)])
    assert result.exit_code == 2 and "cahs" in result.stderr and "Traceback" not in result.output


def test_schema_is_json() -> None:
    result = runner.invoke(app, ["rules", "schema"])
    schema = json.loads(result.stdout)
    assert "standards" in schema["properties"]


def test_rules_categories_extend_the_roster_vocabulary(tmp_path: Path) -> None:
    from tests.conftest import make_id, write_xlsx

    text = GOOD.replace("standards:", "categories:\n  困难职工:\n    aliases: [困难职工户]\nstandards:").replace(
        "{category: 低保}", "{category: 困难职工}")
    rules = tmp_path / "r.yaml"
    rules.write_text(text, encoding="utf-8")
    roster = write_xlsx(tmp_path / "x.xlsx", [["姓名", "身份证号", "类别"], ["王一", make_id(), "困难职工户"]])
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(rules), "-o", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == "500.00"


def test_explain_traces_a_household(tmp_path: Path) -> None:
    from tests.test_allocate import SPRING_PEOPLE
    from tests.conftest import write_xlsx

    roster = write_xlsx(tmp_path / "x.xlsx", SPRING_PEOPLE)
    result = runner.invoke(app, ["explain", SPRING_PEOPLE[1][3], str(roster), "--campaign", "spring"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "✓ 低保家庭" in out and "✓ 三属" in out and "未享受：三属" in out
    assert "合计 1280.00 元" in out
    assert SPRING_PEOPLE[1][3] not in out  # IDs are masked in the trace too
    excluded = runner.invoke(app, ["explain", SPRING_PEOPLE[6][3], str(roster), "--campaign", "spring"])
    assert "上年已慰问" in excluded.stdout
