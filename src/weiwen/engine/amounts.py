"""Apply a campaign's standards to every household (pure: no I/O).

Money is counted in integer fen (分) throughout, so sums never drift; goods quantities in
thousandths of their unit.  Steps, each over all households at once:

1. every standard: which persons satisfy its condition, which households qualify, how many
   units are paid (1 per household, one per qualifying person, or one per household member),
   the cash and goods per household (size or grade tiers, goods once per household).  A
   package is the sum of its parts, each computed like a standard of its own;
2. combination: non-stacking standards compete — the highest value wins (ties: the one
   declared first), or the first in a declared priority, or all are paid; stacking
   standards are added on top.  The competition is per household, or per person
   (``combination.scope: person``: each person is paid the standard best for them);
3. the per-household cap cuts cash first; goods are never split (see docs/rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from weiwen.engine.conditions import evaluate
from weiwen.engine.facts import Population
from weiwen.rules.schema import GoodsItem, Part, Payable, Rules, Standard, Tier

MILLI = 1000


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def yuan(amount_fen: int) -> Decimal:
    return (Decimal(int(amount_fen)) / 100).quantize(Decimal("0.01"))


@dataclass
class StandardOutcome:
    """One standard (or one part of a package) over all households."""

    standard: Standard
    person_mask: np.ndarray  # persons satisfying the condition
    qualifying: np.ndarray  # qualifying persons per household
    units: np.ndarray  # units paid per household (0 = not applicable)
    cash: np.ndarray  # fen per household
    goods_value: np.ndarray  # fen per household
    items: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (item, unit) -> milli-units
    parts: list[StandardOutcome] = field(default_factory=list)  # a package's parts, in declared order
    part: Part | None = None  # set on the outcome of one part
    outside: int = 0  # persons who meet the condition but fall in no tier (paid nothing by it)

    @property
    def label(self) -> str:
        return self.part.name if self.part is not None else self.standard.name

    def masked(self, mask: np.ndarray) -> StandardOutcome:
        """The same outcome where ``mask`` holds, nothing elsewhere (what was paid of it)."""
        def m(a: np.ndarray) -> np.ndarray:
            return np.where(mask, a, 0)
        return StandardOutcome(standard=self.standard, person_mask=self.person_mask, qualifying=m(self.qualifying),
                               units=m(self.units), cash=m(self.cash), goods_value=m(self.goods_value),
                               items={k: m(v) for k, v in self.items.items()},
                               parts=[p.masked(mask) for p in self.parts], part=self.part, outside=self.outside)

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
    persons: np.ndarray  # persons aided per household (before quotas and withdrawals)
    person_paid: dict[int, StandardOutcome] = field(default_factory=dict)  # scope person: what each standard paid

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
        self.persons[mask] = 0
        for qty in self.items.values():
            qty[mask] = 0
        self.person_paid = {j: o.masked(~mask) for j, o in self.person_paid.items()}

    def paid_outcome(self, j: int) -> StandardOutcome:
        """What standard ``j`` paid each household (before the cap): all of its outcome where the
        household was paid it, or — with ``scope: person`` — the amounts of the persons it was best for."""
        if j in self.person_paid:
            return self.person_paid[j]
        return self.outcomes[j].masked(self.paid[:, j])

    @property
    def aided(self) -> np.ndarray:
        """Households that receive anything."""
        return self.paid.any(axis=1) if self.paid.size else np.zeros(self.pop.n_households, dtype=bool)


def allocate(pop: Population, rules: Rules) -> Allocation:
    outcomes = [_standard_outcome(s, pop) for s in rules.standards]
    h = pop.n_households
    paid = np.zeros((h, len(outcomes)), dtype=bool)
    competing = [i for i, o in enumerate(outcomes) if not o.standard.stacking]
    for i, o in enumerate(outcomes):
        if o.standard.stacking:
            paid[:, i] = o.applies
    mode = rules.combination.mode
    person_paid: dict[int, StandardOutcome] = {}
    if mode == "all":
        for i in competing:
            paid[:, i] = outcomes[i].applies
    elif competing and rules.combination.scope == "person":
        person_paid = _per_person(pop, rules, outcomes, competing)
        for i, o in person_paid.items():
            paid[:, i] = o.units > 0
    elif competing:
        if mode == "priority":
            order = _priority_order(rules, outcomes, competing)
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
    persons = np.zeros(h, dtype=np.int64)
    for i, o in enumerate(outcomes):
        got = person_paid.get(i)
        if got is None:
            cash += np.where(paid[:, i], o.cash, 0)
            goods_value += np.where(paid[:, i], o.goods_value, 0)
            persons = np.maximum(persons, np.where(paid[:, i], o.qualifying, 0))
            for key, qty in o.items.items():
                items.setdefault(key, np.zeros(h, dtype=np.int64))
                items[key] += np.where(paid[:, i], qty, 0)
        else:
            cash += got.cash
            goods_value += got.goods_value
            for key, qty in got.items.items():
                items.setdefault(key, np.zeros(h, dtype=np.int64))
                items[key] += qty
    if person_paid:  # each person is paid at most one competing standard: count them, not the largest group
        persons = np.maximum(persons, sum((o.qualifying for o in person_paid.values()), np.zeros(h, np.int64)))
    capped = np.zeros(h, dtype=np.int64)
    if rules.cap is not None:
        over = np.maximum(cash + goods_value - fen(rules.cap), 0)
        capped = np.minimum(over, cash)  # cash is cut first; goods are never split
        cash = cash - capped
    return Allocation(pop=pop, rules=rules, outcomes=outcomes, paid=paid, cash=cash, goods_value=goods_value,
                      items=items, capped=capped, persons=persons, person_paid=person_paid)


def _priority_order(rules: Rules, outcomes: list[StandardOutcome], competing: list[int]) -> list[int]:
    by_code = {o.standard.code: i for i, o in enumerate(outcomes)}
    order = [by_code[c] for c in (rules.combination.order or [])] or competing
    return [i for i in order if i in competing] + [i for i in competing if i not in order]


def _per_person(pop: Population, rules: Rules, outcomes: list[StandardOutcome],
                competing: list[int]) -> dict[int, StandardOutcome]:
    """``scope: person``: each person is paid the one competing standard of greatest value for them
    (ties: declared order), or the first in the priority order.  Every competing standard is paid
    per person (the schema ensures it), so a person's value is the sum of its parts' tiers."""
    n, h = len(pop.persons), pop.n_households
    order = _priority_order(rules, outcomes, competing) if rules.combination.mode == "priority" else competing
    values = np.full((n, len(order)), -1, dtype=np.int64)
    pieces_of: list[list[tuple[Payable, np.ndarray, np.ndarray, np.ndarray, dict[tuple[str, str], np.ndarray]]]] = []
    for k, i in enumerate(order):
        s = outcomes[i].standard
        eligible = np.zeros(n, dtype=bool)
        worth = np.zeros(n, np.int64)
        pieces = []
        for piece, mask in _piece_masks(s, outcomes[i].person_mask, pop):
            tier = _tier_person(piece, pop)
            cash_of, goods_of, value_of = _tier_amounts(piece)
            ok = mask & (tier >= 0)
            t = np.maximum(tier, 0)
            cash_p = np.where(ok, np.asarray(cash_of, np.int64)[t], 0)
            goods_p = np.where(ok, np.asarray(value_of, np.int64)[t], 0)
            items_p: dict[tuple[str, str], np.ndarray] = {}
            for g_t, goods in enumerate(goods_of):
                for g in goods:
                    items_p.setdefault((g.item, g.unit), np.zeros(n, np.int64))
                    items_p[(g.item, g.unit)] += np.where(ok & (tier == g_t), int(g.quantity * MILLI), 0)
            pieces.append((piece, mask, ok, cash_p, goods_p, items_p))
            eligible |= ok
            worth += cash_p + goods_p
        pieces_of.append(pieces)  # type: ignore[arg-type]
        if rules.combination.mode == "priority":
            values[:, k] = np.where(eligible, len(order) - k, -1)
        else:
            values[:, k] = np.where(eligible, worth, -1)
    best = np.argmax(values, axis=1) if len(order) else np.zeros(n, np.int64)
    chosen = values[np.arange(n), best] >= 0 if len(order) else np.zeros(n, bool)
    hh = pop.household
    out: dict[int, StandardOutcome] = {}
    for k, i in enumerate(order):
        sel = chosen & (best == k)
        count = np.bincount(hh, weights=sel, minlength=h).astype(np.int64)
        got = []
        for piece, mask, ok, cash_p, goods_p, items_p in pieces_of[k]:  # type: ignore[misc]
            paid = sel & ok
            units = np.bincount(hh, weights=paid, minlength=h).astype(np.int64)
            got.append(StandardOutcome(
                standard=outcomes[i].standard, person_mask=mask, qualifying=units, units=units,
                cash=_sum_by(hh, np.where(paid, cash_p, 0), h), goods_value=_sum_by(hh, np.where(paid, goods_p, 0), h),
                items={key: _sum_by(hh, np.where(paid, q, 0), h) for key, q in items_p.items()},
                part=piece if isinstance(piece, Part) else None))
        if outcomes[i].standard.parts is None:
            only = got[0]
            only.person_mask, only.qualifying, only.units = outcomes[i].person_mask, count, count
            out[i] = only
            continue
        package = StandardOutcome(standard=outcomes[i].standard, person_mask=outcomes[i].person_mask, qualifying=count,
                                  units=count, cash=np.sum([g.cash for g in got], axis=0).astype(np.int64),
                                  goods_value=np.sum([g.goods_value for g in got], axis=0).astype(np.int64), parts=got)
        for g in got:
            for key, qty in g.items.items():
                package.items[key] = package.items.get(key, np.zeros(h, dtype=np.int64)) + qty
        out[i] = package
    return out


def _sum_by(hh: np.ndarray, values: np.ndarray, h: int) -> np.ndarray:
    """Exact integer sums per household (bincount's float weights would round above 2**53)."""
    out = np.zeros(h, dtype=np.int64)
    np.add.at(out, hh, values)
    return out


def _piece_masks(s: Standard, mask: np.ndarray, pop: Population) -> list[tuple[Payable, np.ndarray]]:
    """What is paid and to whom: the standard and its condition, or each part and the package's
    condition together with the part's own."""
    if s.parts is None:
        return [(s, mask)]
    return [(p, mask & evaluate(p.when, pop) if p.when is not None else mask) for p in s.parts]


def _standard_outcome(s: Standard, pop: Population) -> StandardOutcome:
    mask = evaluate(s.when, pop)
    if s.parts is None:
        return _outcome(s, s, mask, pop)
    h = pop.n_households
    parts = [_outcome(s, piece, m, pop) for piece, m in _piece_masks(s, mask, pop)]
    for part, spec in zip(parts, s.parts, strict=True):
        part.part = spec
    qualifying = np.bincount(pop.household, weights=mask, minlength=h).astype(np.int64)
    out = StandardOutcome(standard=s, person_mask=mask, qualifying=qualifying,
                          units=(np.sum([p.units for p in parts], axis=0) > 0).astype(np.int64),
                          cash=np.sum([p.cash for p in parts], axis=0).astype(np.int64),
                          goods_value=np.sum([p.goods_value for p in parts], axis=0).astype(np.int64), parts=parts,
                          outside=sum(p.outside for p in parts))
    for p in parts:
        for key, qty in p.items.items():
            out.items[key] = out.items.get(key, np.zeros(h, dtype=np.int64)) + qty
    return out


def _tier_person(spec: Payable, pop: Population) -> np.ndarray:
    """Each person's tier index under ``spec`` (0 without tiers; -1 where no tier holds them)."""
    n = len(pop.persons)
    if spec.tiers is None:
        return np.zeros(n, dtype=np.int64)
    steps = spec.tiers.steps
    if spec.tiers.by == "household_size":
        return _tier_index(steps, pop.size[pop.household])
    if spec.tiers.by == "age":
        return np.where(pop.age >= 0, _tier_index(steps, pop.age), -1)
    grade = pop.persons["disability_grade"].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(grade), -1, _tier_index(steps, np.nan_to_num(grade, nan=-1).astype(int)))


