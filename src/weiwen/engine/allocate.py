"""Apply a campaign's standards to every household (pure: no I/O).

Money is counted in integer fen (分) throughout, so sums never drift; goods quantities in
thousandths of their unit.  Steps, each over all households at once:

1. every standard: which persons satisfy its condition, which households qualify, how many
   units are paid (1 per household, one per qualifying person, or one per household member),
   the cash and goods per household (size or grade tiers, goods once per household);
2. combination: non-stacking standards compete — the highest value wins (ties: the one
   declared first), or the first in a declared priority, or all are paid; stacking
   standards are added on top;
3. the per-household cap cuts cash first; goods are never split (see docs/rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from weiwen.engine.conditions import evaluate
from weiwen.engine.facts import Population
from weiwen.rules.schema import GoodsItem, Rules, Standard, Tier

MILLI = 1000


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def yuan(amount_fen: int) -> Decimal:
    return (Decimal(int(amount_fen)) / 100).quantize(Decimal("0.01"))


@dataclass
class StandardOutcome:
    """One standard over all households."""

    standard: Standard
    person_mask: np.ndarray  # persons satisfying the condition
    qualifying: np.ndarray  # qualifying persons per household
    units: np.ndarray  # units paid per household (0 = not applicable)
    cash: np.ndarray  # fen per household
    goods_value: np.ndarray  # fen per household
    items: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (item, unit) -> milli-units

    @property
    def applies(self) -> np.ndarray:
        return self.units > 0

    @property
    def value(self) -> np.ndarray:
        return self.cash + self.goods_value


@dataclass
class Allocation:
    """The decision for every household of a population."""

    pop: Population
    rules: Rules
    outcomes: list[StandardOutcome]
    paid: np.ndarray  # (households × standards) bool
    cash: np.ndarray  # fen per household, after the cap
    goods_value: np.ndarray  # fen per household
    items: dict[tuple[str, str], np.ndarray]  # (item, unit) -> milli-units per household, paid standards only
    capped: np.ndarray  # fen cut by the cap per household

    @property
    def total(self) -> np.ndarray:
        return self.cash + self.goods_value

    @property
    def applies(self) -> np.ndarray:
        return np.column_stack([o.applies for o in self.outcomes]) if self.outcomes else np.zeros((0, 0), bool)

    def withhold(self, mask: np.ndarray) -> None:
        """Pay nothing to the households in ``mask`` (over quota, objection upheld)."""
        self.paid[mask] = False
        self.cash[mask] = 0
        self.goods_value[mask] = 0
        self.capped[mask] = 0
        for qty in self.items.values():
            qty[mask] = 0

    @property
    def aided(self) -> np.ndarray:
        """Households that receive anything."""
        return self.paid.any(axis=1) if self.paid.size else np.zeros(self.pop.n_households, dtype=bool)


def allocate(pop: Population, rules: Rules) -> Allocation:
    outcomes = [_outcome(s, pop) for s in rules.standards]
    h = pop.n_households
    paid = np.zeros((h, len(outcomes)), dtype=bool)
    competing = [i for i, o in enumerate(outcomes) if not o.standard.stacking]
    for i, o in enumerate(outcomes):
        if o.standard.stacking:
            paid[:, i] = o.applies
    mode = rules.combination.mode
    if mode == "all":
        for i in competing:
            paid[:, i] = outcomes[i].applies
    elif competing:
        if mode == "priority":
            by_code = {o.standard.code: i for i, o in enumerate(outcomes)}
            order = [by_code[c] for c in (rules.combination.order or [])] or competing
            order = [i for i in order if i in competing] + [i for i in competing if i not in order]
            applies = np.column_stack([outcomes[i].applies for i in order])
            pick = np.argmax(applies, axis=1)
            chosen = np.asarray(order)[pick]
        else:  # highest value; argmax keeps the first of equal values: declared order breaks ties
            order = competing
            applies = np.column_stack([outcomes[i].applies for i in order])
            values = np.column_stack([np.where(outcomes[i].applies, outcomes[i].value, -1) for i in order])
            chosen = np.asarray(order)[np.argmax(values, axis=1)]
        any_applies = applies.any(axis=1)
        paid[np.flatnonzero(any_applies), chosen[any_applies]] = True

    cash = np.zeros(h, dtype=np.int64)
    goods_value = np.zeros(h, dtype=np.int64)
    items: dict[tuple[str, str], np.ndarray] = {}
    for i, o in enumerate(outcomes):
        cash += np.where(paid[:, i], o.cash, 0)
        goods_value += np.where(paid[:, i], o.goods_value, 0)
        for key, qty in o.items.items():
            items.setdefault(key, np.zeros(h, dtype=np.int64))
            items[key] += np.where(paid[:, i], qty, 0)
    capped = np.zeros(h, dtype=np.int64)
    if rules.cap is not None:
        over = np.maximum(cash + goods_value - fen(rules.cap), 0)
        capped = np.minimum(over, cash)  # cash is cut first; goods are never split
        cash = cash - capped
    return Allocation(pop=pop, rules=rules, outcomes=outcomes, paid=paid, cash=cash, goods_value=goods_value,
                      items=items, capped=capped)


def _outcome(s: Standard, pop: Population) -> StandardOutcome:
    h = pop.n_households
    hh = pop.household
    mask = evaluate(s.when, pop)
    qualifying = np.bincount(hh, weights=mask, minlength=h).astype(np.int64)
    out = StandardOutcome(standard=s, person_mask=mask, qualifying=qualifying, units=np.zeros(h, np.int64),
                          cash=np.zeros(h, np.int64), goods_value=np.zeros(h, np.int64))

    steps: list[Tier] = s.tiers.steps if s.tiers else []
    if s.tiers is None:
        tier_person = np.zeros(len(mask), dtype=np.int64)
    elif s.tiers.by == "household_size":
        tier_person = _tier_index(steps, pop.size[hh])
    elif s.tiers.by == "age":
        tier_person = _tier_index(steps, pop.age)
    else:
        grade = pop.persons["disability_grade"].to_numpy(dtype="float64", na_value=np.nan)
        tier_person = np.where(np.isnan(grade), -1, _tier_index(steps, np.nan_to_num(grade, nan=-1).astype(int)))

    cash_of = [fen(t.cash if t.cash is not None else s.cash) for t in steps] or [fen(s.cash)]
    goods_of: list[list[GoodsItem]] = [t.goods if t.goods is not None else s.goods for t in steps] or [s.goods]
    value_of = [sum(fen(g.value) for g in goods) for goods in goods_of]
    eligible = mask & (tier_person >= 0)

    if s.per == "person":
        for t in range(len(cash_of)):
            in_t = eligible & (tier_person == t)
            count = np.bincount(hh, weights=in_t, minlength=h).astype(np.int64)
            out.units += count
            if s.goods_once:
                # The goods package once per household; each further qualifying member gets its value in cash.
                once = (count > 0).astype(np.int64)
                out.cash += count * cash_of[t] + (count - once) * value_of[t]
                out.goods_value += once * value_of[t]
                _add_items(out, goods_of[t], once)
            else:
                out.cash += count * cash_of[t]
                out.goods_value += count * value_of[t]
                _add_items(out, goods_of[t], count)
        return out

    # Per household or per member: the best tier among the qualifying members decides.
    best = np.full(h, -1, dtype=np.int64)
    if len(cash_of) == 1:
        best[qualifying > 0] = 0
        best[np.bincount(hh, weights=eligible, minlength=h) == 0] = -1
    else:
        worth = np.asarray([c + v for c, v in zip(cash_of, value_of, strict=True)], dtype=np.int64)
        score = np.where(eligible, worth[np.maximum(tier_person, 0)], -1)
        top = np.full(h, -1, dtype=np.int64)
        np.maximum.at(top, hh, score)
        for t in range(len(cash_of)):
            best[(best < 0) & (top == worth[t]) & (top >= 0)] = t
    units = np.where(best >= 0, pop.size if s.per == "member" else 1, 0).astype(np.int64)
    out.units = units
    for t in range(len(cash_of)):
        n_t = np.where(best == t, units, 0)
        out.cash += n_t * cash_of[t]
        out.goods_value += n_t * value_of[t]
        _add_items(out, goods_of[t], n_t)
    return out


def _tier_index(steps: list[Tier], key: np.ndarray) -> np.ndarray:
    """Index of the first step whose [min, max] holds ``key``; -1 where none does."""
    idx = np.full(len(key), -1, dtype=np.int64)
    for t in range(len(steps) - 1, -1, -1):
        lo = steps[t].min if steps[t].min is not None else -(2**31)
        hi = steps[t].max if steps[t].max is not None else 2**31
        idx[(key >= lo) & (key <= hi)] = t
    return idx


def _add_items(out: StandardOutcome, goods: list[GoodsItem], units: np.ndarray) -> None:
    for g in goods:
        key = (g.item, g.unit)
        out.items.setdefault(key, np.zeros(len(units), dtype=np.int64))
        out.items[key] += units * int(g.quantity * MILLI)
