"""Invariants of the allocation as properties (issue 14, "Invariants as properties").

Hypothesis generates households (persons with categories, declared sizes, villages) and rules
(1-6 standards with random categories, per household / person / member, cash to the yuan or the
fen, goods, household-size tiers covering 1..∞, stacking flags, packages of 2-3 parts,
combination highest / priority / all with scope household or person, a cap, village quotas).
Every expected amount is computed here, in plain Python over the generated people and the rules
as a dict (:func:`expected`, the oracle), never by calling the engine's internals.

Properties:

1. total = cash + goods value, per household and in sum (cash and goods each checked by an
   independent route: the paid standards' amounts, and the goods quantities times their prices);
2. no household above the cap, unless its goods alone are: then its cash is 0 (goods never split);
3. the combination: under ``highest`` at most one competing standard (or package) per household
   — with ``scope: person`` per person — and one of greatest value; ``priority`` the first that
   applies; ``all`` every one; the amount before the cap equals the oracle's;
4. stacking standards are paid whenever eligible, their full amount (before the cap);
5. a village never exceeds its slots, and the households admitted are those of highest amount;
6. budget totals equal allocation totals (standard lines less the cap cut, package parts, goods,
   villages);
7. a category written by any of its aliases gives identical outputs.

1-5 and 7 run on the pure engine (150 examples each); 5-7 also through real roster workbooks,
``load_rosters`` and ``decide`` (25 examples each).  Deterministic: derandomized, no database.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import make_id, write_xlsx
from tests.engine_helpers import frame
from weiwen import Intake, load_rosters
from weiwen.budget import figures
from weiwen.decision import Decision, decide
from weiwen.engine.amounts import Allocation, allocate
from weiwen.engine.facts import build_population
from weiwen.engine.quota import select
from weiwen.model.vocab import load_vocabulary
from weiwen.rules import LoadedRules
from weiwen.rules.schema import Rules

REF = date(2027, 1, 20)
VOCAB = load_vocabulary()

PURE = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORKBOOK = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# The categories persons hold, and those rules name (parents included).  The parents are written
# out here, not taken from the vocabulary: test_parents_as_the_vocabulary_says checks they agree.
PERSON_CATEGORIES = ("城市低保", "农村低保", "低保", "三属", "伤残军人", "现役军人家属", "特困", "残疾人", "三无人员")
RULE_CATEGORIES = ("低保", "城市低保", "农村低保", "优抚对象", "三属", "伤残军人", "现役军人家属", "特困", "残疾人", "三无人员")
PARENT = {"城市低保": "低保", "农村低保": "低保", "三属": "优抚对象", "伤残军人": "优抚对象"}
VILLAGES = ("张庄村", "李家湾村", "王家村")
ITEMS = (("面粉", "公斤"), ("清油", "升"), ("大米", "公斤"), ("生活用品", "份"))
# quantity × price is always whole fen: halves times tenths of a yuan
QUANTITIES = ("1", "2", "2.5", "5", "12.5", "25")
# Every alias of each category, as the vocabulary knows them (keys of category_index)
ALIASES = {c: sorted(k for k, v in VOCAB.category_index.items() if v == c) for c in RULE_CATEGORIES}


def ancestors(category: str) -> set[str]:
    out = {category}
    while category in PARENT:
        category = PARENT[category]
        out.add(category)
    return out


def fen(amount: str | Decimal) -> int:
    value = Decimal(str(amount)) * 100
    q = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert q == value, f"{amount} is not whole fen"
    return int(q)


# --- generated households --------------------------------------------------------------------
# Strategies are built once, at import: building them inside every draw costs more than the engine.

@dataclass(frozen=True)
class Household:
    number: str  # 户号, unique over the whole roster
    village: str
    declared: int | None  # 人口数 as written, None when blank
    persons: tuple[tuple[str, ...], ...]  # each person's categories (canonical)

    @property
    def size(self) -> int:
        return max(self.declared or 0, len(self.persons))

    def expanded(self) -> list[set[str]]:
        """Each person's categories with every parent (what a condition on a category matches)."""
        return [set().union(*(ancestors(c) for c in p)) if p else set() for p in self.persons]


