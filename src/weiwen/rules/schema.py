"""The rules language: a campaign's standards as strict pydantic models.

A rules file is YAML whose every scalar is read as text; pydantic then turns text into
exact values (money as ``Decimal`` quantised to the fen, dates as ``date``).  Unknown keys
are errors.  Conditions are structured data, never code.  ``docs/rules.md`` documents every
key; ``weiwen rules schema`` prints the JSON Schema generated from these models.

Length: the models and the checks across them (packages, combination scope, what a unit list or
an event roster can mean) are one language; split, a check would live away from the keys it reads.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

FEN = Decimal("0.01")


def _money(v: Decimal) -> Decimal:
    if not v.is_finite():
        raise ValueError("金额必须是有限的数")
    if v < 0:
        raise ValueError("金额不能为负数")
    q = v.quantize(FEN, rounding=ROUND_HALF_UP)
    if q != v:
        raise ValueError(f"金额 {v} 超过两位小数（精确到分）")
    return q


Money = Annotated[Decimal, AfterValidator(_money)]
Quantity = Annotated[Decimal, Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Range(Strict):
    """A numeric comparison: any of lt, lte, gt, gte, eq."""

    lt: Decimal | None = None
    lte: Decimal | None = None
    gt: Decimal | None = None
    gte: Decimal | None = None
    eq: Decimal | None = None

    @model_validator(mode="after")
    def _some(self) -> Range:
        if all(v is None for v in (self.lt, self.lte, self.gt, self.gte, self.eq)):
            raise ValueError("比较条件至少要写 lt（小于）、lte（不大于）、gt（大于）、gte（不小于）、eq（等于）之一")
        return self


LEAF_KEYS = ("category", "age", "sex", "disability_grade", "household_size", "village", "township", "relation",
             "column", "listed")
GROUP_KEYS = ("all", "any", "not")


class Condition(Strict):
    """One condition.  Exactly one kind per mapping; combine with all / any / not.

    Person facts: category, age, sex, disability_grade, relation, column.
    Household facts (the same for every member): household_size, village, township.
    """

    category: list[str] | None = None
    age: Range | None = None
    sex: Literal["男", "女"] | None = None
    disability_grade: Range | None = None
    household_size: Range | None = None
    village: list[str] | None = None
    township: list[str] | None = None
    relation: list[str] | None = None
    column: str | None = None
    listed: bool | None = None  # true: every line of the list: 各一线单位 (written 全部 in a plan workbook)
    # with column: a numeric comparison, or equals / in for text
    lt: Decimal | None = None
    lte: Decimal | None = None
    gt: Decimal | None = None
    gte: Decimal | None = None
    equals: str | None = None
    within: list[str] | None = Field(default=None, alias="in")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("category", "village", "township", "relation", "in"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in (*LEAF_KEYS, "all", "any") if getattr(self, k) is not None]
        if self.not_ is not None:
            kinds.append("not")
        if len(kinds) != 1:
            raise ValueError(
                "每个条件只能写一种：category、age、sex、disability_grade、household_size、village、township、"
                f"relation、column、listed、all、any、not；这里写了 {len(kinds)} 种（{'、'.join(kinds) or '无'}）"
            )
        if self.listed is False:
            raise ValueError("listed 只能写 true（名单上的每一个）；不需要时请删去这个条件")
        comparisons = [self.lt, self.lte, self.gt, self.gte, self.equals, self.within]
        if self.column is not None:
            if all(c is None for c in comparisons):
                raise ValueError("column 条件要写比较方式：lt、lte、gt、gte（数值）或 equals、in（文字）")
        elif any(c is not None for c in comparisons):
            raise ValueError("lt、lte、gt、gte、equals、in 只能与 column 一起使用")
        return self

    def leaves(self) -> list[Condition]:
        """The leaf conditions (category, age, column …) of this one, through all / any / not, in order."""
        kind = self.kind()
        if kind in ("all", "any"):
            return [leaf for c in (self.all if kind == "all" else self.any) or () for leaf in c.leaves()]
        if kind == "not":
            assert self.not_ is not None
            return self.not_.leaves()
        return [self]

    def leaf_kinds(self) -> set[str]:
        """The kinds of the leaves of this condition (category, age …)."""
        return {leaf.kind() for leaf in self.leaves()}

    def kind(self) -> str:
        for k in (*LEAF_KEYS, "all", "any"):
            if getattr(self, k) is not None:
                return k
        return "not"


class GoodsItem(Strict):
    """An in-kind item: 面粉 25 公斤 at 4 元/公斤, or 生活用品 折价 100 元 (quantity 1)."""

    item: str
    unit: str = "份"
    quantity: Quantity = Decimal(1)
    unit_value: Money

    @property
    def value(self) -> Decimal:
        return (self.quantity * self.unit_value).quantize(FEN, rounding=ROUND_HALF_UP)


class Tier(Strict):
    """One step of an amount that varies: applies when min <= key <= max."""

    min: int | None = None
    max: int | None = None
    cash: Money | None = None
    goods: list[GoodsItem] | None = None

    @model_validator(mode="after")
    def _range(self) -> Tier:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"档次的 min（{self.min}）大于 max（{self.max}）")
        if self.cash is None and self.goods is None:
            raise ValueError("档次至少要写 cash 或 goods")
        return self


class Tiers(Strict):
    by: Literal["household_size", "disability_grade", "age"]
    steps: list[Tier] = Field(min_length=1)


class Payable(Strict):
    """What is paid, per what: the amounts of a standard, or of one part of a package."""

    per: Literal["household", "person", "member"] = "household"
    cash: Money = Decimal(0)
    goods: list[GoodsItem] = Field(default_factory=list)
    tiers: Tiers | None = None
    goods_once: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Payable:
        if self.goods_once and self.per != "person":
            raise ValueError("goods_once（物资每户只发一次，其余折现金）只用于 per: person 的标准")
        if self.tiers is not None and self.tiers.by == "household_size" and self.per == "member":
            raise ValueError("per: member 已按人口数计算，不能再按 household_size 分档")
        return self


class Part(Payable):
    """One part of a package: its own per, amounts and goods; its condition is added to the package's."""

    name: str
    when: Condition | None = None


