"""From validated rosters and rules to the decision for every household (the allocate step).

``decide(intake, loaded_rules, vocab)`` leaves out rows with errors and excluded households
(each listed with its reason), applies the rules engine, and returns a :class:`Decision`:
one row per aided household with every number explained, the left-out list and totals.
Pure apart from what it is given: writing the sheets is :mod:`weiwen.sheets.decision_book`.

Length: the table, its order, its reasons and the summaries by standard and village are all made
from one Allocation's arrays and the same household index; split apart they would hand those
arrays from module to module.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from weiwen.engine.amounts import MILLI, Allocation, StandardOutcome, allocate, yuan
from weiwen.engine.facts import build_population, extra_column
from weiwen.engine.limits import Event, apply_limits, member_keys
from weiwen.engine.quota import ranking as quota_ranking
from weiwen.core.ids import mask_id
from weiwen.roster.intake import Intake
from weiwen.core.problems import Problem, Severity
from weiwen.rules import LoadedRules, with_campaign_categories
from weiwen.rules.schema import Limit
from weiwen.rules.lint import RosterFacts, RulesRefused, after_decision, check, resolve, stated_differences
from weiwen.core.text import text_series
from weiwen.model.frames import DECISION, EVENTS, HOUSEHOLDS, MEMBERS, PERSONS, goods_column
from weiwen.model.frames import check as check_frame
from weiwen.model.recipients import RecipientKind
from weiwen.model.vocab import Vocabulary


@dataclass
class LeftOut:
    """A roster row or household that receives nothing, and why."""

    kind: str  # 行有错误 / 排除 / 超出名额 / 不符合条件 / 待决定 / 不同意 (an event beyond a limit)
    file: str
    sheet: str
    row: int
    village: str
    name: str
    id_masked: str
    reason: str
    # Structured detail, for ``weiwen explain`` (not written to the sheets or the JSON):
    household: int = -1  # the household's number in the roster frame (model.frames.PERSONS "household")
    source: str = ""  # 排除: ids (rules list/file) / objection (ledger) / column / township / ledger / head-error
    column: str = ""  # source column: the roster column whose value excluded the household
    rank: int = 0  # 超出名额: the household's place in its village's ranking, from 1
    slots: int = 0  # 超出名额: the village's slots
    amount_fen: int = 0  # 超出名额: what the household would have received
    last_admitted_fen: int = 0  # 超出名额: the amount of the last household within the slots (0 when no slot)
    id_number: str = ""  # the full ID (of the row, or of the household's head): internal, never written out
    event: str = ""  # 待决定 / 不同意: the event's type
    event_date: date | None = None  # 待决定 / 不同意: when it happened
    earlier: list[date] = field(default_factory=list)  # 待决定 / 不同意: the member's earlier events of the year


@dataclass
class Decision:
    allocation: Allocation
    table: pd.DataFrame  # one row per aided household: model.frames.DECISION
    left_out: list[LeftOut]
    goods: list[tuple[str, str]]  # (item, unit) in first-seen order
    plan: LoadedRules  # the campaign's rules as loaded (aliases resolved): ``plan.rules.cap``
    members: pd.DataFrame  # every person (with an ID) of the aided households: model.frames.MEMBERS
    persons_aided: int = 0
    by_standard: dict[str, dict[str, object]] = field(default_factory=dict)
    by_village: dict[str, dict[str, object]] = field(default_factory=dict)
    findings: list[Problem] = field(default_factory=list)  # the rules check's warnings and notes on this run
    kind: RecipientKind = RecipientKind.HOUSEHOLD  # what one row of the table is: a household, a unit, an event
    events: pd.DataFrame | None = None  # an event roster's events of the table's rows (model.frames.EVENTS)

    @property
    def cash(self) -> Decimal:
        return yuan(int(self.table["cash_fen"].sum())) if len(self.table) else Decimal("0.00")

    @property
    def goods_value(self) -> Decimal:
        return yuan(int(self.table["goods_fen"].sum())) if len(self.table) else Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.cash + self.goods_value


NAMES_SEPARATOR = "；"  # standards' names may hold 、 themselves (伤残军人、参战涉核、在乡老复员军人)


def decide(intake: Intake, loaded: LoadedRules, vocab: Vocabulary,
           already_aided: dict[str, str] | None = None, objections: dict[str, str] | None = None,
           earlier_events: Sequence[Event] = (), recorded: dict[int, str] | None = None) -> Decision:
    """``already_aided``: normalised ID -> the ledger entry that makes the person's household wait.
    ``objections``: normalised ID -> the upheld objection (异议成立) that removes the person's
    household after the quota, like the rules' ``exclusions.ids`` (its slot is not refilled).
    ``earlier_events``: an event roster's events recorded before (the ledger), counted first by the
    rules' frequency limits (:mod:`weiwen.engine.limits`).  ``recorded``: lines of a unit list or
    an event roster (by household number) that the ledger holds already, with what it says of them.

    The rules are first checked against the rosters (:func:`weiwen.rules.lint.check`): a rule that
    cannot mean what it says raises :class:`~weiwen.rules.lint.RulesRefused` before any amount is
    computed.  Categories are then resolved to their canonical names, so an alias in a rule means
    exactly what its name means."""
    vocab = with_campaign_categories(vocab, loaded)
    frame = check_frame(PERSONS, intake.frame)
    findings = check(loaded, vocab, roster_facts(intake))
    refused = [f for f in findings if f.severity is Severity.ERROR]
    if refused:
        raise RulesRefused(refused)
    loaded = resolve(loaded, vocab)
    rules = loaded.rules
    left_out: list[LeftOut] = []

    # 1. Rows with errors are left out, each with its messages.
    errors_by_row: dict[tuple[str, str | None, int | None], list[str]] = defaultdict(list)
    for p in intake.errors:
        if p.row is not None:
            errors_by_row[(p.file, p.sheet, p.row)].append(p.message)
    valid = frame["valid"].to_numpy(dtype=bool) if len(frame) else np.zeros(0, bool)
    for r in frame.loc[~valid].itertuples(index=False):
        msgs = errors_by_row.get((r.file, r.sheet, int(r.row)), ["该行有错误"])
        left_out.append(LeftOut("行有错误", r.file, r.sheet, int(r.row), r.village, r.name,
                                mask_id(r.id_number), "；".join(msgs), household=r.household, id_number=r.id_number))

    # 2. Households whose head row has an error cannot sign: the whole household waits for the fix.
    good = frame if valid.all() else frame.loc[valid]  # no copy of a million rows when nothing is wrong
    bad_heads = set(frame.loc[~valid & frame["is_head"].to_numpy(dtype=bool), "household"])
    # 3. Exclusions from the rules (objections upheld, roster columns, other townships).
    reasons: dict[int, str] = {}
    for hh in bad_heads:
        reasons[hh] = "户主所在行有错误，待更正后再核定"
    ex = rules.exclusions
    # Objections upheld: decided after the quota, so that the household's slot is not refilled.
    withdrawn_why: dict[int, tuple[str, str]] = {}  # household -> (reason, source)
    if objections:
        hit = good["id_number"].isin(list(objections)).to_numpy(dtype=bool)
        for key, id_number in zip(good.loc[hit, "household"], good.loc[hit, "id_number"], strict=True):
            if key not in reasons:
                withdrawn_why.setdefault(key, (objections[id_number], "objection"))
    if loaded.excluded_ids:
        for key in set(good.loc[good["id_number"].isin(loaded.excluded_ids), "household"]) - set(reasons):
            withdrawn_why.setdefault(key, (ex.reason, "ids"))
    withdrawn_keys = set(withdrawn_why)
    if already_aided:
        hit = good["id_number"].isin(list(already_aided)).to_numpy(dtype=bool)
        for hh, id_number in zip(good.loc[hit, "household"], good.loc[hit, "id_number"], strict=True):
            reasons.setdefault(hh, already_aided[id_number])
    for hh, said in (recorded or {}).items():
        reasons.setdefault(hh, said)
    for column, value in ex.column.items():
        values = extra_column(good, column)  # a column no roster has is a warning of the rules check
        if values is not None:
            for hh in good.loc[(values.astype(str) == value).to_numpy(dtype=bool), "household"]:
                reasons.setdefault(hh, f"{column}为“{value}”")
    if rules.campaign.township:
        outside = (good["township"] != "") & (good["township"] != rules.campaign.township)
        for hh in good.loc[outside, "household"]:
            reasons.setdefault(hh, f"不属于{rules.campaign.township}")
    excluded_mask = good["household"].isin(reasons).to_numpy(dtype=bool)
    ledger_texts = set(already_aided.values()) if already_aided else set()
    ledger_texts |= set((recorded or {}).values())
    column_texts = {f"{column}为“{value}”": column for column, value in ex.column.items()}
    for r in good.loc[excluded_mask & good["is_head"].to_numpy(dtype=bool)].itertuples(index=False):
        why = reasons[r.household]
        source = ("head-error" if r.household in bad_heads else "ledger" if why in ledger_texts
                  else "column" if why in column_texts else "township")  # in the order the reasons were set
        left_out.append(LeftOut("排除", r.file, r.sheet, int(r.row), r.village, r.name, mask_id(r.id_number), why,
                                household=r.household, source=source, column=column_texts.get(why, ""),
                                id_number=r.id_number))
    considered = good.loc[~excluded_mask] if excluded_mask.any() else good
    approved: dict[int, str] = {}
    if rules.limits and intake.events is not None:
        held, approved = _limits(considered, intake.events, rules.limits, earlier_events)
        left_out.extend(held)
        if held:
            considered = considered.loc[~considered["household"].isin([x.household for x in held]).to_numpy(dtype=bool)]

    pop = build_population(considered, vocab, rules.campaign.reference_date, intake.kind)
    check_frame(HOUSEHOLDS, pop.households)
    alloc = allocate(pop, rules)
    hh = pop.households
    withdrawn = hh["household"].isin(withdrawn_keys).to_numpy(dtype=bool)
    ranked = quota_ranking(alloc, rules.quotas, withdrawn) if rules.quotas else None
    over = (ranked.rank > ranked.slots) & ~withdrawn if ranked is not None else np.zeros(len(hh), dtype=bool)
    held = np.flatnonzero(withdrawn | over)
    qualified = alloc.aided.copy()
    unqualified = np.flatnonzero(~qualified & ~withdrawn)
    # Only the left-out households' texts are taken out of the table (not every household's).
    gone = np.concatenate([held, unqualified])
    texts = [hh[c].iloc[gone].tolist() for c in ("file", "sheet", "row", "village", "head_name", "head_id", "household")]
    for k, (i, file, sheet, row, village, head, head_id, key) in enumerate(zip(gone.tolist(), *texts, strict=True)):
        x = LeftOut("不符合条件", file, sheet, int(row), village, head, mask_id(head_id), "不符合任何慰问标准",
                    household=key, id_number=head_id)
        if k < len(held) and withdrawn[i]:
            why, x.source = withdrawn_why[key]
            x.kind = "排除"
            x.reason = why + ("" if not rules.quotas or rules.quotas.refill else "，名额不予补缺")
        elif k < len(held):
            x.kind, x.source = "超出名额", "quota"
            assert ranked is not None
            x.rank, x.slots, x.last_admitted_fen = (int(ranked.rank[i]), int(ranked.slots[i]),
                                                    int(ranked.last_admitted[i]))
            x.amount_fen = int(alloc.total[i])
            x.reason = f"{village}名额 {x.slots} 户，按慰问金额排序后未入选"
        left_out.append(x)
    alloc.withhold(withdrawn | over)
    aided = alloc.aided
    left_out.sort(key=lambda x: (x.file, x.sheet, x.row))
    goods = list(alloc.items)
    table = _table(alloc, aided, goods)
    if approved:
        hit = table["household"].isin(approved).to_numpy(dtype=bool)
        notes = [approved[h] for h in table.loc[hit, "household"]]
        table.loc[hit, "reason"] = [f"{r}；{n}" for r, n in zip(table.loc[hit, "reason"], notes, strict=True)]
    people = considered.loc[considered["household"].isin(table["household"]).to_numpy(dtype=bool)
                            & considered["id_number"].notna().to_numpy(dtype=bool), ["household", "id_number", "name", "is_head"]]
    decision = Decision(allocation=alloc, table=check_frame(DECISION, table), left_out=left_out, goods=goods,
                        plan=loaded, members=check_frame(MEMBERS, people.reset_index(drop=True)), kind=intake.kind)
    if intake.events is not None:
        decision.events = check_frame(EVENTS, intake.events.loc[intake.events["household"].isin(table["household"])
                                                                .to_numpy(dtype=bool)].reset_index(drop=True))
    decision.persons_aided = int(table["persons"].sum()) if len(table) else 0
    decision.by_standard = _by_standard(alloc, aided)
    decision.by_village = _by_village(table)
    decision.findings = findings + _decision_findings(decision)
    return decision


def _limits(lines: pd.DataFrame, events: pd.DataFrame, limits: list[Limit], earlier: Sequence[Event]
            ) -> tuple[list[LeftOut], dict[int, str]]:
    """Events beyond the plan's limits: held for a decision (待决定) or refused (不同意) — listed,
    never silently paid or dropped — and the approved ones' notes, by household."""
    facts = events.set_index("household").loc[lines["household"].to_numpy()]
    ids = [i if isinstance(i, str) else None for i in lines["id_number"]]
    members = member_keys(ids, facts["staff_no"].tolist())
    days = [None if pd.isna(d) else pd.Timestamp(d).date() for d in facts["event_date"]]
    roster = [Event(m, str(e), d, str(a)) for m, e, d, a in zip(members, facts["event"], days, facts["approval"], strict=True)]
    held = apply_limits(roster, limits, earlier)
    out: list[LeftOut] = []
    approved: dict[int, str] = {}
    rows = list(lines.itertuples(index=False))
    for i, h in sorted(held.items()):
        r, e = rows[i], roster[i]
        types = "、".join(h.limit.event)
        dates = "、".join(d.isoformat() for d in h.earlier)
        what = f"本年度第 {h.nth} 次“{types}”（方案每人每年 {h.limit.per_year} 次；此前：{dates}）"
        if h.approved:
            approved[int(r.household)] = f"{what}，经同意再次慰问"
            continue
        kind, why = (("不同意", f"{what}，是否同意：否，不予慰问") if h.refused else
                     ("待决定", f"{what}：请决定是否慰问，在登记表“是否同意”一列填“是”或“否”后重新核定"))
        x = LeftOut(kind, r.file, r.sheet, int(r.row), r.village, r.name, mask_id(r.id_number), why,
                    household=int(r.household), source="limit", id_number=r.id_number or "")
        x.event, x.event_date, x.earlier = e.event, e.day, h.earlier
        out.append(x)
    return out, approved


