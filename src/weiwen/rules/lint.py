"""The campaign's rules checked against the vocabulary and the rosters: everything that would
make an amount differ from what the plan says without the user knowing (pure).

One code path for ``weiwen rules check`` and for the check allocate, budget, explain and run
make before any amount is computed.  Each finding is a :class:`~weiwen.core.problems.Problem` whose
file is the rules file and whose row is the line in it.  Errors refuse the run:

* a category no vocabulary knows (with the "是不是…" suggestion);
* a column a condition reads that no roster has (matched as roster headers are: brackets and
  spaces ignored, full-width and half-width the same);
* tiers with gaps or overlaps (a household size no step holds would silently get 0);
* a condition no one can satisfy (age >= 80 and < 60).

Aliases are resolved here, once: :func:`resolve` returns the rules with every category in a
condition written by its canonical name, so an alias means exactly what its name means.

Length: the catalogue of checks is one list on purpose (each check a short function over the
rules); split over several modules, "what does weiwen refuse?" could no longer be read in one place.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from rapidfuzz import fuzz
from rapidfuzz import process as fuzz_process

from weiwen.core import problems as P
from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.rules import LoadedRules
from weiwen.rules.schema import Condition, Range, Rules, Standard, Tiers
from weiwen.core.text import header_key
from weiwen.model.vocab import Vocabulary

BY_ZH = {"household_size": "户人口数", "age": "年龄", "disability_grade": "残疾等级"}
INTEGER_FACTS = ("age", "disability_grade", "household_size")


@dataclass(frozen=True)
class RosterFacts:
    """What the rules check needs to know of the rosters: their extra columns (header as written)
    and how many persons carry each category."""

    columns: frozenset[str]
    categories: Counter[str] = field(default_factory=Counter)
    files: int = 0
    villages: tuple[str, ...] = ()  # in the rosters' order
    ids: frozenset[str] = frozenset()  # every valid ID number in the rosters


class RulesRefused(WeiwenError):
    """The rules cannot mean what they say for these rosters: nothing is computed or written."""

    def __init__(self, problems: list[P.Problem]):
        self.problems = problems
        body = "\n".join(f"  - {p.location_zh()}：{p.message}（{p.code}）" + (f"\n    {p.hint}" if p.hint else "")
                         for p in problems)
        super().__init__(f"方案与花名册对照发现 {len(problems)} 处错误，未进行核定，没有写出任何文件：\n{body}",
                         code="rules-refused", exit_code=ExitCode.PROBLEMS)


# --- aliases ------------------------------------------------------------------------------

def resolve(loaded: LoadedRules, vocab: Vocabulary) -> LoadedRules:
    """The rules with every category in a condition written by its canonical name (unknown names
    are kept as written: :func:`check` reports them and the run is refused)."""
    rules = loaded.rules
    standards = [_resolve_standard(s, vocab) for s in rules.standards]
    if all(a is b for a, b in zip(standards, rules.standards, strict=True)):
        return loaded
    return replace(loaded, rules=rules.model_copy(update={"standards": standards}))


def _resolve_standard(s: Standard, vocab: Vocabulary) -> Standard:
    when = _resolve(s.when, vocab)
    parts = None
    if s.parts is not None:
        parts = [p.model_copy(update={"when": _resolve(p.when, vocab)}) if p.when is not None else p for p in s.parts]
        if all(a.when is b.when for a, b in zip(parts, s.parts, strict=True)):
            parts = None
    if when is s.when and parts is None:
        return s
    update: dict[str, object] = {"when": when}
    if parts is not None:
        update["parts"] = parts
    return s.model_copy(update=update)


def _resolve(cond: Condition, vocab: Vocabulary) -> Condition:
    if cond.category is not None:
        names = list(dict.fromkeys(_canonical(c, vocab) for c in cond.category))
        return cond if names == cond.category else cond.model_copy(update={"category": names})
    for key in ("all", "any"):
        subs = getattr(cond, key)
        if subs is not None:
            new = [_resolve(c, vocab) for c in subs]
            return cond if all(a is b for a, b in zip(new, subs, strict=True)) else cond.model_copy(update={key: new})
    if cond.not_ is not None:
        inner = _resolve(cond.not_, vocab)
        return cond if inner is cond.not_ else cond.model_copy(update={"not_": inner})
    return cond


def _canonical(name: str, vocab: Vocabulary) -> str:
    if name in vocab.categories:
        return name
    return vocab.category(name) or name


# --- the check ----------------------------------------------------------------------------

def check(loaded: LoadedRules, vocab: Vocabulary, rosters: RosterFacts | None = None) -> list[P.Problem]:
    """Every finding on the rules, with the rosters when given (errors first in each standard)."""
    rules = loaded.rules
    out = _Findings(loaded)
    used: set[str] = set()
    for i, s in enumerate(rules.standards):
        where = ("standards", i, "when")
        for cond, path in _conditions(s, where):
            part = s.parts[path[3]] if path != where and s.parts else None  # type: ignore[index]
            own = set(_categories(s.when)) if part is not None else set()  # the package's: checked once, above
            for name in _categories(cond):
                if name in own:
                    continue
                owner = s.name if part is None else f"{s.name}”的部分“{part.name}"
                if name in vocab.categories:
                    used.add(name)
                    continue
                canon = vocab.category(name)
                if canon is not None:
                    out.add("rules-category-alias", path, mention=name, standard=owner, category=name, canonical=canon)
                    used.add(canon)
                    continue
                sugg = fuzz_process.extractOne(name, list(vocab.categories), scorer=fuzz.ratio, score_cutoff=40)
                out.add("rules-category-unknown", path, mention=name, standard=owner, category=name,
                        suggestion=f"；是不是“{sugg[0]}”？" if sugg else "。")
            if rosters is not None:
                for column in _columns(cond):
                    if part is not None and column in _columns(s.when):
                        continue
                    if not _has_column(rosters, column):
                        out.add("rules-column-missing", path, mention=column, standard=s.name, header=column,
                                where=_where(rosters), detail=_column_detail(column, rosters, vocab))
            contradiction = _contradiction(cond)
            if contradiction:
                out.add("rules-condition-contradictory", path, standard=s.name, detail=contradiction)
        for k, piece in enumerate(s.pieces):
            if piece.tiers is not None:
                base = ("standards", i) if s.parts is None else ("standards", i, "parts", k)
                _check_tiers(piece.tiers, s.name if s.parts is None else f"{s.name}（{s.parts[k].name}）",
                             (*base, "tiers"), out)
        if _zero(s):
            out.add("rules-standard-zero", ("standards", i), standard=s.name)
    _exclusion_ids(loaded, rosters, out)
    if rosters is not None and rules.quotas is not None:
        _quota_villages(rules, rosters, out)
    if rosters is not None:
        for column, value in rules.exclusions.column.items():
            if not _has_column(rosters, column):
                out.add("rules-exclusion-column-missing", ("exclusions", "column", column), header=column,
                        where=_where(rosters), value=value)
    covered = {c for name in used for c in _descendants(name, vocab)}
    declared = [c for c in vocab.categories if c not in covered and c in rules.categories]
    if declared:
        out.add("rules-category-declared-unused", ("categories",), categories="、".join(declared))
    if rosters is not None:
        for category, count in sorted(rosters.categories.items(), key=lambda kv: (-kv[1], kv[0])):
            if category and category not in covered and category in vocab.categories:
                out.add("rules-category-uncovered", None, category=category, count=count)
    elif rules.campaign.recipients == "household":  # units and events: the household categories are not theirs
        bundled = [c for c in vocab.categories if c not in covered and c not in rules.categories]
        if bundled:
            out.add("rules-bundled-uncovered", None, categories="、".join(bundled))
    _competition(rules, out)
    return out.problems


def columns_read(rules: Rules) -> list[str]:
    """The roster columns a plan reads beyond the standard ones: conditions' and exclusions' columns."""
    out: list[str] = []
    for s in rules.standards:
        for cond, _path in _conditions(s, ()):
            out.extend(_columns(cond))
    out.extend(rules.exclusions.column)
    return list(dict.fromkeys(out))


def after_decision(loaded: LoadedRules, households: dict[str, int], outside: dict[str, tuple[int, str]],
                   excluded: int, lost: dict[str, int] | None = None) -> list[P.Problem]:
    """What only the decision shows: a standard nobody received (``households``: code -> households
    paid), persons who meet a standard's condition but no tier (``outside``: code -> (persons, detail))."""
    out = _Findings(loaded)
    kind = loaded.rules.campaign.recipients
    for i, s in enumerate(loaded.rules.standards):
        # An event roster lists the events of a month or so: a standard no event of it meets is usual.
        if households.get(s.code, 0) == 0 and kind != "person":
            beaten = (lost or {}).get(s.code, 0)
            how = "优先顺序" if loaded.rules.combination.mode == "priority" else "最高标准"
            why = (f"（符合这项标准的 {beaten} 户都按{how}享受了其他标准）" if beaten
                   else "（有户被排除或超出名额，请查看“未纳入”表）" if excluded else "")
            out.add("rules-standard-unused", ("standards", i), standard=s.name, why=why,
                    who="个单位" if kind == "unit" else "户")
        count, detail = outside.get(s.code, (0, ""))
        if count:
            by = "、".join(BY_ZH[p.tiers.by] for p in s.pieces if p.tiers is not None) or "档次"
            out.add("rules-tier-outside", ("standards", i), standard=s.name, count=count, by=by, detail=detail)
    return out.problems


