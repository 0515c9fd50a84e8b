"""Budget figures from a decision (pure): per standard, per village and township, goods to buy,
the fund ceiling, and a fixed fund split by weights with the largest-remainder rule.

The figures come from the same :class:`~weiwen.decision.Decision` that allocate writes, so
budget and allocation totals are the same numbers, not two computations that might drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from weiwen.decision import Decision
from weiwen.model.recipients import RecipientKind
from weiwen.engine.amounts import MILLI, fen, yuan
from weiwen.core.errors import WeiwenError
from weiwen.rules.schema import Payable, Stated


@dataclass(frozen=True)
class StandardLine:
    code: str
    name: str
    households: int
    units: int  # persons or households paid, as the standard counts them
    per_unit: str  # the amount per unit, or 分档 when tiers make it vary
    cash: Decimal
    goods_value: Decimal
    parts: list[StandardLine] = field(default_factory=list)  # a package's parts (their sum is this line)
    stated: Stated | None = None  # what the plan's text states for this standard

    @property
    def total(self) -> Decimal:
        return self.cash + self.goods_value


@dataclass(frozen=True)
class GoodsLine:
    item: str
    unit: str
    quantity: Decimal
    value: Decimal


@dataclass(frozen=True)
class CompareLine:
    """One standard (or village) now and in an earlier campaign."""

    kind: str  # 标准 / 村(社区) / 合计
    name: str
    households_before: int
    households_now: int
    total_before: Decimal
    total_now: Decimal

    @property
    def change(self) -> Decimal:
        return self.total_now - self.total_before


@dataclass
class BudgetFigures:
    standards: list[StandardLine]
    cap_cut: Decimal
    villages: list[tuple[str, str, int, int, Decimal, Decimal]]  # township, village, households, persons, cash, goods
    goods: list[GoodsLine]
    cash: Decimal
    goods_value: Decimal
    ceiling: Decimal | None
    split: list[tuple[str, Decimal]] = field(default_factory=list)
    split_rule: str = ""
    over_quota: dict[str, int] = field(default_factory=dict)  # village -> households left out by the quota
    compare: list[CompareLine] = field(default_factory=list)
    compare_with: str = ""
    township: str = ""  # the campaign's township (campaign.township), for villages whose roster names none
    kind: RecipientKind = RecipientKind.HOUSEHOLD  # what is counted: households, units, events

    @property
    def total(self) -> Decimal:
        return self.cash + self.goods_value

    @property
    def shortfall(self) -> Decimal | None:
        """Positive: more is needed than the ceiling; negative: a surplus."""
        return None if self.ceiling is None else self.total - self.ceiling


def figures(d: Decision, ceiling: Decimal | None = None) -> BudgetFigures:
    rules = d.plan.rules
    alloc = d.allocation
    aided = alloc.aided
    lines = []
    for j in range(len(alloc.outcomes)):
        o = alloc.paid_outcome(j)
        paid = alloc.paid[:, j] & aided
        s = o.standard
        parts = []
        for part in o.parts:
            got = paid & (part.units > 0)
            assert part.part is not None
            parts.append(StandardLine(s.code, part.part.name, int(got.sum()), int(part.units[got].sum()),
                                      _per_unit(part.part), yuan(int(part.cash[got].sum())),
                                      yuan(int(part.goods_value[got].sum()))))
        lines.append(StandardLine(s.code, s.name, int(paid.sum()), int(o.units[paid].sum()),
                                  "组合" if s.parts is not None else _per_unit(s), yuan(int(o.cash[paid].sum())),
                                  yuan(int(o.goods_value[paid].sum())), parts=parts, stated=s.stated))
    t = d.table
    villages = []
    if len(t):
        # Villages as the decision lists them (the rosters' order), grouped by township in order of appearance.
        g = t.groupby(["township", "village"], sort=False).agg(
            households=("household", "size"), persons=("persons", "sum"), cash=("cash_fen", "sum"), goods=("goods_fen", "sum"))
        townships = list(dict.fromkeys(g.index.get_level_values(0)))
        g = g.iloc[sorted(range(len(g)), key=lambda i: townships.index(g.index[i][0]))]
        for (township, village), r in g.iterrows():
            villages.append((str(township), str(village), int(r["households"]), int(r["persons"]),
                             yuan(int(r["cash"])), yuan(int(r["goods"]))))
    goods = []
    for key in d.goods:
        qty_milli = 0
        value = Decimal(0)
        for j in range(len(alloc.outcomes)):
            o = alloc.paid_outcome(j)
            for piece in o.parts or [o]:
                if key not in piece.items:
                    continue
                milli = int(piece.items[key][alloc.paid[:, j] & aided].sum())
                qty_milli += milli
                value += Decimal(milli) / MILLI * _unit_value(piece.part or piece.standard, key)
        goods.append(GoodsLine(key[0], key[1], Decimal(qty_milli) / MILLI, value.quantize(Decimal("0.01"))))
    limit = ceiling if ceiling is not None else rules.budget.ceiling
    result = BudgetFigures(standards=lines, cap_cut=yuan(int(alloc.capped[aided].sum())), villages=villages,
                           goods=goods, cash=d.cash, goods_value=d.goods_value, ceiling=limit,
                           township=rules.campaign.township or "", kind=d.kind)
    for x in d.left_out:
        if x.kind == "超出名额":
            result.over_quota[x.village] = result.over_quota.get(x.village, 0) + 1
    split = rules.budget.split
    if split is not None:
        fund = split.fund if split.fund is not None else limit
        if fund is None:
            raise WeiwenError("规则文件的 budget.split 没有写 fund，也没有 budget.ceiling 或 --ceiling 可用作要分配的资金。",
                              code="rules-invalid")
        if split.by == "weights":
            weights = {name: Fraction(str(w)) for name, w in split.parts.items()}
            result.split_rule = "按比例 " + " : ".join(f"{k} {v}" for k, v in split.parts.items())
        else:
            weights = {v: Fraction(h) for _t, v, h, *_ in villages}
            result.split_rule = "按各村核定户数"
        result.split = largest_remainder(fund, weights, split.unit)
        result.split_rule += f"，最大余数法取整到 {split.unit} 元"
    return result


def largest_remainder(fund: Decimal, weights: dict[str, Fraction], unit: int) -> list[tuple[str, Decimal]]:
    """Split ``fund`` in proportion to ``weights`` in whole ``unit`` yuan; the parts add up to the fund.

    Each part first gets its exact share rounded down to the unit; the units left over go one
    each to the parts with the largest remainders (ties: the part listed first).
    """
    total_w = sum(weights.values())
    if total_w <= 0:
        raise WeiwenError("分配比例之和必须大于 0。", code="rules-invalid")
    fund_units = Fraction(str(fund)) / unit
    if fund_units.denominator != 1:
        raise WeiwenError(f"要分配的资金 {fund} 元不是 {unit} 元的整数倍，无法按 {unit} 元取整分配。", code="rules-invalid")
    exact = {k: fund_units * w / total_w for k, w in weights.items()}
    base = {k: int(v) for k, v in exact.items()}  # floor: shares are non-negative
    left = int(fund_units) - sum(base.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - base[k]), list(weights).index(k)))
    for k in order[:left]:
        base[k] += 1
    return [(k, Decimal(base[k] * unit).quantize(Decimal("0.01"))) for k in weights]


def _per_unit(spec: Payable) -> str:
    """The amount per unit, or 分档 when tiers make it vary."""
    if spec.tiers is not None:
        return "分档"
    return f"{yuan(fen(spec.cash) + sum(fen(g.value) for g in spec.goods))}"


def _unit_value(standard: Payable, key: tuple[str, str]) -> Decimal:
    items = list(standard.goods) + [g for step in (standard.tiers.steps if standard.tiers else []) for g in step.goods or []]
    return next((g.unit_value for g in items if (g.item, g.unit) == key), Decimal(0))


def compare(b: BudgetFigures, previous: dict[str, object], label: str) -> None:
    """Fill ``b.compare`` from an earlier allocation's summary.json (matched by standard name and village)."""
    def table(key: str) -> dict[str, dict[str, object]]:
        value = previous.get(key, {})
        return value if isinstance(value, dict) else {}

    before_std = {str(v.get("name", k)): v for k, v in table("by_standard").items() if not str(k).startswith("_")}
    now_std = {s.name: (s.households, s.total) for s in b.standards}
    lines = []
    for name in list(now_std) + [n for n in before_std if n not in now_std]:
        prev = before_std.get(name, {})
        hh_now, total_now = now_std.get(name, (0, Decimal(0)))
        lines.append(CompareLine("标准", name, int(prev.get("households", 0)), hh_now,
                                 Decimal(str(prev.get("total", "0"))), total_now))
    before_vil = table("by_village")
    now_vil = {v: (h, c + g) for _t, v, h, _p, c, g in b.villages}
    for name in list(now_vil) + [n for n in before_vil if n not in now_vil]:
        prev = before_vil.get(name, {})
        hh_now, total_now = now_vil.get(name, (0, Decimal(0)))
        lines.append(CompareLine("村(社区)", name, int(prev.get("households", 0)), hh_now,
                                 Decimal(str(prev.get("total", "0"))), total_now))
    lines.append(CompareLine("合计", "合计", int(previous.get("households", 0) or 0),
                             sum(h for _t, _v, h, *_ in b.villages), Decimal(str(previous.get("total", "0"))), b.total))
    b.compare = lines
    b.compare_with = label