def roster_facts(intake: Intake) -> RosterFacts:
    """The rosters as the rules check sees them: their extra columns and category counts."""
    frame = intake.frame
    columns = frozenset(c.removeprefix("extra:") for c in frame.columns if isinstance(c, str) and c.startswith("extra:"))
    counts: Counter[str] = Counter()
    if len(frame):
        for cell, n in frame["categories"].fillna("").value_counts(sort=False).items():
            for c in str(cell).split("、"):
                if c:
                    counts[c] += int(n)
    villages = tuple(dict.fromkeys(frame["village"].dropna().astype(str))) if len(frame) else ()
    ids = frozenset(frame["id_number"].dropna().astype(str)) if len(frame) else frozenset()
    return RosterFacts(columns=columns, categories=counts, files=len(intake.files), villages=villages, ids=ids)


def _decision_findings(d: Decision) -> list[Problem]:
    """What only the decision shows: unused standards, persons outside every tier, stated totals."""
    rules = d.plan.rules
    households = {code: int(line["households"]) for code, line in d.by_standard.items()  # type: ignore[call-overload]
                  if not code.startswith("_")}
    outside: dict[str, tuple[int, str]] = {}
    for o in d.allocation.outcomes:
        if o.outside:
            steps = [step for piece in o.standard.pieces if piece.tiers for step in piece.tiers.steps]
            spans = "、".join(_span(t.min, t.max) for t in steps)
            outside[o.standard.code] = (o.outside, f"各档为 {spans}")
    excluded = sum(1 for x in d.left_out if x.kind in ("排除", "超出名额"))
    alloc = d.allocation
    lost = {o.standard.code: int(np.count_nonzero(o.applies & alloc.aided & ~alloc.paid[:, j]))
            for j, o in enumerate(alloc.outcomes)}
    out = after_decision(d.plan, households, outside, excluded, lost)
    lines = []
    for s in rules.standards:
        line = d.by_standard[s.code]
        count = line["units"] if s.per_person_only and s.parts is None else line["households"]
        lines.append((s.code, int(count), Decimal(str(line["total"]))))  # type: ignore[call-overload]
    return out + stated_differences(d.plan, lines, d.total)