def stated_differences(loaded: LoadedRules, lines: Iterable[tuple[str, int, Decimal]], total: Decimal) -> list[P.Problem]:
    """Every difference between what the plan states and what was computed.  ``lines``: per standard
    code, the count (persons for per-person standards, households otherwise) and the total."""
    out = _Findings(loaded)
    rules = loaded.rules
    index = {s.code: i for i, s in enumerate(rules.standards)}
    for code, count, amount in lines:
        s = rules.standards[index[code]]
        if s.stated is None:
            continue
        unit, noun = {"unit": ("个单位", "单位数"), "person": ("人次", "人次")}.get(
            rules.campaign.recipients, ("人", "人数") if s.per_person_only and s.parts is None else ("户", "户数"))
        if s.stated.count is not None and s.stated.count != count:
            out.add("rules-stated-differs", ("standards", index[code], "stated", "count"),
                    what=f"“{s.name}”的{noun}", stated=f"{s.stated.count} {unit}",
                    actual=f"{count} {unit}", diff=f"{count - s.stated.count:+d} {unit}")
        if s.stated.total is not None and s.stated.total != amount:
            out.add("rules-stated-differs", ("standards", index[code], "stated", "total"),
                    what=f"“{s.name}”的小计", stated=f"{s.stated.total} 元", actual=f"{amount} 元",
                    diff=f"{amount - s.stated.total:+} 元")
    stated_total = rules.budget.stated_total
    if stated_total is not None:
        stated_sum = [s.stated.total for s in rules.standards if s.stated is not None and s.stated.total is not None]
        if total != stated_total:
            note = ""
            if len(stated_sum) == len(rules.standards) and sum(stated_sum) != stated_total:
                note = f"；方案各项小计之和为 {sum(stated_sum)} 元，与方案写明的总计也不一致"
            out.add("rules-stated-differs", ("budget", "stated_total"), what="总计", stated=f"{stated_total} 元",
                    actual=f"{total} 元", diff=f"{total - stated_total:+} 元{note}")
    return out.problems


