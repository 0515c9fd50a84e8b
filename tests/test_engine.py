"""Worked examples for the rules engine; every expected number computed by hand."""

from __future__ import annotations

import numpy as np

from tests.engine_helpers import run, yuan_of

FLOUR = {"item": "面粉", "unit": "公斤", "quantity": "25", "unit_value": "4"}  # 100 元
OIL = {"item": "清油", "unit": "升", "quantity": "5", "unit_value": "16"}  # 80 元
DIBAO_TIERS = {"by": "household_size", "steps": [{"max": "1", "cash": "550"}, {"min": "2", "max": "2", "cash": "900"},
                                                 {"min": "3", "cash": "1100"}]}
DIBAO = {"code": "dibao", "name": "低保家庭", "when": {"category": "低保"}, "tiers": DIBAO_TIERS,
         "goods": [FLOUR, OIL]}
SANSHU = {"code": "sanshu", "name": "三属", "when": {"category": "三属"}, "cash": "960"}
YOUFU = {"code": "youfu", "name": "伤残军人", "when": {"category": "伤残军人"}, "cash": "600"}
JUNSHU = {"code": "junshu", "name": "现役军人家属", "when": {"category": "现役军人家属"}, "cash": "300",
          "stacking": "true"}


def test_household_size_tiers() -> None:
    # Sizes 1, 2, 3 and 5 → 550, 900, 1100, 1100 cash, each plus 180 of goods.
    people = [{"hh": "a", "categories": "低保", "size": 1}, {"hh": "b", "categories": "低保", "size": 2},
              {"hh": "c", "categories": "低保", "size": 3}, {"hh": "d", "categories": "低保", "size": 5}]
    a = run(people, [DIBAO])
    assert yuan_of(a) == [730.0, 1080.0, 1280.0, 1280.0]
    assert (a.goods_value == 18000).all()


def test_size_counts_listed_members_when_no_size_given() -> None:
    people = [{"hh": "a", "categories": "低保"}, {"hh": "a", "head": False}, {"hh": "a", "head": False}]
    assert yuan_of(run(people, [DIBAO])) == [1280.0]


def test_several_standards_pay_only_the_highest() -> None:
    # 低保 3-person household (1100 + 180 = 1280) that is also 三属 (960): only 1280 is paid.
    a = run([{"hh": "a", "categories": "低保、三属", "size": 3}], [DIBAO, SANSHU])
    assert yuan_of(a) == [1280.0]
    assert a.paid.tolist() == [[True, False]]


def test_a_stacking_standard_is_added_on_top() -> None:
    # 三属 960 beats 伤残军人 600; 现役军人家属 300 is the plan's exception: 960 + 300 = 1260.
    a = run([{"hh": "a", "categories": "三属、伤残军人、现役军人家属"}], [SANSHU, YOUFU, JUNSHU])
    assert yuan_of(a) == [1260.0]
    assert a.paid.tolist() == [[True, False, True]]


def test_cap_cuts_cash_first() -> None:
    # 1280 (低保, 3 persons) + 300 (军属) = 1580; cap 1500 cuts 80 from the cash: 1320 cash + 180 goods.
    a = run([{"hh": "a", "categories": "低保、现役军人家属", "size": 3}], [DIBAO, JUNSHU], cap="1500")
    assert yuan_of(a) == [1500.0]
    assert a.cash.tolist() == [132000] and a.goods_value.tolist() == [18000] and a.capped.tolist() == [8000]


def test_cap_never_splits_goods() -> None:
    # Goods alone (180) above a cap of 100: cash goes to 0, the goods package stays whole.
    a = run([{"hh": "a", "categories": "低保", "size": 1}], [DIBAO], cap="100")
    assert a.cash.tolist() == [0] and a.goods_value.tolist() == [18000]


def test_goods_once_per_household_with_cash_in_lieu() -> None:
    # 低保对象每人 400 元 + 物资 400 元（面粉 300 + 生活用品 100），2 人以上只发一次物资，其余折现金：
    # two qualifying members → cash 2×400 + 1×400 = 1200, goods 400 once, total 1600; one flour package.
    standard = {"code": "p", "name": "低保对象", "when": {"category": "低保"}, "per": "person", "cash": "400",
                "goods_once": "true",
                "goods": [{"item": "面粉", "unit": "袋", "unit_value": "300"},
                          {"item": "生活用品", "unit": "份", "unit_value": "100"}]}
    people = [{"hh": "a", "categories": "低保"}, {"hh": "a", "categories": "低保", "head": False},
              {"hh": "a", "head": False}, {"hh": "b", "categories": "低保"}]
    a = run(people, [standard])
    assert a.cash.tolist() == [120000, 40000]
    assert a.goods_value.tolist() == [40000, 40000]
    assert a.items[("面粉", "袋")].tolist() == [1000, 1000]  # thousandths: one bag each


