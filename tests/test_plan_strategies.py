"""Self-test of tests/plan_strategies.py: every plan drawn is valid, survives its own dump, keeps
its names and condition texts free of separators, and the strategy reaches the features the
spreadsheet round trip must cover."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings

from tests.plan_strategies import features, plans
from weiwen.rules.schema import Condition, Rules

REQUIRED = {"parts", "tiers", "tier_goods_empty", "goods_once", "scope_person", "priority_order", "split",
            "quotas", "not", "any", "column_in", "column_range", "range_two_bounds", "eq", "stated", "ids_file",
            "recipients_unit", "recipients_person", "limits", "listed"}
FORBIDDEN = set("、，,;；()（）【】[]「」=＝<>＜＞≤≥且或非")


def _condition_texts(c: Condition) -> Iterator[str]:
    for key in ("category", "village", "township", "relation", "within"):
        yield from getattr(c, key) or []
    if c.column is not None:
        yield c.column
    if c.equals is not None:
        yield c.equals
    for child in [*(c.all or []), *(c.any or []), *([c.not_] if c.not_ else [])]:
        yield from _condition_texts(child)


def _names(plan: Rules) -> Iterator[str]:
    for name, cat in plan.categories.items():
        yield name
        yield from cat.aliases
        if cat.parent:
            yield cat.parent
    if plan.budget.split is not None:
        yield from plan.budget.split.parts
    if plan.quotas is not None:
        yield from plan.quotas.slots
    yield from plan.exclusions.column
    yield from plan.exclusions.column.values()
    for s in plan.standards:
        yield s.name
        yield from _condition_texts(s.when)
        for p in s.parts or []:
            yield p.name
            if p.when is not None:
                yield from _condition_texts(p.when)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_plans_revalidate(plan: Rules) -> None:
    # exclude_unset: a package standard must not list per/cash/goods/… (its defaults) at all
    again = Rules.model_validate(plan.model_dump(by_alias=True, exclude_unset=True))
    assert again == plan
    assert again.model_dump() == plan.model_dump()
    for text in _names(plan):
        assert text and text == text.strip() and not text.isnumeric() and not FORBIDDEN & set(text), text


def test_plans_reach_every_feature() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(plans())
    def collect(plan: Rules) -> None:
        seen.update(features(plan))

    collect()
    assert REQUIRED <= seen, f"never drawn: {sorted(REQUIRED - seen)}"