def _span(lo: int | None, hi: int | None) -> str:
    if lo is None and hi is None:
        return "全部"
    if lo is None:
        return f"{hi} 及以下"
    if hi is None:
        return f"{lo} 及以上"
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def goods_total(decision: Decision, key: tuple[str, str]) -> float:
    return float(decision.table[goods_column(key)].sum()) if len(decision.table) else 0.0


def _table(alloc: Allocation, aided: np.ndarray, goods: list[tuple[str, str]]) -> pd.DataFrame:
    pop = alloc.pop
    hh_all = pop.households
    idx = np.flatnonzero(aided)
    idx = idx[_village_file_row_order(hh_all, idx)]  # the table's order: by village, then as listed
    hh = hh_all.iloc[idx].reset_index(drop=True)
    outcomes = alloc.outcomes
    names = [o.standard.name for o in outcomes]
    codes = [o.standard.code for o in outcomes]
    applies = alloc.applies
    paid = alloc.paid[idx]
    lost = applies[idx] & ~paid
    # Households share a handful of (paid, lost, capped) patterns: build each pattern's text once.
    which, uniq = _patterns(paid, lost, alloc.capped[idx] > 0)
    texts = []
    for p_bits, l_bits, capped in uniq:
        paid_j = [j for j in range(len(outcomes)) if p_bits >> j & 1]
        lost_j = [j for j in range(len(outcomes)) if l_bits >> j & 1]
        texts.append(("、".join(codes[j] for j in paid_j), NAMES_SEPARATOR.join(names[j] for j in paid_j),
                      _reason(alloc, paid_j, lost_j, bool(capped))))
    applied = [texts[w][0] for w in which]
    applied_names = [texts[w][1] for w in which]
    reasons = [texts[w][2] for w in which]
    for j, o in enumerate(outcomes):  # a package paid: its parts and their amounts
        if o.parts:
            got = alloc.paid_outcome(j)
            values = np.column_stack([part.value[idx] for part in got.parts])
            labels = [part.label for part in got.parts]
            for r in np.flatnonzero(paid[:, j]).tolist():
                pieces = [f"{labels[k]} {_money(v)} 元" for k, v in enumerate(values[r].tolist()) if v]
                reasons[r] += f"；“{o.standard.name}”{_money(int(values[r].sum()))} 元 = " + " + ".join(pieces)
    for r, i in enumerate(idx.tolist()):
        if alloc.capped[i]:
            reasons[r] += f"，现金减少 {_money(alloc.capped[i])} 元"
    suppressed = [""] * len(idx)
    values = [o.value for o in outcomes]  # computed once: each is a sum over every household
    for r in np.flatnonzero(lost.any(axis=1)).tolist():
        i = idx[r]
        suppressed[r] = "、".join(f"{names[j]}（{_money(values[j][i])}元）" for j in np.flatnonzero(lost[r]))
    persons = alloc.persons[idx]
    table = pd.DataFrame({
        "household": hh["household"], "kind": hh["kind"], "link": hh["link"], "ref": hh["ref"],
        "village": hh["village"], "township": hh["township"], "household_no": hh["household_no"],
        "head_name": hh["head_name"], "head_id": hh["head_id"], "head_phone": hh["head_phone"],
        "head_bank": hh["head_bank"], "head_bank_name": hh["head_bank_name"], "size": hh["size"], "persons": persons,
        "categories": text_series(_categories_by_household(alloc)[idx]), "applied": text_series(applied),
        "applied_names": text_series(applied_names), "suppressed": text_series(suppressed), "cash_fen": alloc.cash[idx], "goods_fen": alloc.goods_value[idx],
        "total_fen": alloc.total[idx], "capped_fen": alloc.capped[idx], "reason": text_series(reasons),
        "file": hh["file"], "sheet": hh["sheet"], "row": hh["row"],
    })
    for key in goods:
        table[goods_column(key)] = alloc.items[key][idx] / MILLI
    return table