PERSON = st.sets(st.sampled_from(PERSON_CATEGORIES), max_size=2).map(
    lambda cats: tuple(sorted(cats, key=PERSON_CATEGORIES.index)))
HOUSEHOLD = st.tuples(st.sampled_from(VILLAGES), st.lists(PERSON, min_size=1, max_size=4), st.integers(0, 3),
                      st.booleans())


@st.composite
def households(draw: Any, max_households: int = 8) -> list[Household]:
    out = []
    for h, (village, persons, more, declared) in enumerate(draw(st.lists(HOUSEHOLD, min_size=1,
                                                                            max_size=max_households))):
        out.append(Household(str(h + 1), village, len(persons) + more if declared else None, tuple(persons)))
    return out


# --- generated rules ---------------------------------------------------------------------------

def money(hi: int = 2000) -> st.SearchStrategy[str]:
    """Yuan, whole or with fen, as a rules file writes it."""
    return st.one_of(st.integers(0, hi).map(str), st.integers(0, hi * 100).map(lambda f: f"{f // 100}.{f % 100:02d}"))


MONEY = money()
CAP = money(3000)
PRICE = st.integers(1, 2000).map(lambda k: f"{k // 10}.{k % 10}")  # 0.1 to 200.0 yuan
LEAF = st.lists(st.sampled_from(RULE_CATEGORIES), min_size=1, max_size=2, unique=True).map(lambda c: {"category": c})
CONDITION = st.one_of(
    LEAF, LEAF, LEAF,
    LEAF.map(lambda c: {"not": c}),
    st.lists(LEAF, min_size=2, max_size=2).map(lambda cs: {"all": cs}),
    st.lists(st.one_of(LEAF, LEAF.map(lambda c: {"not": c})), min_size=2, max_size=2).map(lambda cs: {"any": cs}),
)
GOODS = st.lists(st.tuples(st.sampled_from(ITEMS), st.sampled_from(QUANTITIES)), max_size=3,
                 unique_by=lambda g: g[0])
CUTS = st.sets(st.integers(2, 6), max_size=3)
PER = st.sampled_from(("household", "person", "member"))
ONE_IN_3 = st.integers(0, 2).map(lambda k: k == 0)
ONE_IN_4 = st.integers(0, 3).map(lambda k: k == 0)
TIER_HAS = st.sampled_from(("cash", "goods", "both"))


