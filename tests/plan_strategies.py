"""Hypothesis strategies for whole campaign plans (:class:`weiwen.rules.schema.Rules`).

``plans()`` draws small, valid, varied plans that reach every feature of the rules schema while
staying inside what the spreadsheet form of a plan can express:

* texts used as values in conditions and as names (categories, villages, townships, relations,
  column names and values, split parts, quota villages, package part names, standard names) never
  contain the separators 、，,;；()（）【】[]「」=＝<>＜＞≤≥ nor 且 或 非, are never blank, never
  padded with whitespace and never purely numeric;
* a numeric comparison (``Range`` or a column condition) is ``eq`` alone, or at most one lower
  bound (gt or gte) and at most one upper bound (lt or lte), lower < upper, bounds integers or
  numbers with two decimals;
* a column condition is exactly one of ``equals``, ``in`` (two or more texts) or numeric bounds;
* condition trees are at most three levels deep; no nan / inf anywhere.

Every plan is built as a plain dict (the keys of a rules file) and returned as
``Rules.model_validate(d)``; construction, never filtering, keeps the validators satisfied.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st

from weiwen.rules.schema import Condition, Range, Rules

__all__ = ["SAFE_CHARS", "conditions", "features", "money", "plan_dicts", "plans", "safe_text"]

# CJK characters safe in any name or condition value: no separators, no 且/或/非, no numerals
# (一二三… count as numeric), no sex, and none of the words a cell might read as a comparison
# (以上、以下、不、至、岁、级、人、户).
SAFE_CHARS = "李王张刘陈杨赵黄周吴家湾村镇乡坪沟河山林桥园庄屯寨坝岭峰溪塘田花春新福安"

CATEGORIES = ["低保", "特困", "三属", "残疾人", "现役军人家属", "孤儿", "事实无人抚养儿童", "优抚对象",
              "低保边缘", "困难职工", "重度残疾人", "五保"]
VILLAGES = ["李家湾村", "王家坪村", "春华村", "大鱼村", "新庄村", "河口村", "东风社区"]
TOWNSHIPS = ["城关镇", "大鱼乡", "春华镇", "河口乡"]
RELATIONS = ["户主", "配偶", "子女", "父母", "孙子女", "兄弟姐妹", "儿媳", "女婿"]
COLUMNS = ["家庭人均收入", "困难原因", "上年已慰问", "点上慰问", "月收入", "救助类别"]
COLUMN_VALUES = ["是", "否", "因病", "因残", "因学", "因灾", "重点户", "缺劳力"]
STANDARD_NAMES = ["低保户春节慰问", "特困供养人员慰问", "重度残疾人慰问", "高龄老人慰问", "三属人员慰问",
                  "孤儿慰问", "困难党员慰问", "现役军人家属慰问"]
PART_NAMES = ["慰问金", "物资", "老人部分", "儿童部分", "残疾人部分", "粮油"]
SPLIT_PARTS = ["大鱼片", "春华片", "河口片", "城关片", "山区片"]
CODES_ASCII = ["dibao", "tekun", "sanshu", "canji", "gaoling", "guer", "dangyuan", "junshu"]
CODES_CJK = ["低保", "特困", "三属", "残疾", "高龄", "孤儿"]
GOODS_ITEMS = ["面粉", "清油", "大米", "生活用品", "慰问品"]
GOODS_UNITS = ["公斤", "升", "袋", "份"]
NOTES = ["", "按户发放", "另发慰问信一封", "县民政局〔2026〕3号文第二条", "物资由乡镇统一采购，村委会发放",
         "含春节、元宵两节"]
STEPS = ["validate", "duplicates", "allocate", "budget"]

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def safe_text(pool: list[str] | tuple[str, ...]) -> st.SearchStrategy[str]:
    """A realistic name from ``pool``, or 1-6 characters of :data:`SAFE_CHARS`."""
    return _safe_text(tuple(pool))


@cache
def _safe_text(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(pool), st.text(alphabet=SAFE_CHARS, min_size=1, max_size=6))


def _names(pool: list[str], min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[str]]:
    return _names_cached(tuple(pool), min_size, max_size)


@cache
def _names_cached(pool: tuple[str, ...], min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(safe_text(pool), min_size=min_size, max_size=max_size, unique=True)


def _cents(n: int) -> Decimal:
    """``n`` hundredths as a Decimal with no trailing zeros (an integer when whole)."""
    return Decimal(n // 100) if n % 100 == 0 else Decimal(n) / 100


@cache
def money(max_yuan: int = 5000) -> st.SearchStrategy[Decimal]:
    """Amounts >= 0 to the fen: mostly whole yuan, some like 4.8 or 1290.55."""
    return st.one_of(
        st.integers(0, max_yuan).map(Decimal),
        st.integers(0, max_yuan * 100).map(_cents),
        st.sampled_from([Decimal("4.8"), Decimal("1290.55"), Decimal("0.01"), Decimal("99.9")]),
    )


QUANTITY = st.one_of(
    st.sampled_from([Decimal(25), Decimal("2.5"), Decimal(5), Decimal(10), Decimal(1)]),
    st.integers(1, 50).map(Decimal),
    st.integers(1, 50_000).map(lambda n: Decimal(n) / 1000),  # up to three decimals
)

GOODS_ITEM = st.builds(
    lambda item, unit, quantity, unit_value: {"item": item, "unit": unit, "quantity": quantity,
                                              "unit_value": unit_value},
    st.sampled_from(GOODS_ITEMS), st.sampled_from(GOODS_UNITS), QUANTITY, money(300),
)
GOODS = st.lists(GOODS_ITEM, min_size=1, max_size=3)


# -- conditions ---------------------------------------------------------------------------------

@st.composite
def _bounds(draw: st.DrawFn, lo: int, hi: int, decimals: bool, eq: bool = True) -> dict[str, Decimal]:
    """``eq`` alone (when allowed), or a lower and/or an upper bound (lower < upper), values in [lo, hi]."""
    scale = 100 if decimals and draw(st.booleans()) else 1

    def value(n: int) -> Decimal:
        return _cents(n) if scale == 100 else Decimal(n)

    shape = draw(st.sampled_from(["eq", "lower", "upper", "both"] if eq else ["lower", "upper", "both"]))
    if shape == "eq":
        return {"eq": value(draw(st.integers(lo * scale, hi * scale)))}
    if shape == "both":
        a, b = draw(st.lists(st.integers(lo * scale, hi * scale), min_size=2, max_size=2, unique=True))
        low, high = sorted((a, b))
        return {draw(st.sampled_from(["gt", "gte"])): value(low), draw(st.sampled_from(["lt", "lte"])): value(high)}
    key = draw(st.sampled_from(["gt", "gte"] if shape == "lower" else ["lt", "lte"]))
    return {key: value(draw(st.integers(lo * scale, hi * scale)))}


RANGE_DOMAINS = {"age": (0, 100), "disability_grade": (1, 4), "household_size": (1, 10)}


@st.composite
def _leaf(draw: st.DrawFn, categories: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds or ("category", "age", "sex", "disability_grade", "household_size", "village",
                                          "township", "relation", "column")))
    if kind == "listed":
        return {"listed": True}
    if kind == "category":
        return {"category": draw(_names(list(categories) + CATEGORIES))}
    if kind in RANGE_DOMAINS:
        lo, hi = RANGE_DOMAINS[kind]
        return {kind: draw(_bounds(lo, hi, decimals=kind == "age"))}
    if kind == "sex":
        return {"sex": draw(st.sampled_from(["男", "女"]))}
    if kind in ("village", "township", "relation"):
        pool = {"village": VILLAGES, "township": TOWNSHIPS, "relation": RELATIONS}[kind]
        return {kind: draw(_names(pool))}
    column = draw(safe_text(COLUMNS))
    how = draw(st.sampled_from(["equals", "in", "numeric"]))
    if how == "equals":
        return {"column": column, "equals": draw(safe_text(COLUMN_VALUES))}
    if how == "in":
        return {"column": column, "in": draw(_names(COLUMN_VALUES, min_size=2, max_size=3))}
    return {"column": column, **draw(_bounds(0, 20_000, decimals=True, eq=False))}  # a column has no eq


@cache
def conditions(depth: int = 3, categories: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """A condition tree (as a dict) at most ``depth`` levels deep; ``kinds``: only these leaf kinds
    (a unit list's or an event roster's; empty: any)."""
    leaf = _leaf(categories, kinds)  # kinds: a unit list's or an event roster's (schema.UNIT_CONDITIONS …)
    if depth <= 1:
        return leaf
    sub = conditions(depth - 1, categories, kinds)
    return st.one_of(
        leaf, leaf,
        st.lists(sub, min_size=2, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(sub, min_size=2, max_size=3).map(lambda cs: {"any": cs}),
        sub.map(lambda c: {"not": c}),
    )


# -- standards ----------------------------------------------------------------------------------

@st.composite
def _tiers(draw: st.DrawFn, per: str) -> dict[str, Any]:
    by = draw(st.sampled_from(["disability_grade", "age"] if per == "member"
                              else ["household_size", "disability_grade", "age"]))
    lo, hi = {"household_size": (1, 8), "disability_grade": (1, 5), "age": (0, 101)}[by]
    n = draw(st.integers(1, 3))
    points = sorted(draw(st.lists(st.integers(lo, hi), min_size=n + 1, max_size=n + 1, unique=True)))
    steps = []
    for i in range(n):
        step: dict[str, Any] = {"min": points[i], "max": points[i + 1] - 1}
        shape = draw(st.sampled_from(["cash", "goods", "empty", "cash+goods", "cash+empty"]))
        if "cash" in shape:
            step["cash"] = draw(money())
        if "goods" in shape:
            step["goods"] = draw(GOODS)
        elif "empty" in shape:
            step["goods"] = []  # no goods on this step (None / absent: the standard's goods)
        steps.append(step)
    if draw(st.booleans()):
        steps[0]["min"] = None
    if draw(st.booleans()):
        steps[-1]["max"] = None
    return {"by": by, "steps": steps}


@st.composite
def _payable(draw: st.DrawFn, person_only: bool) -> dict[str, Any]:
    """per / cash / goods / tiers / goods_once / note of a standard or a package part."""
    per = "person" if person_only else draw(st.sampled_from(["household", "person", "member"]))
    d: dict[str, Any] = {}
    if per != "household" or draw(st.booleans()):
        d["per"] = per
    if draw(st.integers(0, 4)):
        d["cash"] = draw(money())
    if draw(st.booleans()):
        d["goods"] = draw(st.one_of(GOODS, st.just([])))
    if draw(st.integers(0, 2)) == 0:
        d["tiers"] = draw(_tiers(per))
    if per == "person" and not person_only and draw(st.integers(0, 2)) == 0:
        d["goods_once"] = True
    elif draw(st.integers(0, 4)) == 0:
        d["goods_once"] = False
    if draw(st.integers(0, 3)) == 0:
        d["note"] = draw(st.sampled_from(NOTES))
    return d


@st.composite
def _standard(draw: st.DrawFn, code: str, person_scope: bool, categories: tuple[str, ...]) -> dict[str, Any]:
    stacking = draw(st.integers(0, 3)) == 0
    person_only = person_scope and not stacking
    d: dict[str, Any] = {"code": code, "name": draw(safe_text(STANDARD_NAMES)),
                         "when": draw(conditions(3, categories))}
    if draw(st.integers(0, 3)) == 0:
        parts = []
        for name in draw(_names(PART_NAMES, 1, 3)):
            part = {"name": name, **draw(_payable(person_only))}
            if draw(st.booleans()):
                part["when"] = draw(conditions(2, categories))
            parts.append(part)
        d["parts"] = parts
        if draw(st.integers(0, 3)) == 0:
            d["note"] = draw(st.sampled_from(NOTES))
    else:
        d.update(draw(_payable(person_only)))
    if stacking or draw(st.integers(0, 4)) == 0:
        d["stacking"] = stacking
    if draw(st.integers(0, 2)) == 0:
        stated = draw(st.sampled_from(["count", "total", "both"]))
        d["stated"] = {}
        if stated != "total":
            d["stated"]["count"] = draw(st.integers(0, 500))
        if stated != "count":
            d["stated"]["total"] = draw(money(500_000))
    return d


LINE_KINDS = {"unit": ("category", "column", "village", "listed"),
              "person": ("category", "column", "village", "age", "sex", "listed")}


@st.composite
def _line_standard(draw: st.DrawFn, code: str, recipients: str, categories: tuple[str, ...]) -> dict[str, Any]:
    """A standard of a unit list or an event roster: paid per line, no tiers, no package."""
    d: dict[str, Any] = {"code": code, "name": draw(safe_text(STANDARD_NAMES)),
                         "when": draw(conditions(2, categories, LINE_KINDS[recipients]))}
    d["cash"] = draw(money(1000))
    if draw(st.booleans()):
        d["goods"] = draw(GOODS)
    if draw(st.integers(0, 3)) == 0:
        d["stacking"] = True
    if draw(st.integers(0, 2)) == 0:
        d["stated"] = {"count": draw(st.integers(0, 500))}
    return d


CODE = st.one_of(
    st.sampled_from(CODES_ASCII),
    st.builds(lambda a, n: f"{a}-{n}", st.sampled_from(CODES_ASCII), st.integers(1, 9)),
    st.builds(lambda a, n: f"{a}_{n}", st.sampled_from(CODES_CJK), st.integers(1, 9)),
    st.sampled_from(CODES_CJK),
    st.text(alphabet=SAFE_CHARS, min_size=1, max_size=4),
)


# -- the rest of a plan -------------------------------------------------------------------------

@st.composite
def _campaign(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": draw(st.sampled_from(["2026年春节走访慰问", "元旦春节困难群众慰问", "中秋国庆慰问"])),
        "code": draw(st.sampled_from(["2026-chunjie", "春节慰问", "yuandan_2027", "中秋2026"])),
        "reference_date": draw(DATES),
    }
    if draw(st.booleans()):
        d["source"] = draw(st.sampled_from(["", "县民政局〔2026〕3号文", "关于开展2026年春节走访慰问活动的通知"]))
    start = draw(st.none() | DATES)
    end = draw(st.none() | DATES)
    if start and end and start > end:
        start, end = end, start
    d["effective_from"], d["effective_to"] = start, end
    d["township"] = draw(st.none() | st.sampled_from(TOWNSHIPS))
    d["rosters"] = draw(st.none() | st.sampled_from(["花名册", "花名册/各村", "rosters"]))
    return d


@st.composite
def _budget(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {"ceiling": draw(st.none() | money(1_000_000)),
                         "stated_total": draw(st.none() | money(1_000_000))}
    how = draw(st.sampled_from([None, "weights", "village_households"]))
    if how is not None:
        split: dict[str, Any] = {"fund": draw(st.none() | money(1_000_000)), "unit": draw(st.sampled_from([1, 10]))}
        if how == "weights":
            names = draw(_names(SPLIT_PARTS, 2, 3))
            weights = st.one_of(st.sampled_from([Decimal("1.3"), Decimal(1)]),
                                st.integers(1, 30).map(lambda n: Decimal(n) / 10))
            split["parts"] = {n: draw(weights) for n in names}
            if draw(st.booleans()):
                split["by"] = "weights"
        else:
            split["by"] = how
        d["split"] = split
    return d


@st.composite
def _categories(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(_names(CATEGORIES, 0, 3))
    out: dict[str, Any] = {}
    for name in names:
        d: dict[str, Any] = {}
        others = [n for n in names if n != name] + ["低保", "优抚对象"]
        others = [n for n in others if n != name]
        if draw(st.booleans()):
            d["parent"] = draw(st.sampled_from(others))
        aliases = [a for a in draw(_names(CATEGORIES, 0, 2)) if a not in names]
        if aliases or draw(st.booleans()):
            d["aliases"] = aliases
        out[name] = d
    return out


@st.composite
def _exclusions(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {"ids": draw(st.lists(st.text(alphabet="0123456789", min_size=18, max_size=18),
                                              max_size=3, unique=True))}
    if draw(st.integers(0, 2)) == 0 and "110101199003077777" not in d["ids"]:
        d["ids"].append("110101199003077777")
    if draw(st.booleans()):
        d["ids_file"] = draw(st.sampled_from(["取消名单.txt", "举报核查/取消名单.xlsx", "cancel.csv"]))
    if draw(st.booleans()):
        d["column"] = {c: draw(safe_text(COLUMN_VALUES)) for c in draw(_names(COLUMNS, 1, 2))}
    if draw(st.booleans()):
        d["reason"] = draw(st.sampled_from(["举报属实取消", "经核查不符合条件", "已迁出本村"]))
    return d


QUOTAS = st.none() | st.builds(
    lambda slots, refill: {"by": "village", "slots": slots, "refill": refill},
    st.dictionaries(safe_text(VILLAGES), st.integers(0, 50), min_size=1, max_size=3),
    st.booleans(),
)

RUN = st.builds(
    lambda output, steps, ledger: {"output": output, "steps": steps, "ledger": ledger},
    st.sampled_from(["输出", "结果/春节", "out"]),
    st.lists(st.sampled_from(STEPS), min_size=1, max_size=4, unique=True),
    st.sampled_from([None, "sqlite:///台账.db"]),
)

PUBLICITY = st.builds(
    lambda days, start, office, phone: {"days": days, "start": start, "office": office, "phone": phone},
    st.integers(1, 60),
    st.none() | DATES,
    st.sampled_from(["", "城关镇民政办", "春华镇社会事务办"]),
    st.sampled_from(["", "0931-8123456", "13800138000", "12345"]),
)


@st.composite
def plan_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan as the plain dict a rules file holds."""
    categories = draw(_categories())
    recipients = draw(st.sampled_from(["household"] * 4 + ["unit", "person"]))
    scope = draw(st.sampled_from(["household", "household", "person"])) if recipients == "household" else "household"
    codes = draw(st.lists(CODE, min_size=1, max_size=6, unique=True))
    cats = tuple(categories)
    standards = [draw(_standard(code, scope == "person", cats)) if recipients == "household"
                 else draw(_line_standard(code, recipients, cats)) for code in codes]

    combination: dict[str, Any] = {"mode": draw(st.sampled_from(["highest", "priority", "all"])), "scope": scope}
    if draw(st.integers(0, 3)) < (3 if combination["mode"] == "priority" else 1):
        combination["order"] = draw(st.permutations(codes)
                                    .flatmap(lambda p: st.integers(1, len(p)).map(lambda k: p[:k])))
    d: dict[str, Any] = {
        "campaign": draw(_campaign()),
        "budget": draw(_budget()),
        "categories": categories,
        "combination": combination,
        "cap": draw(st.none() | money(3000)),
        "exclusions": draw(_exclusions()),
        "quotas": draw(QUOTAS) if recipients == "household" else None,
        "ledger": {"lookback_months": draw(st.integers(0, 120))},
        "run": draw(RUN),
        "publicity": draw(PUBLICITY),
        "standards": standards,
    }
    if recipients != "household":
        d["campaign"]["recipients"] = recipients
    if recipients == "person" and draw(st.integers(0, 2)):
        events = list(cats) + CATEGORIES
        d["limits"] = [{"event": draw(_names(events, 1, 2)), "per_year": draw(st.integers(1, 4))}
                       for _ in range(draw(st.integers(1, 3)))]
    # leave some sections out altogether: their defaults apply
    for key in ("categories", "cap", "exclusions", "quotas", "ledger", "run", "publicity"):
        if draw(st.integers(0, 5)) == 0:
            del d[key]
    return d