class _Findings:
    def __init__(self, loaded: LoadedRules):
        self.loaded = loaded
        self.problems: list[P.Problem] = []

    def add(self, code: str, path: tuple[object, ...] | None, mention: str | None = None, **fields: object) -> None:
        located = self.loaded.located
        place = located.place(path, mention) if located is not None and path is not None else None
        column = (place.column if place is not None and (place.column or place.sheet)  # a workbook: its header or none
                  else _path_text(path) if path else None)
        self.problems.append(P.make(code, file=str(self.loaded.path), sheet=place.sheet if place else None,
                                    row=place.row if place else None, column=column,
                                    cell=place.cell if place else None, **fields))


def _exclusion_ids(loaded: LoadedRules, rosters: RosterFacts | None, out: _Findings) -> None:
    """An ID on the exclusion list that cannot be one (a typo) or that no roster holds excludes nobody:
    the person meant stays on the list, paid."""
    from datetime import date

    from weiwen.core.ids import check_id, mask_id, normalize_id

    for k, raw in enumerate(loaded.rules.exclusions.ids):
        checked = check_id(raw, date.today())
        if checked.code is not None:
            out.add("rules-exclusion-id-invalid", ("exclusions", "ids", k), id=mask_id(raw), why=P.kind(checked.code).title)
        elif rosters is not None and rosters.ids and normalize_id(raw)[0] not in rosters.ids:
            out.add("rules-exclusion-id-absent", ("exclusions", "ids", k), id=mask_id(raw), where=_where(rosters))


