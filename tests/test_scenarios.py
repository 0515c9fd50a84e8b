"""The four real plans in rules/, openfisca-style: households in, amounts out, computed by hand.

Each tests/scenarios/<plan>.yaml names a rules file and lists cases; a case is a set of households
(persons with their categories) and, per household, the cash, goods value, total and standards
applied that the plan's text gives (the hand computation is in the YAML comments), plus the grand
total.  Every case is written as a real roster workbook and run through the library exactly as
``weiwen allocate`` runs it (``load_and_decide``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import make_id, write_xlsx
from weiwen.decision import Decision
from weiwen.roster.intake import Intake
from weiwen.app.pipeline import load_and_decide
from weiwen.rules import load_rules

ROOT = Path(__file__).parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"
RULES = ROOT / "rules"
HEADERS = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "残疾等级", "人口数"]
PERSON_KEYS = {"name", "relation", "categories", "born", "disability"}
HOUSEHOLD_KEYS = {"household", "village", "size", "repeat", "persons", "expect"}
EXPECT_KEYS = {"cash", "goods", "total", "applied"}


def fen(yuan: Any) -> int:
    """Yuan as written in a scenario (1400, 4.8) -> integer fen, exactly."""
    value = Decimal(str(yuan)) * 100
    assert value == value.to_integral_value(), f"{yuan} 元不是整分"
    return int(value)


@dataclass(frozen=True)
class Expected:
    cash: int
    goods: int
    total: int
    applied: str


@dataclass(frozen=True)
class Case:
    plan: str  # scenario file stem
    rules: Path
    id: str
    title: str
    columns: list[str]  # extra roster columns
    households: list[dict[str, Any]]  # expanded: one entry per household (repeat unrolled)
    expected: dict[str, Expected | None]  # 户号 -> amounts, None = receives nothing
    total: int


def _expected(hh: str, raw: Any) -> Expected | None:
    if raw == "none":
        return None
    assert isinstance(raw, dict) and set(raw) <= EXPECT_KEYS and {"cash", "goods", "total"} <= set(raw), \
        f"{hh}: expect 要写 cash、goods、total（可加 applied），或写 none"
    e = Expected(fen(raw["cash"]), fen(raw["goods"]), fen(raw["total"]), str(raw.get("applied", "")))
    assert e.cash + e.goods == e.total, f"{hh}: 场景本身有误，cash + goods ≠ total"
    return e


def _cases(path: Path) -> list[Case]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for raw in doc["cases"]:
        households: list[dict[str, Any]] = []
        expected: dict[str, Expected | None] = {}
        for hh in raw["households"]:
            assert set(hh) <= HOUSEHOLD_KEYS, (path.name, raw["id"], set(hh) - HOUSEHOLD_KEYS)
            n = int(hh.get("repeat", 1))
            for k in range(1, n + 1):
                number = str(hh["household"]) if n == 1 else f"{hh['household']}-{k}"
                assert number not in expected, f"{path.name} {raw['id']}: 户号 {number} 重复"
                persons = [dict(p, name=p["name"] + (str(k) if n > 1 else "")) for p in hh["persons"]]
                households.append(dict(hh, household=number, persons=persons))
                expected[number] = _expected(number, hh["expect"])
        total = fen(raw["total"])
        assert sum(e.total for e in expected.values() if e) == total, \
            f"{path.name} {raw['id']}: 场景本身有误，各户合计 ≠ total"
        out.append(Case(path.stem, RULES / doc["rules"], raw["id"], raw.get("title", ""),
                        list(doc.get("columns", [])), households, expected, total))
    return out


ALL_CASES = [c for p in sorted(SCENARIOS.glob("*.yaml")) for c in _cases(p)]


def write_roster(case: Case, path: Path) -> Path:
    """The case as a real roster workbook: one row per person, IDs valid and distinct."""
    rows: list[list[object]] = [HEADERS + case.columns]
    seq = 0
    for hh in case.households:
        size = hh.get("size", len(hh["persons"]))
        for p in hh["persons"]:
            extra = set(p) - PERSON_KEYS - set(case.columns)
            assert not extra, f"{case.id} {hh['household']}: 未知的键 {extra}（额外的列要写在 columns 中）"
            seq += 1
            rows.append([hh.get("village", "幸福村"), hh["household"], p["name"],
                         make_id("110101", str(p.get("born", "19600101")), f"{seq:03d}"),
                         p.get("relation", "户主"), p.get("categories", ""), p.get("disability", ""), size,
                         *[p.get(c, "") for c in case.columns]])
    return write_xlsx(path, rows)


def decide_case(case: Case, tmp_path: Path, form: str = ".yaml") -> tuple[Intake, Decision]:
    """``form``: the plan as its YAML file or as its bundled workbook (.xlsx): the same amounts are expected."""
    roster = write_roster(case, tmp_path / f"{case.plan}-{case.id}.xlsx")
    intake, decision = load_and_decide([roster], load_rules(case.rules.with_suffix(form)))
    assert decision is not None, "花名册无法读取"
    assert not intake.errors, [p.message for p in intake.errors]
    return intake, decision


def _yuan(f: int) -> str:
    return f"{Decimal(f) / 100:,.2f}"


@pytest.mark.parametrize("form", [".yaml", ".xlsx"])
@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{c.plan}-{c.id}" for c in ALL_CASES])
def test_scenario(case: Case, tmp_path: Path, form: str) -> None:
    _, decision = decide_case(case, tmp_path, form)
    table = decision.table
    numbers = [str(x) for x in table["household_no"]] if len(table) else []
    assert len(numbers) == len(set(numbers)), f"户号重复：{numbers}"
    rows = {n: r for n, r in zip(numbers, table.to_dict("records"), strict=True)}
    failures = []
    for number, want in case.expected.items():
        got = rows.get(number)
        if want is None:
            if got is not None:
                failures.append(f"户号 {number}：应不予慰问，实际 {_yuan(int(got['total_fen']))} 元（{got['applied']}）")
            continue
        if got is None:
            failures.append(f"户号 {number}：应得 {_yuan(want.total)} 元（{want.applied}），实际未纳入")
            continue
        have = Expected(int(got["cash_fen"]), int(got["goods_fen"]), int(got["total_fen"]), str(got["applied"]))
        if have != want:
            failures.append(f"户号 {number}：应为 现金 {_yuan(want.cash)} + 物资 {_yuan(want.goods)} = "
                            f"{_yuan(want.total)}（{want.applied}），实际 现金 {_yuan(have.cash)} + 物资 "
                            f"{_yuan(have.goods)} = {_yuan(have.total)}（{have.applied}）；{got.get('reason', '')}")
    unexpected = sorted(set(rows) - set(case.expected))
    if unexpected:
        failures.append(f"场景中没有的户号得到了慰问：{unexpected}")
    got_total = int(table["total_fen"].sum()) if len(table) else 0
    if got_total != case.total:
        failures.append(f"合计应为 {_yuan(case.total)} 元，实际 {_yuan(got_total)} 元")
    assert not failures, f"{case.plan}{form} / {case.id}（{case.title}）：\n  " + "\n  ".join(failures)


def _case(plan: str, case_id: str) -> Case:
    return next(c for c in ALL_CASES if c.plan == plan and c.id == case_id)


def test_every_plan_has_a_scenario() -> None:
    plans = {"township", "street", "county", "bureau"}
    assert plans <= {c.plan for c in ALL_CASES}
    for plan in plans:
        assert (RULES / f"{plan}.yaml").is_file()


def test_county_scope_is_the_person(tmp_path: Path) -> None:
    # A 低保 grandmother and an orphan grandson: both persons are paid (200); "highest only"
    # per household would have dropped one of them.  One person holding two categories: paid once.
    loaded = load_rules(RULES / "county.yaml")
    assert loaded.rules.combination.scope == "person"
    case = Case("county", RULES / "county.yaml", "scope", "", ["点上慰问"], [
        {"household": "1", "persons": [{"name": "刘奶奶", "relation": "户主", "categories": "农村低保", "born": "19450303"},
                                       {"name": "刘小宝", "relation": "孙子", "categories": "孤儿", "born": "20150606"}]},
        {"household": "2", "persons": [{"name": "王小花", "relation": "户主", "categories": "城市低保、孤儿",
                                        "born": "20120101"}]},
    ], {}, 0)
    _, d = decide_case(case, tmp_path)
    totals = {str(n): int(t) for n, t in zip(d.table["household_no"], d.table["total_fen"], strict=True)}
    assert totals == {"1": 20000, "2": 10000}, totals


def test_bureau_plan_counts_give_10200_not_the_stated_10300(tmp_path: Path) -> None:
    case = _case("bureau", "plan-counts")
    _, d = decide_case(case, tmp_path)
    assert d.total == Decimal("10200.00")
    rules = d.plan.rules
    assert rules.budget.stated_total == Decimal("10300")  # what the plan's text says
    assert sum(s.stated.total for s in rules.standards if s.stated and s.stated.total) == Decimal("10200")
    # each line: the plan's count and subtotal are what weiwen computes from a roster with the plan's counts
    for s in rules.standards:
        assert s.stated is not None, s.code
        line = d.by_standard[s.code]
        assert Decimal(line["total"]) == s.stated.total, (s.code, line)
        units = line["units"] if s.per == "person" else line["households"]
        assert units == s.stated.count, (s.code, line)
    # … and the one difference, the plan's total, is reported: 10,300 stated, 10,200 computed, −100.
    stated = [f for f in d.findings if f.code == "rules-stated-differs"]
    assert len(stated) == 1, [f.message for f in stated]
    assert "总计" in stated[0].message and "10300" in stated[0].message and "10200" in stated[0].message
    assert "-100" in stated[0].message, stated[0].message