class Stated(Strict):
    """What the plan's text states for a standard: how many recipients, what subtotal."""

    count: Annotated[int, Field(ge=0)] | None = None
    total: Money | None = None

    @model_validator(mode="after")
    def _some(self) -> Stated:
        if self.count is None and self.total is None:
            raise ValueError("stated 至少要写 count（方案写的人数或户数）或 total（方案写的小计金额）之一")
        return self


PAYABLE_KEYS = ("per", "cash", "goods", "tiers", "goods_once")


class Standard(Payable):
    """One standard (档次): who qualifies, what is paid, per what — or a package of parts that
    competes as one standard (its value is the sum of its parts)."""

    code: str = Field(pattern=r"^[\w\-]+$")  # letters (汉字 too), digits, - and _: it names files and ledger entries
    name: str
    when: Condition
    parts: list[Part] | None = Field(default=None, min_length=1)
    stacking: bool = False
    stated: Stated | None = None

    @model_validator(mode="after")
    def _package(self) -> Standard:
        if self.parts is not None:
            own = [k for k in PAYABLE_KEYS if k in self.model_fields_set]
            if own:
                raise ValueError(f"写了 parts（组合包）的标准不能再写 {'、'.join(own)}：这些要写在各个部分里")
            names = [p.name for p in self.parts]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"组合包的部分名称重复：{'、'.join(dup)}")
        return self

    @property
    def pieces(self) -> list[Payable]:
        """What is paid: the parts of a package, or the standard itself."""
        return list(self.parts) if self.parts is not None else [self]

    @property
    def per_person_only(self) -> bool:
        return all(p.per == "person" for p in self.pieces)


class Combination(Strict):
    """How a household's applicable standards combine.

    highest: non-stacking standards compete, only the one of greatest value is paid (ties: the
    one declared first); priority: the first applicable one in ``order``; all: everything is paid.
    Stacking standards are always paid on top.

    scope: what competes — the household (one standard per household) or the person (each person
    is paid the one standard that is best for them; a household receives its persons' amounts).
    """

    mode: Literal["highest", "priority", "all"] = "highest"
    order: list[str] | None = None
    scope: Literal["household", "person"] = "household"


