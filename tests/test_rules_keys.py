"""Rules keys that change who is paid or how a fund is shared, each with a hand-computed outcome:
campaign.township, exclusions.ids_file, budget.split by village_households, ledger.lookback_months.

Amounts by hand from rules/spring.yaml: 低保 1 person 550, 2 persons 900, 3 or more 1100, plus
面粉 25 × 4 + 清油 5 × 16 = 180 in goods per household."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from tests.test_allocate import SPRING_PEOPLE, SPRING_TOTAL
from tests.test_ledger import allocation_csv
from weiwen.cli import app
from weiwen.ledger.store import KEY_ENV, Ledger, runs

runner = CliRunner()
ROOT = Path(__file__).parent.parent
SPRING = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")


def spring_with(tmp_path: Path, old: str, new: str, name: str = "rules.yaml") -> Path:
    assert old in SPRING
    path = tmp_path / name
    path.write_text(SPRING.replace(old, new), encoding="utf-8")
    return path


def allocate(roster: Path, rules: Path, out: Path, *more: str) -> tuple[int, dict]:
    """The exit code and the --json document of ``weiwen allocate``."""
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(rules), "-o", str(out), "--json", *more])
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def test_township_leaves_out_households_of_another_township(tmp_path: Path) -> None:
    """campaign.township: a household with anyone in another 乡镇(街道) is left out, said why; a blank
    township cell is not another township."""
    rules = spring_with(tmp_path, "  rosters: samples/rosters/*.xlsx", "  township: 城关镇")
    roster = write_xlsx(tmp_path / "r.xlsx", [
        ["乡镇(街道)", "村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["城关镇", "张庄村", "1", "王一", make_id(seq="001"), "户主", "低保", 1],  # 730
        ["东关镇", "李庄村", "1", "李二", make_id(seq="002"), "户主", "低保", 1],  # another township
        ["", "王楼村", "1", "张三", make_id(seq="003"), "户主", "低保", 1],  # 730
        ["东关镇", "王楼村", "2", "赵四", make_id(seq="004"), "户主", "低保", 2],  # head elsewhere: whole household
        ["城关镇", "王楼村", "2", "赵五", make_id(seq="005"), "配偶", "", 2],
    ])
    code, doc = allocate(roster, rules, tmp_path / "o")
    assert code == 0
    assert (doc["households"], doc["total"]) == (2, "1460.00")
    assert [(x["kind"], x["name"], x["reason"]) for x in doc["excluded"]] == [
        ("排除", "李二", "不属于城关镇"), ("排除", "赵四", "不属于城关镇")]
    without = tmp_path / "all.yaml"  # the same plan without the key pays all four households
    without.write_text(SPRING, encoding="utf-8")
    assert allocate(roster, without, tmp_path / "o2")[1]["total"] == "3270.00"  # + 李二 730 + 赵四户 900 + 180


def test_ids_file_removes_whole_households_with_the_ids_list(tmp_path: Path) -> None:
    """exclusions.ids_file (beside the rules file) and exclusions.ids both count: 李秀英 is in the file,
    赵强 in the list; 王建国's household (1280) and 赵强's (1260) leave, their slots unfilled."""
    (tmp_path / "取消名单.csv").write_text(f"姓名,身份证号\n李秀英,{SPRING_PEOPLE[2][3]}\n", encoding="utf-8")
    rules = spring_with(tmp_path, "  ids: []", f"  ids: [{SPRING_PEOPLE[4][3]}]\n  ids_file: 取消名单.csv")
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    code, doc = allocate(roster, rules, tmp_path / "o")
    assert code == 1  # 郑芳's row has an error
    assert Decimal(doc["total"]) == SPRING_TOTAL - 1280 - 1260 == Decimal("1290.00")
    assert doc["households"] == 2
    removed = {x["name"]: (x["kind"], x["reason"]) for x in doc["excluded"] if x["reason"] == "举报属实取消"}
    assert removed == {"王建国": ("排除", "举报属实取消"), "赵强": ("排除", "举报属实取消")}


def test_a_missing_ids_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    rules = spring_with(tmp_path, "  ids: []", "  ids: []\n  ids_file: 没有这个文件.csv")
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(rules), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "exclusions.ids_file 指向的文件" in result.stderr and "没有这个文件.csv 不存在" in result.stderr
    assert not (tmp_path / "o").exists()


def split_rules(tmp_path: Path, split: str, name: str) -> Path:
    return spring_with(tmp_path, "  ceiling: 50000                    # 上级下拨资金（元），预算表据此计算缺口或结余",
                       "  ceiling: 50000\n  split:\n" + split, name)


def test_split_by_village_households(tmp_path: Path) -> None:
    """budget.split by: village_households: the fund follows the households decided in each village.
    SPRING_PEOPLE: 张庄村 3 households (王建国, 赵强, “=HYPERLINK”), 李家湾村 1 (周涛); 10,001 yuan at 3 : 1 is
    7,500.75 and 2,500.25: 7,500 + 2,500, the yuan left to the larger remainder (张庄村).  To 10 yuan,
    10,010 is 1,001 tens: 750.75 and 250.25 tens -> 7,510 and 2,500."""
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    by_yuan = split_rules(tmp_path, "    fund: 10001\n    by: village_households\n", "yuan.yaml")
    result = runner.invoke(app, ["budget", str(roster), "--rules", str(by_yuan), "-o", str(tmp_path / "b"), "--json"])
    assert result.exit_code == 1, result.output  # 郑芳's row has an error
    doc = json.loads(result.stdout)
    assert {v: x["households"] for v, x in doc["by_village"].items()} == {"张庄村": 3, "李家湾村": 1}
    assert doc["split"] == [{"part": "张庄村", "amount": "7501.00"}, {"part": "李家湾村", "amount": "2500.00"}]
    by_ten = split_rules(tmp_path, "    fund: 10010\n    by: village_households\n    unit: 10\n", "ten.yaml")
    result = runner.invoke(app, ["budget", str(roster), "--rules", str(by_ten), "-o", str(tmp_path / "c"), "--json"])
    assert json.loads(result.stdout)["split"] == [{"part": "张庄村", "amount": "7510.00"},
                                                  {"part": "李家湾村", "amount": "2500.00"}]


def test_split_by_village_households_takes_no_parts(tmp_path: Path) -> None:
    rules = split_rules(tmp_path, "    fund: 10001\n    by: village_households\n    parts: {张庄村: 1}\n", "bad.yaml")
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    result = runner.invoke(app, ["budget", str(roster), "--rules", str(rules), "-o", str(tmp_path / "b")])
    assert result.exit_code == 2 and "by: village_households 按各村核定户数分配，不需要写 parts" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(("months", "households", "total", "left_out"), [
    (0, 3, "2190.00", []),  # only this campaign's records count; both are another campaign's
    (12, 2, "1460.00", ["王一"]),  # since 2026-01-20: 2026-06-01 is within, 2025-12-15 is not
    (14, 1, "730.00", ["王一", "李二"]),  # since 2025-11-20: both
])
def test_lookback_months_leaves_out_those_aided_within_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          months: int, households: int, total: str,
                                                          left_out: list[str]) -> None:
    """ledger.lookback_months counts back from the campaign's reference_date (2027-01-20).  The ledger
    holds 王一 paid by 县总工会 on 2026-06-01 and 李二 on 2025-12-15, both in campaign autumn-2026;
    张三 is in no record.  Each 低保 household of one person gets 550 + 180 = 730."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    ledger = Ledger.create(None)
    for seq, when in ((1, "2026-06-01T08:00:00+00:00"), (2, "2025-12-15T08:00:00+00:00")):
        paid = allocation_csv(tmp_path / f"paid{seq}.csv", range(seq, seq + 1))
        ledger.record(paid, "县总工会", "autumn-2026")
        with ledger.engine.begin() as conn:  # recorded on that day
            conn.execute(runs.update().where(runs.c.source == paid.name).values(recorded_at=when))
    roster = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别"], ["王一", make_id(seq="001"), "低保"],
                                               ["李二", make_id(seq="002"), "低保"], ["张三", make_id(seq="003"), "低保"]])
    rules = tmp_path / "rules.yaml"
    rules.write_text(SPRING + f"\nledger:\n  lookback_months: {months}\n", encoding="utf-8")
    code, doc = allocate(roster, rules, tmp_path / "o", "--ledger", "sqlite:///weiwen-ledger.db")
    assert code == 0
    assert (doc["households"], doc["total"]) == (households, total)
    reasons = {x["name"]: x["reason"] for x in doc["excluded"]}
    assert sorted(reasons) == sorted(left_out)
    days = {"王一": "2026-06-01", "李二": "2025-12-15"}
    for name in left_out:
        assert reasons[name] == f"台账中已有记录：县总工会 于 {days[name]} 在活动 autumn-2026 中发放 500.00 元（作为户主）"