def plans() -> st.SearchStrategy[Rules]:
    """Valid, varied campaign plans (see the module docstring for the limits they keep)."""
    return plan_dicts().map(Rules.model_validate)


# -- which features a plan uses (for coverage checks) -------------------------------------------

def _range_features(r: Range | Condition) -> set[str]:
    lower = r.gt is not None or r.gte is not None
    upper = r.lt is not None or r.lte is not None
    out = set()
    if lower and upper:
        out.add("range_two_bounds")
    if isinstance(r, Range) and r.eq is not None:
        out.add("eq")
    return out


def _condition_features(c: Condition) -> set[str]:
    kind = c.kind()
    out = {kind}
    if kind in RANGE_DOMAINS:
        out |= _range_features(getattr(c, kind))
    elif kind == "column":
        if c.equals is not None:
            out.add("column_equals")
        elif c.within is not None:
            out.add("column_in")
        else:
            out |= {"column_range", *_range_features(c)}
    elif kind == "not":
        assert c.not_ is not None
        out |= _condition_features(c.not_)
    elif kind in ("all", "any"):
        for child in getattr(c, kind):
            out |= _condition_features(child)
    return out


def features(plan: Rules) -> set[str]:
    """Names of the schema features ``plan`` uses: 'parts', 'tiers', 'tier_goods_empty',
    'goods_once', 'scope_person', 'priority_order', 'split', 'quotas', 'ids_file', 'stated',
    condition kinds ('not', 'any', 'all', 'category', …), 'column_in', 'column_equals',
    'column_range', 'range_two_bounds', 'eq', and a few more."""
    out: set[str] = set()
    out.add(f"recipients_{plan.campaign.recipients}")
    if plan.limits:
        out.add("limits")
    if plan.combination.scope == "person":
        out.add("scope_person")
    if plan.combination.order is not None:
        out.add("order")
        if plan.combination.mode == "priority":
            out.add("priority_order")
    if plan.budget.split is not None:
        out.add("split")
        out.add(f"split_{plan.budget.split.by}")
    if plan.quotas is not None:
        out.add("quotas")
    if plan.exclusions.ids_file is not None:
        out.add("ids_file")
    if plan.cap is not None:
        out.add("cap")
    if any(c.parent for c in plan.categories.values()):
        out.add("category_parent")
    for s in plan.standards:
        out |= _condition_features(s.when)
        if s.stacking:
            out.add("stacking")
        if s.stated is not None:
            out.add("stated")
        if s.parts is not None:
            out.add("parts")
            for p in s.parts:
                if p.when is not None:
                    out.add("part_when")
                    out |= _condition_features(p.when)
        for piece in s.pieces:
            out.add(f"per_{piece.per}")
            if piece.goods:
                out.add("goods")
            if piece.goods_once:
                out.add("goods_once")
            if piece.tiers is not None:
                out.add("tiers")
                for step in piece.tiers.steps:
                    if step.goods == []:
                        out.add("tier_goods_empty")
                    elif step.goods is None:
                        out.add("tier_goods_inherit")
    return out