def _village_file_row_order(hh: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    """The stable order of households ``idx``: villages in the order they first appear in the
    rosters as given (so 01-赵寨村.xlsx, 02-…, 10-… keep the order of their files, not the
    characters' code points), then by file and row; computed on integer codes."""
    if not len(idx):
        return np.zeros(0, dtype=np.int64)
    file = pd.factorize(hh["file"], sort=False)[0][idx]  # the households are in input order
    row = hh["row"].to_numpy(dtype=np.int64)[idx]
    village = pd.factorize(hh["village"].iloc[idx], sort=False)[0]
    first = np.full(village.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, village, file.astype(np.int64) * (1 << 32) + row)
    return np.lexsort((row, file, first[village]))


def _patterns(paid: np.ndarray, lost: np.ndarray, capped: np.ndarray) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Each household's (paid standards, suppressed standards, capped) pattern as bit sets: which
    pattern every row has, and the distinct patterns."""
    n = paid.shape[1]
    weights = 1 << np.arange(n, dtype=np.int64)
    p_bits, l_bits, c_bits = paid @ weights, lost @ weights, capped.astype(np.int64)
    if 2 * n + 1 <= 62:  # one integer per household: hashed, not sorted
        found, distinct = pd.factorize((p_bits << (n + 1)) | (l_bits << 1) | c_bits)
        mask = (1 << n) - 1
        return found.tolist(), [(int(k) >> (n + 1), int(k) >> 1 & mask, int(k) & 1) for k in distinct.tolist()]
    uniq, which = np.unique(np.stack([p_bits, l_bits, c_bits], axis=1), axis=0, return_inverse=True)
    return which.ravel().tolist(), [tuple(u) for u in uniq.tolist()]


def _categories_by_household(alloc: Allocation) -> np.ndarray:
    """Each household's categories: its members' categories in order of first appearance."""
    pop = alloc.pop
    g = pop.n_households
    out = np.full(g, "", dtype=object)
    cell, texts = pd.factorize(pop.persons["categories"].fillna(""))
    texts = np.asarray(texts, dtype=object)
    keep = np.flatnonzero(texts[cell] != "") if len(cell) else np.zeros(0, np.int64)
    pairs = pd.unique(pop.household[keep].astype(np.int64) * len(texts) + cell[keep])  # first appearance first
    hh, code = pairs // max(len(texts), 1), pairs % max(len(texts), 1)
    single = np.bincount(hh, minlength=g)[hh] == 1
    out[hh[single]] = texts[code[single]]  # the usual household: its members wrote the same categories
    merged: dict[int, list[str]] = {}
    for h, c in zip(hh[~single].tolist(), code[~single].tolist(), strict=True):
        cats = merged.setdefault(h, [])
        for x in texts[c].split("、"):
            if x not in cats:
                cats.append(x)
    for h, cats in merged.items():
        out[h] = "、".join(cats)
    return out


def _money(amount_fen: int) -> str:
    value = yuan(int(amount_fen))
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value}"


def _reason(alloc: Allocation, paid: list[int], lost: list[int], capped: bool) -> str:
    """One plain-language line: why households with this pattern get what they get."""
    outs = alloc.outcomes
    parts = []
    competing_paid = [j for j in paid if not outs[j].standard.stacking]
    stacking_paid = [j for j in paid if outs[j].standard.stacking]
    combination = alloc.rules.combination
    if competing_paid and combination.scope == "person" and combination.mode != "all":
        mode = "按优先顺序" if combination.mode == "priority" else "按最高标准"
        names = "、".join(f"“{outs[j].standard.name}”" for j in competing_paid)
        parts.append(f"每人{mode}只享受一项，本户享受{names}")
    elif competing_paid and lost and combination.mode != "all":
        mode = "按优先顺序" if combination.mode == "priority" else "按最高标准"
        parts.append(f"同时符合{len(lost) + len(competing_paid)}项标准，{mode}享受“{outs[competing_paid[0]].standard.name}”")
    else:
        parts.extend(f"享受“{outs[j].standard.name}”" for j in competing_paid)
    parts.extend(f"另加“{outs[j].standard.name}”" for j in stacking_paid)
    if capped:
        parts.append(f"超过每户上限 {alloc.rules.cap} 元")
    return "；".join(parts)


def _by_standard(alloc: Allocation, aided: np.ndarray) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for j in range(len(alloc.outcomes)):
        o = alloc.paid_outcome(j)
        paid = alloc.paid[:, j] & aided
        line = _standard_line(o, paid)
        if o.parts:
            line["parts"] = [dict(_standard_line(part, paid & (part.units > 0)), name=part.label) for part in o.parts]
        out[o.standard.code] = line
    if alloc.capped.any():
        out["_cap"] = {"name": "每户上限扣减", "households": int((alloc.capped > 0).sum()),
                       "cash": str(-yuan(int(alloc.capped.sum()))), "total": str(-yuan(int(alloc.capped.sum())))}
    return out


def _standard_line(o: StandardOutcome, paid: np.ndarray) -> dict[str, object]:
    return {
        "name": o.standard.name,
        "households": int(paid.sum()),
        "units": int(o.units[paid].sum()),
        "cash": str(yuan(int(o.cash[paid].sum()))),
        "goods_value": str(yuan(int(o.goods_value[paid].sum()))),
        "total": str(yuan(int(o.value[paid].sum()))),
    }


def _by_village(table: pd.DataFrame) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    if not len(table):
        return out
    # sort=False: the table's order, villages as listed in the rosters
    g = table.groupby("village", sort=False).agg(households=("household", "size"), persons=("persons", "sum"),
                                                  cash=("cash_fen", "sum"), goods=("goods_fen", "sum"))
    for village, r in g.iterrows():
        out[str(village)] = {"households": int(r["households"]), "persons": int(r["persons"]),
                             "cash": str(yuan(int(r["cash"]))), "goods_value": str(yuan(int(r["goods"]))),
                             "total": str(yuan(int(r["cash"] + r["goods"])))}
    return out