class Exclusions(Strict):
    ids: list[str] = Field(default_factory=list)
    ids_file: str | None = None
    column: dict[str, str] = Field(default_factory=dict)
    reason: str = "举报属实取消"


class CategoryDef(Strict):
    parent: str | None = None
    aliases: list[str] = Field(default_factory=list)


class Publicity(Strict):
    """How the public list is posted (公示): printed on every village's 公示名单.

    ``start`` empty: the dates are left as blanks to fill in by hand.  ``phone`` and ``office``
    empty: the lines are printed with blanks to fill in."""

    days: int = Field(default=3, ge=1, le=60)  # 张榜公示三天 unless the plan says otherwise
    start: date | None = None
    office: str = ""  # who takes objections, e.g. 城关镇民政办
    phone: str = ""  # 监督电话


RECIPIENTS_ZH = {"household": "户", "unit": "单位", "person": "职工（按事件）"}


class Campaign(Strict):
    """The campaign.  ``recipients`` says what one line of its decision is: a household of the
    village rosters (the default), a unit of a unit list (一线单位, no ID numbers), or a member's event
    on an event roster (住院, 结婚 … of a union member identified by ID number or 工号)."""

    name: str
    code: str = Field(pattern=r"^[\w\-]+$")  # letters (汉字 too), digits, - and _: it names files and ledger entries
    reference_date: date
    recipients: Literal["household", "unit", "person"] = "household"
    source: str = ""
    effective_from: date | None = None
    effective_to: date | None = None
    township: str | None = None
    rosters: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if self.effective_from and self.effective_to and self.effective_from > self.effective_to:
            raise ValueError("effective_from 晚于 effective_to")
        return self


class Split(Strict):
    """A fixed fund divided between parts by weights, to the yuan or to 10 yuan (largest remainder).

    by: weights — the parts and their weights are listed (大鱼片: 1.3, 春华片: 1);
    by: village_households — each village weighs as many households as it has aided.
    """

    fund: Money | None = None  # default: the ceiling
    by: Literal["weights", "village_households"] = "weights"
    parts: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(default_factory=dict)
    unit: int = 1

    @model_validator(mode="after")
    def _parts(self) -> Split:
        if self.unit not in (1, 10):
            raise ValueError(f"unit（取整单位）只能是 1（到元）或 10（到十元），这里是 {self.unit}")
        if self.by == "weights" and len(self.parts) < 2:
            raise ValueError("按比例分配（by: weights）至少要列出两个部分及其比例，例如 大鱼片: 1.3 和 春华片: 1")
        if self.by != "weights" and self.parts:
            raise ValueError("by: village_households 按各村核定户数分配，不需要写 parts")
        return self


class Quotas(Strict):
    """Village quotas (名额): at most ``slots[village]`` households per village.

    When more qualify, households are ranked by the amount paid (highest first), then by the
    declared order of the standard they receive, then by roster order; the rest are listed as
    over quota.  A household removed by an upheld objection keeps its slot empty unless
    ``refill`` is true.
    """

    by: Literal["village"] = "village"
    slots: dict[str, Annotated[int, Field(ge=0)]] = Field(min_length=1)
    refill: bool = False


class Limit(Strict):
    """At most ``per_year`` events of these types per member in a calendar year (of the event date),
    counted over the rosters and, with a ledger, the events recorded before.  A further event is
    neither paid nor dropped: it is listed for a decision (待决定) with the earlier ones' dates, and
    paid when the roster's 是否同意 column says 是 (同意再次慰问)."""

    event: list[str] = Field(min_length=1)
    per_year: int = Field(ge=1)

    @model_validator(mode="before")
    @classmethod
    def _list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("event"), str):
            data = {**data, "event": [data["event"]]}
        return data


class LedgerRules(Strict):
    """Who counts as already aided when a ledger is given (``--ledger``)."""

    lookback_months: int = Field(default=0, ge=0, le=120)  # 0: only this campaign's own records


class RunConfig(Strict):
    """What ``weiwen run`` does unattended: where outputs go, which steps, which ledger."""

    output: str = "输出"
    steps: list[Literal["validate", "duplicates", "allocate", "budget"]] = Field(
        default_factory=lambda: ["validate", "duplicates", "allocate", "budget"], min_length=1)
    ledger: str | None = None