def _quota_villages(rules: Rules, rosters: RosterFacts, out: _Findings) -> None:
    """A quota row whose village no roster has limits nobody — the village it meant (王楼 for 王楼村)
    then has no limit; a roster village without a row is not limited either."""
    assert rules.quotas is not None
    given = set(rosters.villages)
    missing = [v for v in rosters.villages if v and v not in rules.quotas.slots]
    for village in rules.quotas.slots:
        if village not in given:
            # Like a village that has no quota (王楼 for 王楼村): a typo, and that village unlimited — an error.
            # Like none: a village that sent no roster (yet) — said, not refused.
            near = fuzz_process.extractOne(village, missing, scorer=fuzz.WRatio, score_cutoff=60) if missing else None
            if near:
                out.add("rules-quota-village-unknown", ("quotas", "slots", village), village=village,
                        suggestion=f"是不是“{near[0]}”？")
            else:
                out.add("rules-quota-village-absent", ("quotas", "slots", village), village=village)
    if missing:
        out.add("rules-quota-village-missing", ("quotas",), villages="、".join(missing))


def _path_text(path: tuple[object, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p + 1}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _conditions(s: Standard, where: tuple[object, ...]) -> list[tuple[Condition, tuple[object, ...]]]:
    """The standard's condition and each part's, with their place in the file; a part's condition
    is checked together with the package's (they are ANDed)."""
    out: list[tuple[Condition, tuple[object, ...]]] = [(s.when, where)]
    for k, p in enumerate(s.parts or []):
        if p.when is not None:
            out.append((Condition(all=[s.when, p.when]), (*where[:2], "parts", k, "when")))
    return out


def _categories(cond: Condition) -> list[str]:
    out = list(cond.category or [])
    for c in _children(cond):
        out.extend(_categories(c))
    return out


def _columns(cond: Condition) -> list[str]:
    out = [cond.column] if cond.column is not None else []
    for c in _children(cond):
        out.extend(_columns(c))
    return list(dict.fromkeys(out))


def _children(cond: Condition) -> list[Condition]:
    return (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ else [])


def _has_column(rosters: RosterFacts, column: str) -> bool:
    key = header_key(column)
    return any(header_key(c) == key for c in rosters.columns)


def _where(rosters: RosterFacts) -> str:
    return "花名册" if rosters.files <= 1 else f"全部 {rosters.files} 个花名册"


def _column_detail(column: str, rosters: RosterFacts, vocab: Vocabulary) -> str:
    field_key = vocab.field_for_header(column)
    if field_key is not None:
        facts = {"household_size": "household_size", "disability_grade": "disability_grade", "relation": "relation",
                 "village": "village", "township": "township", "categories": "category", "sex": "sex"}
        hint = f"，条件请写 {facts[field_key]}" if field_key in facts else ""
        return f"“{column}”是花名册的固定列（{vocab.label(field_key)}），不能作为“其他列”读取（规则文件的 column，方案表格的 列【】）{hint}。"
    near = fuzz_process.extractOne(column, sorted(rosters.columns), score_cutoff=60)
    found = "、".join(sorted(rosters.columns)) or "无"
    return (f"是不是“{near[0]}”？" if near else "") + f"花名册中的其他列有：{found}。"


# --- tiers ----------------------------------------------------------------------------------

def _check_tiers(tiers: Tiers, name: str, path: tuple[object, ...], out: _Findings) -> None:
    """Integer keys: no value may fall in two steps, none between two steps; a household size
    must find a step from 1 person up (an age or grade outside every step is counted at run time)."""
    by = BY_ZH[tiers.by]
    bounds = [(t.min if t.min is not None else -math.inf, t.max if t.max is not None else math.inf, k + 1)
              for k, t in enumerate(tiers.steps)]
    ordered = sorted(bounds, key=lambda b: (b[0], b[1]))
    for (lo1, hi1, k1), (lo2, hi2, k2) in zip(ordered, ordered[1:]):
        if lo2 <= hi1:
            first, second = sorted((k1, k2))
            out.add("rules-tier-overlap", (*path, "steps", second - 1), standard=name, by=by,
                    value=f"为 {_num(max(lo1, lo2))} 的对象", first=first, second=second)
        elif lo2 > hi1 + 1:
            out.add("rules-tier-gap", (*path, "steps", k2 - 1), standard=name, by=by,
                    missing=_span(by, hi1 + 1, lo2 - 1))
    if tiers.by == "household_size":
        lo, first = ordered[0][0], ordered[0][2]
        hi, last = max((b[1], b[2]) for b in ordered)
        if lo > 1:
            out.add("rules-tier-gap", (*path, "steps", first - 1, "min"), standard=name, by=by,
                    missing=_span(by, 1, lo - 1))
        if hi < math.inf:
            out.add("rules-tier-gap", (*path, "steps", last - 1, "max"), standard=name, by=by,
                    missing=f"{by} {_num(hi + 1)} 及以上的对象（最后一档请不写上限，即 max）")


def _span(by: str, lo: float, hi: float) -> str:
    return f"{by}为 {_num(lo)} 的对象" if lo == hi else f"{by} {_num(lo)} 到 {_num(hi)} 的对象"


def _num(x: float) -> str:
    return str(int(x)) if x != math.inf else "∞"


# --- contradictions ---------------------------------------------------------------------------

@dataclass
class _Interval:
    lo: Decimal | None = None
    lo_open: bool = False
    hi: Decimal | None = None
    hi_open: bool = False

    def bound(self, rng: Range | Condition, integer: bool) -> None:
        for attr in ("gt", "gte", "lt", "lte", "eq"):
            v = getattr(rng, attr, None)
            if v is None:
                continue
            if attr in ("gt", "gte", "eq"):
                opened = attr == "gt"
                if self.lo is None or v > self.lo or (v == self.lo and opened):
                    self.lo, self.lo_open = v, opened
            if attr in ("lt", "lte", "eq"):
                opened = attr == "lt"
                if self.hi is None or v < self.hi or (v == self.hi and opened):
                    self.hi, self.hi_open = v, opened
        if integer:  # on whole numbers, > 79 is >= 80 and < 80.5 is <= 80
            if self.lo is not None:
                lo = math.floor(self.lo) + 1 if self.lo_open or self.lo != math.floor(self.lo) else self.lo
                self.lo, self.lo_open = Decimal(lo), False
            if self.hi is not None:
                hi = math.ceil(self.hi) - 1 if self.hi_open or self.hi != math.ceil(self.hi) else self.hi
                self.hi, self.hi_open = Decimal(hi), False

    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))