def test_age_condition_from_the_id() -> None:
    # Reference date 2027-01-20: born 1947-01-20 is 80 that day, born 1947-01-21 is still 79.
    standard = {"code": "old", "name": "高龄", "when": {"age": {"gte": "80"}}, "per": "person", "cash": "200"}
    people = [{"hh": "a", "birth": "1947-01-20"}, {"hh": "b", "birth": "1947-01-21"}]
    assert yuan_of(run(people, [standard])) == [200.0, 0.0]


def test_fixed_priority_against_highest_value() -> None:
    people = [{"hh": "a", "categories": "三属、伤残军人"}]
    assert yuan_of(run(people, [SANSHU, YOUFU])) == [960.0]
    priority = {"mode": "priority", "order": ["youfu", "sanshu"]}
    assert yuan_of(run(people, [SANSHU, YOUFU], combination=priority)) == [600.0]


def test_ties_go_to_the_standard_declared_first() -> None:
    first = {"code": "x", "name": "甲", "when": {"category": "低保"}, "cash": "500"}
    second = {"code": "y", "name": "乙", "when": {"category": "低保"}, "cash": "500"}
    a = run([{"hh": "a", "categories": "低保"}], [second, first])
    assert a.paid.tolist() == [[True, False]]


def test_pay_everything_mode() -> None:
    a = run([{"hh": "a", "categories": "三属、伤残军人"}], [SANSHU, YOUFU], combination={"mode": "all"})
    assert yuan_of(a) == [1560.0]


def test_per_member_and_grade_tiers() -> None:
    member = {"code": "m", "name": "每口人", "when": {"category": "低保"}, "per": "member", "cash": "100"}
    grades = {"code": "g", "name": "残疾人", "when": {"category": "残疾人"}, "per": "person",
              "tiers": {"by": "disability_grade", "steps": [{"max": "2", "cash": "500"}, {"min": "3", "cash": "200"}]}}
    people = [{"hh": "a", "categories": "低保", "size": 4},
              {"hh": "b", "categories": "残疾人", "grade": 1}, {"hh": "b", "categories": "残疾人", "grade": 3,
                                                                "head": False}]
    a = run(people, [member, grades], combination={"mode": "all"})
    assert yuan_of(a) == [400.0, 700.0]


def test_parent_categories_and_not() -> None:
    # 农村低保 is a 低保; 集中供养特困 is a 特困 but excluded by `not`.
    wubao = {"code": "w", "name": "分散五保", "when": {"all": [{"category": "特困"},
                                                             {"not": {"category": "集中供养特困"}}]}, "cash": "100"}
    people = [{"hh": "a", "categories": "农村低保"}, {"hh": "b", "categories": "特困"},
              {"hh": "c", "categories": "集中供养特困"}]
    a = run(people, [DIBAO, wubao], combination={"mode": "all"})
    assert yuan_of(a) == [730.0, 100.0, 0.0]


def test_numeric_roster_column_threshold() -> None:
    poor = {"code": "i", "name": "低收入", "when": {"column": "家庭人均收入", "lt": "1290"}, "cash": "1000"}
    people = [{"hh": "a", "extra:家庭人均收入": "1289.99"}, {"hh": "b", "extra:家庭人均收入": "1290"},
              {"hh": "c", "extra:家庭人均收入": "不详"}]
    assert yuan_of(run(people, [poor])) == [1000.0, 0.0, 0.0]


def test_money_is_exact() -> None:
    cents = {"code": "c", "name": "零头", "when": {"category": "低保"}, "per": "person", "cash": "0.10"}
    people = [{"hh": "a", "categories": "低保"} for _ in range(3)]
    a = run(people, [cents])
    assert a.cash.tolist() == [30]  # 0.10 × 3 = 0.30 exactly, in fen
    assert np.issubdtype(a.cash.dtype, np.integer)