def draw_goods(draw: Any, prices: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    return [{"item": i, "unit": u, "quantity": q, "unit_value": prices[(i, u)]} for (i, u), q in draw(GOODS)]


def draw_tiers(draw: Any, prices: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Steps by household size that cover 1..∞ without gaps or overlaps, in any order."""
    bounds = [1, *sorted(draw(CUTS))]
    steps = []
    for k, lo in enumerate(bounds):
        step: dict[str, Any] = {}
        if lo > 1 or draw(st.booleans()):
            step["min"] = lo
        if k + 1 < len(bounds):
            step["max"] = bounds[k + 1] - 1
        what = draw(TIER_HAS)
        if what != "goods":
            step["cash"] = draw(MONEY)
        if what != "cash":
            step["goods"] = draw_goods(draw, prices)  # may be []: no goods in this step
        steps.append(step)
    return {"by": "household_size", "steps": draw(st.permutations(steps))}


def draw_payable(draw: Any, prices: dict[tuple[str, str], str], person_only: bool) -> dict[str, Any]:
    per = "person" if person_only else draw(PER)
    d: dict[str, Any] = {"per": per, "cash": draw(MONEY)}
    if draw(st.booleans()):
        d["goods"] = draw_goods(draw, prices)
    if per != "member" and draw(ONE_IN_3):
        d["tiers"] = draw_tiers(draw, prices)
    if per == "person" and not person_only and draw(st.booleans()):
        d["goods_once"] = True
    return d


def draw_standard(draw: Any, i: int, prices: dict[tuple[str, str], str], scope: str,
                  person_packages: bool) -> dict[str, Any]:
    stacking = draw(ONE_IN_4)
    # scope person: every competing standard is paid per person, without goods_once (the schema's rule)
    person_only = scope == "person" and not stacking
    s: dict[str, Any] = {"code": f"s{i}", "name": f"标准{i}", "when": draw(CONDITION)}
    if stacking:
        s["stacking"] = True
    if draw(st.booleans() if person_only and person_packages else ONE_IN_4):  # a package of 2-3 parts
        parts = []
        for k in range(draw(st.integers(2, 3))):
            part = draw_payable(draw, prices, person_only)
            part["name"] = f"部分{k}"
            if draw(st.booleans()):
                part["when"] = draw(CONDITION)
            parts.append(part)
        s["parts"] = parts
    else:
        s.update(draw_payable(draw, prices, person_only))
    return s


@st.composite
def rules_docs(draw: Any, scope: str | None = None, person_packages: bool = False) -> dict[str, Any]:
    """person_packages: under scope person, one competing standard in two is a package (else one in four)."""
    scope = scope or draw(st.sampled_from(("household", "person")))
    mode = draw(st.sampled_from(("highest", "priority", "all")))
    prices = {key: draw(PRICE) for key in ITEMS}  # one price per item: the budget values goods by it
    standards = [draw_standard(draw, i, prices, scope, person_packages) for i in range(draw(st.integers(1, 6)))]
    combination: dict[str, Any] = {"mode": mode, "scope": scope}
    if mode == "priority" and draw(st.booleans()):
        codes = draw(st.permutations([s["code"] for s in standards]))
        combination["order"] = codes[:draw(st.integers(1, len(codes)))]
    doc: dict[str, Any] = {"campaign": {"name": "生成的活动", "code": "gen", "reference_date": REF.isoformat()},
                           "combination": combination, "standards": standards}
    if draw(st.booleans()):
        doc["cap"] = draw(CAP)
    if draw(st.booleans()):
        villages = draw(st.lists(st.sampled_from(VILLAGES), min_size=1, max_size=3, unique=True))
        doc["quotas"] = {"by": "village", "slots": {v: draw(st.integers(0, 3)) for v in villages}}
    return doc


HOUSEHOLDS = households()
RULES = rules_docs()
RULES_PERSON_PACKAGES = rules_docs(scope="person", person_packages=True)
SLOTS = st.dictionaries(st.sampled_from(VILLAGES), st.integers(0, 4), min_size=1)


def validated(doc: dict[str, Any]) -> Rules:
    return Rules.model_validate(doc)


# --- the oracle: what the plan pays, computed by hand ---------------------------------------

def holds(cond: dict[str, Any], cats: set[str]) -> bool:
    if "category" in cond:
        return bool(set(cond["category"]) & cats)
    if "all" in cond:
        return all(holds(c, cats) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, cats) for c in cond["any"])
    return not holds(cond["not"], cats)


def goods_fen(items: list[dict[str, str]]) -> int:
    return sum(fen(Decimal(g["quantity"]) * Decimal(g["unit_value"])) for g in items)


def pieces(s: dict[str, Any]) -> list[dict[str, Any]]:
    return s.get("parts") or [s]


def amounts(piece: dict[str, Any], size: int) -> tuple[int, int]:
    """Cash and goods value (fen) of one unit of ``piece`` for a household of ``size`` persons."""
    cash, items = piece.get("cash", "0"), piece.get("goods", [])
    if "tiers" in piece:
        step = [t for t in piece["tiers"]["steps"]
                if t.get("min", -10**9) <= size <= t.get("max", 10**9)]
        assert len(step) == 1, "the generated tiers cover every size once"
        cash, items = step[0].get("cash", cash), step[0].get("goods", items)
    return fen(cash), goods_fen(items)


def in_piece(s: dict[str, Any], piece: dict[str, Any], cats: set[str]) -> bool:
    return holds(s["when"], cats) and ("when" not in piece or holds(piece["when"], cats))


@dataclass(frozen=True)
class Pay:
    applies: bool
    cash: int
    goods: int

    @property
    def value(self) -> int:
        return self.cash + self.goods


def standard_pay(s: dict[str, Any], hh: Household) -> Pay:
    """What standard ``s`` would pay household ``hh`` on its own (a package: the sum of its parts)."""
    people = hh.expanded()
    applies, cash, goods = False, 0, 0
    for piece in pieces(s):
        q = sum(in_piece(s, piece, cats) for cats in people)
        if q == 0:
            continue
        applies = True
        c, g = amounts(piece, hh.size)
        per = piece.get("per", "household")
        if per == "household":
            cash, goods = cash + c, goods + g
        elif per == "member":
            cash, goods = cash + hh.size * c, goods + hh.size * g
        elif piece.get("goods_once"):  # the goods once, their value in cash for every further person
            cash, goods = cash + q * c + (q - 1) * g, goods + g
        else:
            cash, goods = cash + q * c, goods + q * g
    return Pay(applies, cash, goods)


def person_value(s: dict[str, Any], cats: set[str], size: int) -> int | None:
    """What ``s`` pays one person (scope person: every piece is per person); None: not eligible."""
    value, eligible = 0, False
    for piece in pieces(s):
        if in_piece(s, piece, cats):
            c, g = amounts(piece, size)
            value, eligible = value + c + g, True
    return value if eligible else None


def priority_order(doc: dict[str, Any], competing: list[int]) -> list[int]:
    codes = [s["code"] for s in doc["standards"]]
    listed = [codes.index(c) for c in doc["combination"].get("order") or []]
    listed = [i for i in listed if i in competing]
    return listed + [i for i in competing if i not in listed]


@dataclass(frozen=True)
class Expected:
    pays: list[Pay]  # every standard on its own
    competing_total: int  # what the competing standards pay together (before the cap)
    competing_persons: int  # scope person: persons eligible for some competing standard
    stacking_total: int

    @property
    def total(self) -> int:
        return self.competing_total + self.stacking_total


def expected(doc: dict[str, Any], hh: Household) -> Expected:
    standards = doc["standards"]
    pays = [standard_pay(s, hh) for s in standards]
    stacking = sum(p.value for s, p in zip(standards, pays) if s.get("stacking") and p.applies)
    competing = [i for i, s in enumerate(standards) if not s.get("stacking")]
    mode, scope = doc["combination"]["mode"], doc["combination"]["scope"]
    order = priority_order(doc, competing) if mode == "priority" else competing
    persons = 0
    if mode == "all":
        total = sum(pays[i].value for i in competing if pays[i].applies)
    elif scope == "person":
        total = 0
        for cats in hh.expanded():
            values = [v for i in order if (v := person_value(standards[i], cats, hh.size)) is not None]
            if values:
                persons += 1
                total += max(values) if mode == "highest" else values[0]
    else:
        values = [pays[i].value for i in order if pays[i].applies]
        total = (max(values) if mode == "highest" else values[0]) if values else 0
    return Expected(pays, total, persons, stacking)


# --- running the engine --------------------------------------------------------------------

def people(hhs: list[Household]) -> list[dict[str, Any]]:
    return [{"hh": hh.number, "village": hh.village, "size": hh.declared, "head": k == 0,
             "categories": "、".join(p)} for hh in hhs for k, p in enumerate(hh.persons)]


def run_engine(hhs: list[Household], doc: dict[str, Any]) -> Allocation:
    pop = build_population(frame(people(hhs)), VOCAB, REF)
    assert pop.households["household_no"].tolist() == [hh.number for hh in hhs]
    assert pop.size.tolist() == [hh.size for hh in hhs]
    return allocate(pop, validated(doc))


def competing_indices(doc: dict[str, Any]) -> list[int]:
    return [i for i, s in enumerate(doc["standards"]) if not s.get("stacking")]


def precap(alloc: Allocation) -> np.ndarray:
    return alloc.cash + alloc.capped + alloc.goods_value


# --- 1. total = cash + goods value ----------------------------------------------------------

@PURE
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_total_is_cash_plus_goods(hhs: list[Household], doc: dict[str, Any]) -> None:
    alloc = run_engine(hhs, doc)
    n = len(alloc.outcomes)
    paid_cash = sum((alloc.paid_outcome(j).cash for j in range(n)), np.zeros(len(hhs), np.int64))
    paid_goods = sum((alloc.paid_outcome(j).goods_value for j in range(n)), np.zeros(len(hhs), np.int64))
    steps = [t for s in doc["standards"] for piece in pieces(s) for t in piece.get("tiers", {}).get("steps", [])]
    listed = [piece.get("goods", []) for s in doc["standards"] for piece in pieces(s)]
    listed += [t.get("goods", []) for t in steps]
    prices = {(g["item"], g["unit"]): Decimal(g["unit_value"]) for items in listed for g in items}
    for h, hh in enumerate(hhs):
        want = expected(doc, hh)
        # cash: what the paid standards pay, less the cap's cut; goods: what they give, and the
        # quantities handed over times their prices
        assert alloc.cash[h] == paid_cash[h] - alloc.capped[h], (h, hh)
        assert alloc.goods_value[h] == paid_goods[h], (h, hh)
        by_items = sum(Decimal(int(q[h])) / 1000 * prices[key] for key, q in alloc.items.items())
        assert alloc.goods_value[h] == fen(by_items), (h, hh, {k: int(q[h]) for k, q in alloc.items.items()})
        assert alloc.total[h] == alloc.cash[h] + alloc.goods_value[h]
        assert alloc.total[h] + alloc.capped[h] == want.total, (h, hh, want)
    assert int(alloc.total.sum()) == int(alloc.cash.sum()) + int(alloc.goods_value.sum())
    assert int(alloc.total.sum()) + int(alloc.capped.sum()) == sum(expected(doc, hh).total for hh in hhs)


# --- 2. the cap ---------------------------------------------------------------------------

@PURE
@given(hhs=HOUSEHOLDS, doc=RULES, cap=CAP)
def test_no_household_above_the_cap(hhs: list[Household], doc: dict[str, Any], cap: str) -> None:
    doc = dict(doc, cap=cap)
    alloc = run_engine(hhs, doc)
    limit = fen(cap)
    for h, hh in enumerate(hhs):
        before = expected(doc, hh).total
        goods = int(alloc.goods_value[h])
        if goods > limit:  # goods are never split: the cash goes, the goods stay
            assert alloc.cash[h] == 0, (h, hh)
            assert alloc.total[h] == goods
        else:
            assert alloc.total[h] <= limit, (h, hh)
            assert alloc.total[h] == min(before, limit), (h, hh)  # cut to the cap, no further
        assert alloc.capped[h] == before - alloc.total[h]
        assert alloc.cash[h] >= 0


@PURE
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_without_a_cap_nothing_is_cut(hhs: list[Household], doc: dict[str, Any]) -> None:
    doc = {k: v for k, v in doc.items() if k != "cap"}
    alloc = run_engine(hhs, doc)
    assert not alloc.capped.any()
    assert alloc.total.tolist() == [expected(doc, hh).total for hh in hhs]


# --- 3. the combination --------------------------------------------------------------------

@PURE
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_highest_pays_one_of_greatest_value(hhs: list[Household], doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(doc)
    doc["combination"] = {"mode": "highest", "scope": doc["combination"]["scope"]}
    alloc = run_engine(hhs, doc)
    competing = competing_indices(doc)
    for h, hh in enumerate(hhs):
        want = expected(doc, hh)
        got_value = sum(int(alloc.paid_outcome(j).value[h]) for j in competing)
        if doc["combination"]["scope"] == "household":
            paid = [j for j in competing if alloc.paid[h, j]]
            applying = [want.pays[j].value for j in competing if want.pays[j].applies]
            assert len(paid) == (1 if applying else 0), (h, hh, paid)
            if paid:
                assert want.pays[paid[0]].applies
                assert want.pays[paid[0]].value == max(applying), (h, hh, paid, applying)
                assert got_value == max(applying)
        else:
            # each person is paid at most one competing standard: the units paid are the persons
            units = sum(int(alloc.paid_outcome(j).units[h]) for j in competing)
            assert units == want.competing_persons, (h, hh, units)
            assert got_value == want.competing_total, (h, hh, got_value, want)


@PURE
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_every_mode_pays_what_the_plan_says(hhs: list[Household], doc: dict[str, Any]) -> None:
    alloc = run_engine(hhs, doc)
    competing = competing_indices(doc)
    mode, scope = doc["combination"]["mode"], doc["combination"]["scope"]
    for h, hh in enumerate(hhs):
        want = expected(doc, hh)
        got = sum(int(alloc.paid_outcome(j).value[h]) for j in competing)
        assert got == want.competing_total, (h, hh, got, want)
        paid = [j for j in competing if alloc.paid[h, j]]
        if mode == "all":
            assert paid == [j for j in competing if want.pays[j].applies]
        elif mode == "priority" and scope == "household":
            first = [j for j in priority_order(doc, competing) if want.pays[j].applies][:1]
            assert paid == first, (h, hh, paid, first)
        elif scope == "household":
            assert len(paid) <= 1


# --- 4. stacking standards -----------------------------------------------------------------

@PURE
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_stacking_paid_whenever_eligible(hhs: list[Household], doc: dict[str, Any]) -> None:
    alloc = run_engine(hhs, doc)
    for j, s in enumerate(doc["standards"]):
        if not s.get("stacking"):
            continue
        got = alloc.paid_outcome(j)
        for h, hh in enumerate(hhs):
            want = standard_pay(s, hh)
            assert bool(alloc.paid[h, j]) == want.applies, (s["code"], h, hh)
            assert (int(got.cash[h]), int(got.goods_value[h])) == ((want.cash, want.goods) if want.applies else (0, 0))


# --- 5. village quotas (pure) --------------------------------------------------------------

def check_slots(village: list[str], total: list[int], admitted: list[bool], qualified: list[bool],
                slots: dict[str, int]) -> None:
    for v in VILLAGES:
        mine = [k for k, x in enumerate(village) if x == v and qualified[k]]
        inside = [k for k in mine if admitted[k]]
        outside = [k for k in mine if not admitted[k]]
        limit = slots.get(v)
        if limit is None:
            assert not outside, (v, outside)
            continue
        assert len(inside) <= limit, (v, inside, limit)
        assert len(inside) == min(limit, len(mine)), (v, inside, mine)  # no slot left empty
        if inside and outside:  # the highest amounts are admitted
            assert min(total[k] for k in inside) >= max(total[k] for k in outside), (v, total)


@PURE
@given(hhs=HOUSEHOLDS, doc=RULES, slots=SLOTS)
def test_village_never_exceeds_its_slots(hhs: list[Household], doc: dict[str, Any], slots: dict[str, int]) -> None:
    doc = dict(doc, quotas={"by": "village", "slots": slots})
    alloc = run_engine(hhs, doc)
    rules = alloc.rules
    assert rules.quotas is not None
    over = select(alloc, rules.quotas, np.zeros(len(hhs), dtype=bool))
    qualified = [any(p.applies for p in expected(doc, hh).pays) for hh in hhs]
    assert alloc.aided.tolist() == qualified
    assert not (over & ~alloc.aided).any()
    check_slots([hh.village for hh in hhs], alloc.total.tolist(), (alloc.aided & ~over).tolist(), qualified, slots)


# --- aliases, on the pure engine -------------------------------------------------------------

ALIAS_OF = {c: st.sampled_from(names) for c, names in ALIASES.items()}


def aliased(doc: dict[str, Any], draw: Any) -> dict[str, Any]:
    """``doc`` with every category of every condition written by a random alias of it."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: ([draw(ALIAS_OF[c]) for c in v] if k == "category" else walk(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node
    return walk(doc)


def loaded(doc: dict[str, Any]) -> LoadedRules:
    return LoadedRules(rules=validated(doc), path=Path("生成.yaml"), digest="0" * 64, excluded_ids=frozenset())


# --- 5-7 through real roster workbooks --------------------------------------------------------

HEADERS = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "建国秀英明华丽军芳强"


def roster_rows(hhs: list[Household]) -> list[list[object]]:
    rows: list[list[object]] = [HEADERS]
    seq = 0
    for hh in hhs:
        for k, cats in enumerate(hh.persons):
            rows.append([hh.village, hh.number, SURNAMES[seq % 10] + GIVEN[seq // 10 % 10] + GIVEN[seq % 7],
                         make_id("110101", "19600101", f"{seq + 1:03d}"), "户主" if k == 0 else "子女",
                         "、".join(cats), hh.declared if hh.declared is not None else ""])
            seq += 1
    return rows


def intake_of(hhs: list[Household]) -> Intake:
    with tempfile.TemporaryDirectory() as tmp:
        roster = write_xlsx(Path(tmp) / "花名册.xlsx", roster_rows(hhs))
        intake = load_rosters([roster], vocab=VOCAB, today=REF)
    assert not intake.errors, [p.message for p in intake.errors]
    return intake


def table_by_number(d: Decision) -> dict[str, dict[str, Any]]:
    return {str(r["household_no"]): r for r in d.table.to_dict("records")}


@WORKBOOK
@given(hhs=HOUSEHOLDS, doc=RULES, slots=SLOTS)
def test_village_never_exceeds_its_slots_in_decide(hhs: list[Household], doc: dict[str, Any],
                                                   slots: dict[str, int]) -> None:
    doc = dict(doc, quotas={"by": "village", "slots": slots})
    d = decide(intake_of(hhs), loaded(doc), VOCAB)
    rows = table_by_number(d)
    over_amounts = {x.row: x.amount_fen for x in d.left_out if x.kind == "超出名额"}  # by the head's row
    # the roster row of each household's head (its first person): 2 + the persons listed before it
    head_row, r = {}, 2
    for hh in hhs:
        head_row[hh.number] = r
        r += len(hh.persons)
    qualified = [any(p.applies for p in expected(doc, hh).pays) for hh in hhs]
    admitted = [hh.number in rows for hh in hhs]
    for k, hh in enumerate(hhs):
        assert not admitted[k] or qualified[k], hh
        if qualified[k] and not admitted[k]:
            assert head_row[hh.number] in over_amounts, (hh, d.left_out)
    total = [int(rows[hh.number]["total_fen"]) if admitted[k] else over_amounts.get(head_row[hh.number], -1)
             for k, hh in enumerate(hhs)]
    check_slots([hh.village for hh in hhs], total, admitted, qualified, slots)
    for v, limit in slots.items():
        assert sum(1 for row in rows.values() if row["village"] == v) <= limit


# --- 6. budget totals equal allocation totals ---------------------------------------------------

def budget_agrees(hhs: list[Household], doc: dict[str, Any]) -> None:
    d = decide(intake_of(hhs), loaded(doc), VOCAB)
    b = figures(d)
    t = d.table
    assert b.total == d.total
    assert b.cash == d.cash and b.goods_value == d.goods_value
    assert d.total == Decimal(int(t["total_fen"].sum()) if len(t) else 0) / 100
    assert (t["total_fen"] == t["cash_fen"] + t["goods_fen"]).all()
    # the standard lines, less the cap's cut, are the total (cash and goods each)
    assert sum((line.total for line in b.standards), Decimal(0)) - b.cap_cut == d.total
    assert sum((line.cash for line in b.standards), Decimal(0)) - b.cap_cut == d.cash
    assert sum((line.goods_value for line in b.standards), Decimal(0)) == d.goods_value
    assert b.cap_cut == Decimal(int(t["capped_fen"].sum()) if len(t) else 0) / 100
    # a package's parts add up to its line
    for s, line in zip(doc["standards"], b.standards, strict=True):
        if "parts" in s and line.households:
            assert [p.name for p in line.parts] == [p["name"] for p in s["parts"]], (s["code"], line)
            assert sum((p.cash for p in line.parts), Decimal(0)) == line.cash, (s["code"], line)
            assert sum((p.goods_value for p in line.parts), Decimal(0)) == line.goods_value, (s["code"], line)
    # the goods to buy are worth the goods handed out; the villages add up to the total
    assert sum((g.value for g in b.goods), Decimal(0)) == d.goods_value, b.goods
    assert sum((c + g for *_, c, g in b.villages), Decimal(0)) == d.total
    # the decision's own lines (the JSON summary) agree with the budget's
    lines = {code: line for code, line in d.by_standard.items() if not code.startswith("_")}
    assert [Decimal(str(lines[s.code]["total"])) for s in b.standards] == [s.total for s in b.standards]
    # and the households' amounts are what the plan says (before the cap)
    rows = table_by_number(d)
    for hh in hhs:
        if hh.number in rows:
            row = rows[hh.number]
            assert int(row["total_fen"]) + int(row["capped_fen"]) == expected(doc, hh).total, (hh, row)


@WORKBOOK
@given(hhs=HOUSEHOLDS, doc=RULES)
def test_budget_totals_equal_allocation_totals(hhs: list[Household], doc: dict[str, Any]) -> None:
    budget_agrees(hhs, doc)


PERSON_PACKAGE = {
    "campaign": {"name": "生成的活动", "code": "gen", "reference_date": REF.isoformat()},
    "combination": {"mode": "highest", "scope": "person"},
    "standards": [{"code": "dibao", "name": "低保", "when": {"category": ["低保"]}, "parts": [
        {"name": "生活补助", "per": "person", "cash": "400"},
        {"name": "物资", "per": "person",
         "goods": [{"item": "面粉", "unit": "公斤", "quantity": "25", "unit_value": "4"}]}]}],
}


@WORKBOOK
@example(hhs=[Household("1", "张庄村", None, (("低保",),))], doc=PERSON_PACKAGE)
@given(hhs=HOUSEHOLDS, doc=RULES_PERSON_PACKAGES)
def test_budget_of_packages_under_person_scope(hhs: list[Household], doc: dict[str, Any]) -> None:
    """Competing packages under scope person, more often than RULES makes them.  The example is the
    smallest that crashed decide() at 0da3284 (ValueError: a package paid per person had an outcome
    without parts, and the 核定依据 stacked its parts' amounts)."""
    budget_agrees(hhs, doc)


# --- 7. aliases -----------------------------------------------------------------------------

@PURE
@given(hhs=HOUSEHOLDS, doc=RULES, data=st.data())
def test_aliases_change_nothing_in_the_engine(hhs: list[Household], doc: dict[str, Any], data: st.DataObject) -> None:
    from weiwen.rules.lint import resolve

    other = aliased(doc, data.draw)
    a = run_engine(hhs, doc)
    b = allocate(build_population(frame(people(hhs)), VOCAB, REF), resolve(loaded(other), VOCAB).rules)
    assert b.total.tolist() == a.total.tolist()
    assert b.cash.tolist() == a.cash.tolist()
    assert b.paid.tolist() == a.paid.tolist()


@WORKBOOK
@given(hhs=HOUSEHOLDS, doc=RULES, data=st.data())
def test_aliases_give_identical_outputs(hhs: list[Household], doc: dict[str, Any], data: st.DataObject) -> None:
    other = aliased(doc, data.draw)
    intake = intake_of(hhs)
    a = decide(intake, loaded(doc), VOCAB)
    b = decide(intake, loaded(other), VOCAB)
    pd.testing.assert_frame_equal(b.table, a.table)
    assert b.by_standard == a.by_standard
    assert b.by_village == a.by_village
    assert b.total == a.total
    assert b.persons_aided == a.persons_aided
    assert [(x.kind, x.row, x.reason) for x in b.left_out] == [(x.kind, x.row, x.reason) for x in a.left_out]


# --- the generators themselves ------------------------------------------------------------------

def test_parents_as_the_vocabulary_says() -> None:
    for c in RULE_CATEGORIES:
        assert set(VOCAB.ancestors(c)) == ancestors(c), c
        assert c in ALIASES[c] and len(ALIASES[c]) >= 2, c


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(doc=RULES)
def test_generated_rules_are_valid(doc: dict[str, Any]) -> None:
    validated(doc)
    assert 1 <= len(doc["standards"]) <= 6