class Budget(Strict):
    ceiling: Money | None = None  # the fund allocated from above
    split: Split | None = None
    stated_total: Money | None = None  # the grand total the plan's text states


class Rules(Strict):
    campaign: Campaign
    budget: Budget = Budget()
    categories: dict[str, CategoryDef] = Field(default_factory=dict)
    combination: Combination = Combination()
    cap: Money | None = None
    exclusions: Exclusions = Exclusions()
    quotas: Quotas | None = None
    ledger: LedgerRules = LedgerRules()
    run: RunConfig = RunConfig()
    publicity: Publicity = Publicity()
    limits: list[Limit] = Field(default_factory=list)
    standards: list[Standard] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Rules:
        codes = [s.code for s in self.standards]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"标准代码重复：{'、'.join(dup)}")
        if self.combination.scope == "person":
            wrong = [s.name for s in self.standards if not s.stacking and not s.per_person_only]
            once = [s.name for s in self.standards if not s.stacking and any(p.goods_once for p in s.pieces)]
            if wrong:
                raise ValueError("combination.scope: person（按人比较最高标准）时，参与比较的标准都要按人计发（per: person），"
                                 f"以下标准不是：{'、'.join(f'“{n}”' for n in wrong)}")
            if once:
                raise ValueError("combination.scope: person 时参与比较的标准不能用 goods_once（物资每户只发一次），"
                                 f"以下标准用了：{'、'.join(f'“{n}”' for n in once)}")
        self._recipients()
        if self.combination.order is not None:
            unknown = [c for c in self.combination.order if c not in codes]
            if unknown:
                raise ValueError(f"combination.order 中的 {'、'.join(unknown)} 不是已定义的标准代码")
        return self


    def _recipients(self) -> None:
        """What a unit list or an event roster cannot mean: refused, never guessed."""
        kind = self.campaign.recipients
        if self.limits and kind != "person":
            raise ValueError("limits（每人每年次数限制）只用于按事件慰问职工的活动（campaign.recipients: person）")
        if kind == "household":
            return
        what = RECIPIENTS_ZH[kind]
        per_line = "每行一个单位" if kind == "unit" else "每行一件事（一人一次）"
        allowed = UNIT_CONDITIONS if kind == "unit" else PERSON_CONDITIONS
        for s in self.standards:
            for piece in s.pieces:
                if piece.per != "household" or piece.goods_once:
                    raise ValueError(f"标准“{s.name}”：慰问{what}的名单{per_line}，每行按一份计发："
                                     "计发方式只能是“按户”（per: household），不能按人、按户人口或“物资只发一次”")
                if piece.tiers is not None:
                    raise ValueError(f"标准“{s.name}”：慰问{what}的名单不能按 {piece.tiers.by} 分档")
            conditions = [s.when, *(p.when for p in s.parts or () if p.when is not None)]
            wrong = sorted({k for c in conditions for k in c.leaf_kinds()} - allowed)
            if wrong:
                raise ValueError(f"标准“{s.name}”：慰问{what}的名单没有 {'、'.join(wrong)}，"
                                 f"条件只能用 {'、'.join(sorted(allowed))}")
        if self.quotas is not None:
            raise ValueError(f"慰问{what}的活动不能写 quotas（名额按村分配，只用于户）")
        if self.combination.scope == "person":
            raise ValueError(f"慰问{what}的活动不能写 combination.scope: person")


# The condition kinds a unit list and an event roster can answer (no household, no relation).
UNIT_CONDITIONS = frozenset({"category", "column", "village", "listed"})
PERSON_CONDITIONS = frozenset({"category", "column", "village", "age", "sex", "listed"})

ALL_KEYS: frozenset[str] = frozenset(
    {name for model in (Range, Condition, GoodsItem, Tier, Tiers, Payable, Part, Stated, Standard, Combination, Exclusions, CategoryDef,
                        Campaign, Split, Budget, Quotas, Limit, LedgerRules, RunConfig, Rules)
     for name in model.model_fields}
    | {"in", "not"}
)