def _tier_amounts(spec: Payable) -> tuple[list[int], list[list[GoodsItem]], list[int]]:
    """Cash (fen), goods and goods value (fen) of each tier (one entry without tiers)."""
    steps: list[Tier] = spec.tiers.steps if spec.tiers else []
    cash_of = [fen(t.cash if t.cash is not None else spec.cash) for t in steps] or [fen(spec.cash)]
    goods_of: list[list[GoodsItem]] = [t.goods if t.goods is not None else spec.goods for t in steps] or [spec.goods]
    value_of = [sum(fen(g.value) for g in goods) for goods in goods_of]
    return cash_of, goods_of, value_of


def _outcome(standard: Standard, s: Payable, mask: np.ndarray, pop: Population) -> StandardOutcome:
    """What ``s`` (a standard, or one part of ``standard``) pays each household, for the persons in ``mask``."""
    h = pop.n_households
    hh = pop.household
    qualifying = np.bincount(hh, weights=mask, minlength=h).astype(np.int64)
    out = StandardOutcome(standard=standard, person_mask=mask, qualifying=qualifying, units=np.zeros(h, np.int64),
                          cash=np.zeros(h, np.int64), goods_value=np.zeros(h, np.int64))
    tier_person = _tier_person(s, pop)
    cash_of, goods_of, value_of = _tier_amounts(s)
    eligible = mask & (tier_person >= 0)
    if s.tiers is not None:
        out.outside = int(np.count_nonzero(mask & (tier_person < 0)))

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