def _contradiction(cond: Condition) -> str:
    """A reason when the leaves that must all hold (the top level and ``all``) cannot hold together."""
    leaves = _conjunction(cond)
    ranges: dict[str, _Interval] = {}
    sets: dict[str, set[str]] = {}
    for c in leaves:
        kind = c.kind()
        if kind in INTEGER_FACTS:
            ranges.setdefault(kind, _Interval()).bound(getattr(c, kind), integer=True)
        elif kind == "column" and c.equals is None and c.within is None:
            ranges.setdefault(f"column:{c.column}", _Interval()).bound(c, integer=False)
        elif kind in ("sex", "village", "township", "relation") or (kind == "column"):
            key = kind if kind != "column" else f"column:{c.column}"
            values = {c.sex} if kind == "sex" else set(
                getattr(c, kind) if kind != "column" else ([c.equals] if c.equals is not None else c.within or []))
            sets[key] = sets[key] & values if key in sets else {str(v) for v in values}
    for key, interval in ranges.items():
        if interval.empty():
            return f"{_fact_name(key)}的范围为空"
    for key, values in sets.items():
        if not values:
            return f"{_fact_name(key)}不可能同时取这些值"
    return ""


def _conjunction(cond: Condition) -> list[Condition]:
    if cond.all is not None:
        return [leaf for c in cond.all for leaf in _conjunction(c)]
    return [cond]


def _fact_name(key: str) -> str:
    names = {**BY_ZH, "sex": "性别", "village": "村(社区)", "township": "乡镇(街道)", "relation": "与户主关系"}
    return f"“{key.removeprefix('column:')}”列" if key.startswith("column:") else names[key]


# --- the rest -------------------------------------------------------------------------------

def _zero(s: Standard) -> bool:
    def pays(p: object) -> bool:
        tiers = getattr(p, "tiers")
        tiers_pay = tiers is not None and any((t.cash or 0) > 0 or t.goods for t in tiers.steps)
        return getattr(p, "cash") > 0 or bool(getattr(p, "goods")) or tiers_pay
    return not any(pays(p) for p in s.pieces)


def _descendants(name: str, vocab: Vocabulary) -> set[str]:
    return {c for c in vocab.categories if name in vocab.ancestors(c)}


def _competition(rules: Rules, out: _Findings) -> None:
    competing = [s for s in rules.standards if not s.stacking]
    if len(competing) > 1 and rules.combination.mode != "all":
        how = "最高标准" if rules.combination.mode == "highest" else "优先顺序"
        scope = "一人" if rules.combination.scope == "person" else "一户"
        out.add("rules-competing", ("combination",), count=len(competing), how=how, scope=scope,
                names="、".join(f"“{s.name}”" for s in competing))
        seen: dict[str, str] = {}
        for s in competing:
            key = s.when.model_dump_json()
            if key in seen:
                out.add("rules-same-condition", None, first=seen[key], second=s.name)
            seen.setdefault(key, s.name)
