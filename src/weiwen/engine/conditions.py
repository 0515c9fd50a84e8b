"""Evaluate a structured condition for every person at once (pure)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from weiwen.engine.facts import Population, extra_column
from weiwen.rules.schema import Condition, Range

# Readable names of the facts, for explanations.
FACT_ZH = {
    "category": "类别", "age": "年龄", "sex": "性别", "disability_grade": "残疾等级", "household_size": "户人口数",
    "village": "村(社区)", "township": "乡镇(街道)", "relation": "与户主关系",
}


def evaluate(cond: Condition, pop: Population) -> np.ndarray:
    """A boolean per person: does the condition hold for this person (household facts broadcast)."""
    kind = cond.kind()
    p = pop.persons
    if kind == "all":
        out = np.ones(len(p), dtype=bool)
        for c in cond.all or ():
            out &= evaluate(c, pop)
        return out
    if kind == "any":
        out = np.zeros(len(p), dtype=bool)
        for c in cond.any or ():
            out |= evaluate(c, pop)
        return out
    if kind == "not":
        assert cond.not_ is not None
        return ~evaluate(cond.not_, pop)
    if kind == "category":
        wanted = set(cond.category or ())
        codes, uniques = pd.factorize(p["categories"])
        hit = np.array([bool(pop.ancestors.get(str(u), frozenset()) & wanted) for u in uniques], dtype=bool)
        return hit[codes] if len(uniques) else np.zeros(len(p), dtype=bool)
    if kind == "age":
        assert cond.age is not None
        known = pop.age >= 0
        return known & compare(pop.age.astype(float), cond.age)
    if kind == "sex":
        return (p["sex"] == cond.sex).to_numpy(dtype=bool, na_value=False)
    if kind == "disability_grade":
        assert cond.disability_grade is not None
        grade = p["disability_grade"].to_numpy(dtype="float64", na_value=np.nan)
        return ~np.isnan(grade) & compare(grade, cond.disability_grade)
    if kind == "household_size":
        assert cond.household_size is not None
        return compare(pop.size[pop.household].astype(float), cond.household_size)
    if kind in ("village", "township", "relation"):
        values = getattr(cond, kind)
        return p[kind].isin(values).to_numpy(dtype=bool, na_value=False)
    if kind == "column":
        return _column(cond, pop)
    if kind == "listed":
        return np.ones(len(p), dtype=bool)
    raise AssertionError(kind)  # pragma: no cover - the schema admits no other kind


def compare(values: np.ndarray, rng: Range | Condition) -> np.ndarray:
    out = np.ones(len(values), dtype=bool)
    for attr, op in (("lt", np.less), ("lte", np.less_equal), ("gt", np.greater), ("gte", np.greater_equal),
                     ("eq", np.equal)):
        bound: Decimal | None = getattr(rng, attr, None)
        if bound is not None:
            out &= op(values, float(bound))
    return out


def _column(cond: Condition, pop: Population) -> np.ndarray:
    p = pop.persons
    column = extra_column(p, cond.column or "")
    if column is None:  # refused before the engine runs (rules-column-missing); kept total for direct callers
        return np.zeros(len(p), dtype=bool)
    text = column.astype(str)
    if cond.equals is not None or cond.within is not None:
        allowed = {cond.equals} if cond.equals is not None else set(cond.within or ())
        return text.isin(allowed).to_numpy(dtype=bool)
    numbers = pd.to_numeric(text.str.replace(r"[,，元\s]", "", regex=True), errors="coerce").to_numpy(dtype=float)
    return ~np.isnan(numbers) & compare(numbers, cond)


def describe(cond: Condition) -> str:
    """The condition in plain Chinese: 类别为 低保 且 年龄 ≥ 75."""
    kind = cond.kind()
    if kind in ("all", "any"):
        parts = [describe(c) for c in (cond.all if kind == "all" else cond.any) or ()]
        joined = (" 且 " if kind == "all" else " 或 ").join(parts)
        return f"（{joined}）" if len(parts) > 1 else joined
    if kind == "not":
        assert cond.not_ is not None
        return f"不满足（{describe(cond.not_)}）"
    if kind == "category":
        return f"类别为 {'或'.join(cond.category or ())}"
    if kind == "listed":
        return "名单上的每一个"
    if kind in ("village", "township", "relation"):
        return f"{FACT_ZH[kind]}为 {'或'.join(getattr(cond, kind))}"
    if kind == "sex":
        return f"性别为 {cond.sex}"
    if kind == "column":
        if cond.equals is not None:
            return f"{cond.column} 为 {cond.equals}"
        if cond.within is not None:
            return f"{cond.column} 为 {'或'.join(cond.within)}"
        return f"{cond.column} {_range_text(cond)}"
    return f"{FACT_ZH[kind]} {_range_text(getattr(cond, kind))}"


def _range_text(rng: Range | Condition) -> str:
    marks = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "eq": "="}
    return " 且 ".join(f"{marks[a]} {getattr(rng, a)}" for a in marks if getattr(rng, a, None) is not None)
