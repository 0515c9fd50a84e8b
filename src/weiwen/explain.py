"""What happened to one household, for staff answering a resident's objection (pure).

``explain(decision, frame, key)`` finds the household that ``key`` names — any member's ID
number, a 户号, a precise ``村名/户号`` (or ``村名:户号``, full-width ／ ： too), or the 户编码
of allocation.csv — in the roster frame (every row, with errors or not), and says what became
of it: paid or not qualified (the full trace), excluded (which exclusion and which ID list or
column), over quota (its rank, the village's slots, the last admitted amount), already in the
ledger (campaign, date, office), left out for roster errors (the errors); or that no household,
or several, match.  The result is an :class:`Explanation`: the outcome and the lines to print.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from weiwen.decision import Decision, LeftOut
from weiwen.engine.amounts import MILLI, yuan
from weiwen.engine.conditions import describe, evaluate
from weiwen.core.ids import mask_id, normalize_id
from weiwen.model.recipients import household_code
from weiwen.rules.schema import Condition

PER_ZH = {"household": "按户", "person": "按人", "member": "按户人口"}
MODE_ZH = {"highest": "按最高标准只发一项", "priority": "按规定的优先顺序只发一项", "all": "各项都发"}

# Outcomes: what became of the household (or why there is no single household to explain).
PAID = "paid"
NOT_QUALIFIED = "not-qualified"
EXCLUDED = "excluded"
OVER_QUOTA = "over-quota"
LEDGER = "ledger"
ROSTER_ERROR = "roster-error"
NOT_FOUND = "not-found"
AMBIGUOUS = "ambiguous"

_PRECISE = re.compile(r"^(.+?)\s*[/:]\s*(.+)$")  # 村名/户号 after NFKC (／ → /, ： → :)
_MIN_ID_TEXT = 15  # an ID cell with an error is matched only by a key this long (not "3" for a cell "3")


@dataclass
class Explanation:
    outcome: str  # PAID, NOT_QUALIFIED, EXCLUDED, OVER_QUOTA, LEDGER, ROSTER_ERROR, NOT_FOUND or AMBIGUOUS
    lines: list[str]


def explain(decision: Decision, frame: pd.DataFrame, key: str) -> Explanation:
    """What became of the household ``key`` names; ``frame`` is the validated roster frame
    (``Intake.frame``: every row, including those with errors)."""
    rows, person = find_rows(frame, key)
    households = list(dict.fromkeys(frame["household"].iloc[rows].tolist())) if len(rows) else []
    if not households:
        return Explanation(NOT_FOUND, [f"在花名册中找不到“{shown_key(key)}”对应的人或户。", _forms(frame),
                                       "如果此人的身份证号在花名册中填错了，请先用 weiwen validate 查看该行的错误。"])
    if len(households) > 1:
        return _ambiguous(frame, key, households)
    household = households[0]
    if person and not bool(frame["valid"].iat[rows[0]]):
        return _row_error(decision, frame, household, int(rows[0]))
    return _household(decision, frame, household)


def find_rows(frame: pd.DataFrame, key: str) -> tuple[np.ndarray, bool]:
    """The roster rows ``key`` names, and whether it named a person (an ID number) rather than a household.

    Tried in turn: an ID number, a 户号, a 户编码, then ``村名/户号`` or ``村名/身份证号``.  Never a
    row number: a roster without 户号 is matched by ID numbers only."""
    none = np.zeros(0, dtype=np.int64)
    text = unicodedata.normalize("NFKC", key).strip()
    if not len(frame) or not text:
        return none, False
    everywhere = np.ones(len(frame), dtype=bool)
    for within, wanted in [(everywhere, text), *_precise(frame, text)]:
        hit = within & _id_rows(frame, wanted)
        if hit.any():
            return np.flatnonzero(hit), True
        hit = within & _equal(frame["household_no"], wanted)
        if not hit.any() and wanted.isdigit():  # 1 for 001: a number typed without the zeros the roster has
            numbers = frame["household_no"].fillna("").astype(str).str.lstrip("0")
            hit = within & (numbers == (wanted.lstrip("0") or "0")).to_numpy(dtype=bool)
        if hit.any():
            return np.flatnonzero(hit), False
        if within is everywhere:  # the 户编码 of allocation.csv and the audit sample
            hit = _household_codes(frame) == key.strip()
            if hit.any():
                return np.flatnonzero(hit), False
    return none, False


def shown_key(key: str) -> str:
    """The key as echoed back: an ID number masked, also inside ``村名/身份证号``."""
    text = unicodedata.normalize("NFKC", key).strip()
    m = _PRECISE.match(text)
    if m and len(m.group(2)) >= _MIN_ID_TEXT:
        return f"{m.group(1)}/{mask_id(m.group(2))}"
    return mask_id(text) if len(text) >= _MIN_ID_TEXT else text


def _forms(frame: pd.DataFrame) -> str:
    """What a key can be, with an example from these rosters."""
    numbered = np.flatnonzero(_filled(frame["household_no"]) & _filled(frame["village"]))
    if not len(numbered):
        return "这些花名册没有户号，请写户内任何一人的身份证号。"
    i = int(numbered[0])
    return (f"可以写户内任何一人的身份证号、户号，或“村名/户号”"
            f"（如“{_text(frame, 'village', i)}/{_text(frame, 'household_no', i)}”）。")


def _precise(frame: pd.DataFrame, text: str) -> list[tuple[np.ndarray, str]]:
    m = _PRECISE.match(text)
    if not m:
        return []
    return [(_equal(frame["village"], m.group(1)), m.group(2))]


def _equal(column: pd.Series, value: str) -> np.ndarray:
    """Cells equal to ``value`` (a missing cell equals nothing), compared without making Python strings."""
    return (column == value).fillna(False).to_numpy(dtype=bool)


def _filled(column: pd.Series) -> np.ndarray:
    return (column.fillna("") != "").to_numpy(dtype=bool)


def _id_rows(frame: pd.DataFrame, text: str) -> np.ndarray:
    norm, _ = normalize_id(text)
    hit = _equal(frame["id_number"], norm).copy()  # may be a read-only view of Arrow memory
    if len(norm) >= _MIN_ID_TEXT and "id_text" in frame.columns:  # an ID written wrongly, as the row has it
        raw = frame["id_text"]
        for i in np.flatnonzero(raw.notna().to_numpy(dtype=bool)).tolist():
            if normalize_id(str(raw.iat[i]))[0] == norm:
                hit[i] = True
    return hit


def _household_codes(frame: pd.DataFrame) -> np.ndarray:
    """Each row's household as allocation.csv writes it (model.recipients.household_code)."""
    columns = [frame[c].fillna("").astype(str).to_numpy(dtype=object)
               for c in ("household_link", "village", "household_ref")]
    return np.array([household_code(*row) for row in zip(*columns, strict=True)], dtype=object)


def _rows_of(frame: pd.DataFrame, household: int) -> np.ndarray:
    return np.flatnonzero(frame["household"].to_numpy() == household)


def _text(frame: pd.DataFrame, column: str, i: int) -> str:
    if column not in frame.columns:
        return ""
    value = frame[column].iat[i]
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _head_row(frame: pd.DataFrame, rows: np.ndarray) -> int:
    heads = [i for i in rows.tolist() if bool(frame["is_head"].iat[i])]
    return heads[0] if heads else int(rows[0])


def _masked(frame: pd.DataFrame, i: int) -> str:
    """The row's ID number masked — also one written wrongly (kept as the row has it)."""
    return mask_id(_text(frame, "id_number", i) or _text(frame, "id_text", i)) or "无身份证号"


def _where(frame: pd.DataFrame, rows: list[int]) -> str:
    i = rows[0]
    return (f"{_text(frame, 'file', i)} 工作表“{_text(frame, 'sheet', i)}”"
            f"第 {', '.join(str(int(frame['row'].iat[r])) for r in rows)} 行")


def _household_line(frame: pd.DataFrame, rows: np.ndarray) -> str:
    h = _head_row(frame, rows)
    return (f"户：{_text(frame, 'village', h) or '（未写村名）'} 户号 {_text(frame, 'household_no', h) or '—'}，"
            f"户主 {_text(frame, 'name', h)}（{_where(frame, rows.tolist())}）")


def _ambiguous(frame: pd.DataFrame, key: str, households: list[int]) -> Explanation:
    lines = [f"“{shown_key(key)}”对应 {len(households)} 户，不知道要解释哪一户："]
    example = ""
    places: list[tuple[str, str]] = []
    for household in households:
        rows = _rows_of(frame, household)
        h = _head_row(frame, rows)
        village, no = _text(frame, "village", h), _text(frame, "household_no", h)
        places.append((village, no))
        example = example or (f"{village}/{no}" if village and no else "")
        lines.append("  " + _household_line(frame, rows).removeprefix("户："))
    lines.append("请写得更具体：写成“村名/户号”（也可写作“村名:户号”），或“村名/身份证号”，"
                 + (f"例如 weiwen explain {example} ……；" if example else "")
                 + "也可以写户内任何一人的身份证号。")
    if len(set(places)) < len(places):
        lines.append("其中有的户村名和户号都相同（在不同的文件或工作表中）：请用户内成员的身份证号，"
                     "或先用 weiwen check-duplicates 核对是否重复登记。")
    return Explanation(AMBIGUOUS, lines)


def _row_errors(decision: Decision, household: int) -> dict[tuple[str, str, int], LeftOut]:
    return {(x.file, x.sheet, x.row): x for x in decision.left_out if x.kind == "行有错误" and x.household == household}


def _error_lines(decision: Decision, frame: pd.DataFrame, household: int, rows: np.ndarray) -> list[str]:
    errors = _row_errors(decision, household)
    out = []
    for i in rows.tolist():
        if bool(frame["valid"].iat[i]):
            continue
        x = errors.get((_text(frame, "file", i), _text(frame, "sheet", i), int(frame["row"].iat[i])))
        out.append(f"  {_where(frame, [i])} {_text(frame, 'name', i)}（{_masked(frame, i)}）："
                   f"{x.reason if x is not None else '该行有错误'}")
    return out


def _row_error(decision: Decision, frame: pd.DataFrame, household: int, i: int) -> Explanation:
    rows = _rows_of(frame, household)
    lines = [f"{_text(frame, 'name', i)}（{_masked(frame, i)}）所在的行有错误，此人未纳入核定：",
             *_error_lines(decision, frame, household, np.asarray([i])),
             "请更正花名册中这一行后重新运行；可用 weiwen validate 查看全部错误。"]
    if frame["valid"].iloc[rows].to_numpy(dtype=bool).any():
        rest = _household(decision, frame, household, shown_row=i)
        lines += ["", "本户其他成员的核定情况：", *rest.lines]
    return Explanation(ROSTER_ERROR, lines)


def _household(decision: Decision, frame: pd.DataFrame, household: int, shown_row: int | None = None
               ) -> Explanation:
    """What became of one household; ``shown_row``: a row with an error already shown above."""
    alloc = decision.allocation
    at = np.flatnonzero(alloc.pop.households["household"].to_numpy() == household)
    h = int(at[0]) if len(at) else None
    entry = next((x for x in decision.left_out if x.household == household and x.kind != "行有错误"), None)
    rows = _rows_of(frame, household)
    errors = _error_lines(decision, frame, household, rows)
    others = _error_lines(decision, frame, household, rows[rows != shown_row])
    note = ([f"另有 {len(others)} 行因有错误未纳入核定（更正后重新运行才会计入）：", *others] if others else [])
    if h is not None and (entry is None or entry.kind == "不符合条件"):
        lines = trace(decision, h)
        if bool(alloc.aided[h]):
            return Explanation(PAID, lines + note)
        return Explanation(NOT_QUALIFIED, [*lines[:-1], "结果：不符合任何慰问标准，未纳入核定。", lines[-1], *note])

    lines = [_household_line(frame, rows), "成员："]
    for i in rows.tolist():
        relation = _text(frame, "relation", i)
        lines.append(f"  {_text(frame, 'name', i)} {_masked(frame, i)}" + (f" {relation}" if relation else "")
                     + f" 类别：{_text(frame, 'categories', i) or '无'}"
                     + ("" if bool(frame["valid"].iat[i]) else "（此行有错误）"))
    if h is not None:
        met = [f"{o.standard.name}（{yuan(int(o.value[h]))} 元）" for o in alloc.outcomes if o.applies[h]]
        if met:
            lines.append(f"符合的标准：{'、'.join(met)}")
    source = entry.source if entry is not None else "head-error"
    rules = decision.plan.rules
    if source == "head-error":
        outcome = ROSTER_ERROR
        lines += ["结果：未纳入核定——户主所在行有错误，整户待更正后再核定（户主要签领，不能跳过）。",
                  "有错误的行：", *errors, "请更正花名册后重新运行；可用 weiwen validate 查看全部错误。"]
        note = []
    elif source == "ledger":
        outcome = LEDGER
        back = rules.ledger.lookback_months
        lines += [f"结果：未纳入核定（已在发放台账中）——{entry.reason}",  # type: ignore[union-attr]
                  "依据：--ledger 指定的发放台账：台账中本活动已发放过"
                  + (f"、或 {back} 个月内（规则 ledger.lookback_months）已慰问过" if back else "")
                  + "的人，所在的户不再核定。"]
    elif source == "quota":
        outcome = OVER_QUOTA
        assert entry is not None
        village = entry.village or "本村"
        lines.append(f"结果：未纳入核定（超出名额）——{entry.reason}")
        standing = (f"本户按标准应得 {yuan(entry.amount_fen)} 元，在{village}符合条件的户中按金额排第 {entry.rank} 名；"
                    f"{village}名额 {entry.slots} 户，")
        lines.append(standing + (f"末位入选（第 {entry.slots} 名）的户为 {yuan(entry.last_admitted_fen)} 元。"
                                 if entry.slots else "没有户可以入选。"))
        lines.append("排名：金额高者在前；金额相同时按所享受标准在规则中的先后，再按花名册中的顺序。")
    else:
        outcome = EXCLUDED
        assert entry is not None
        lines.append(f"结果：未纳入核定（排除）——{entry.reason}")
        lines.extend(_exclusion(decision, frame, rows, entry))
    lines.append("最终：不发放（0 元）。")
    return Explanation(outcome, lines + note)


def _exclusion(decision: Decision, frame: pd.DataFrame, rows: np.ndarray, entry: LeftOut) -> list[str]:
    """Which exclusion of the rules removed the household, and the member or cell it hit."""
    ex = decision.plan.rules.exclusions
    if entry.source == "objection":
        return ["依据：台账的异议登记中，对这一户的异议已认定成立（weiwen objection list 可查看登记和认定的经过）。"]
    if entry.source == "ids":
        inline = {normalize_id(str(v))[0] for v in ex.ids}
        out = []
        for i in rows.tolist():
            id_number = _text(frame, "id_number", i)
            if id_number and id_number in decision.plan.excluded_ids:
                where = ("规则文件的排除名单（exclusions.ids）" if id_number in inline
                         else f"排除名单文件 {ex.ids_file}（规则 exclusions.ids_file）")
                out.append(f"依据：户内 {_text(frame, 'name', i)}（{mask_id(id_number)}）的身份证号在{where}中，整户取消。")
        return out or ["依据：规则的排除名单（exclusions.ids / exclusions.ids_file）。"]
    if entry.source == "column":
        value = ex.column.get(entry.column, "")
        cells = frame[f"extra:{entry.column}"] if f"extra:{entry.column}" in frame.columns else None
        hit = [i for i in rows.tolist() if cells is not None and str(cells.iat[i]) == value]
        who = "、".join(f"{_text(frame, 'name', i)}（第 {int(frame['row'].iat[i])} 行）" for i in hit)
        return [f"依据：规则 exclusions.column——花名册“{entry.column}”列为“{value}”的户整户不纳入"
                + (f"；本户 {who}这一列为“{value}”。" if who else "。")]
    if entry.source == "township":
        h = _head_row(frame, rows)
        return [f"依据：规则 campaign.township 为“{decision.plan.rules.campaign.township}”，"
                f"本户所属乡镇为“{_text(frame, 'township', h)}”。"]
    return []


def trace(decision: Decision, h: int) -> list[str]:
    """The full trace of household ``h`` of the decision's population: members, every standard, the result."""
    alloc = decision.allocation
    pop = alloc.pop
    hh = pop.households.iloc[h]
    members = np.flatnonzero(pop.household == h)
    p = pop.persons
    lines = [f"户：{hh['village']} 户号 {hh['household_no'] or '—'}，户主 {hh['head_name']}"
             f"（{hh['file']} 工作表“{hh['sheet']}”第 {', '.join(str(p['row'].iat[m]) for m in members)} 行）",
             f"户人口数：{pop.size[h]}（列出 {len(members)} 人）；年龄按 {pop.reference_date} 计算", "成员："]
    for m in members:
        cats = p["categories"].iat[m]
        implied = sorted(pop.ancestors.get(str(cats), frozenset()) - set(str(cats).split("、")))
        age = pop.age[m]
        grade = p["disability_grade"].iat[m]
        lines.append(
            f"  {p['name'].iat[m]} {mask_id(p['id_number'].iat[m])} {_shown(p['sex'].iat[m])} "
            f"{str(age) + '岁' if age >= 0 else '年龄不详'} {_shown(p['relation'].iat[m])}"
            f" 类别：{cats or '无'}" + (f"（也算作：{'、'.join(implied)}）" if implied else "")
            + ("" if pd.isna(grade) else f" 残疾等级：{int(grade)}级")
        )
    lines.append("逐项标准：")
    for o in alloc.outcomes:
        s = o.standard
        who = [p["name"].iat[m] for m in members if o.person_mask[m]]
        mark = "✓" if o.applies[h] else "✗"
        per = "组合包" if s.parts is not None else PER_ZH[s.per]
        head = f"  {mark} {s.name}（{per}{'，叠加发放' if s.stacking else ''}）"
        cond = f"条件：{describe(s.when)}"
        if not o.applies[h]:
            reason = "户内无人符合" if not who else "符合条件的人不在任何档次内"
            lines.append(f"{head}：{cond}；{reason}")
            lines.extend(_trace(s.when, decision, members, depth=3))
            continue
        goods = "、".join(f"{item}{qty[h] / MILLI:g}{unit}" for (item, unit), qty in o.items.items() if qty[h])
        lines.append(f"{head}：{cond}；符合的人：{'、'.join(who)}；计发 {o.units[h]} 份，"
                     f"现金 {yuan(o.cash[h])} 元" + (f"，物资 {goods}（折价 {yuan(o.goods_value[h])} 元）" if goods else "")
                     + f"，小计 {yuan(o.value[h])} 元")
        for part in o.parts:
            spec = part.part
            assert spec is not None
            part_who = [p["name"].iat[m] for m in members if part.person_mask[m]]
            extra = f"，另需{describe(spec.when)}" if spec.when is not None else ""
            if not part.units[h]:
                lines.append(f"      - {spec.name}（{PER_ZH[spec.per]}{extra}）：不适用")
                continue
            part_goods = "、".join(f"{item}{qty[h] / MILLI:g}{unit}" for (item, unit), qty in part.items.items() if qty[h])
            lines.append(f"      - {spec.name}（{PER_ZH[spec.per]}{extra}）：符合的人：{'、'.join(part_who)}；"
                         f"计发 {part.units[h]} 份，现金 {yuan(part.cash[h])} 元"
                         + (f"，物资 {part_goods}（折价 {yuan(part.goods_value[h])} 元）" if part_goods else "")
                         + f"，小计 {yuan(part.value[h])} 元")
    combination = decision.plan.rules.combination
    mode = combination.mode
    paid_j = np.flatnonzero(alloc.paid[h])
    lost = [alloc.outcomes[j].standard.name for j in np.flatnonzero(alloc.applies[h] & ~alloc.paid[h])]
    if combination.scope == "person" and mode != "all":
        paid = []
        for j in paid_j:
            got = alloc.paid_outcome(j)
            paid.append(f"{alloc.outcomes[j].standard.name}（{got.units[h]} 人，{yuan(got.value[h])} 元）")
        lines.append(f"组合规则：每人{MODE_ZH[mode]}（叠加标准另发），一户得到各人的金额之和。"
                     f"享受：{'、'.join(paid) or '无'}" + (f"；未享受：{'、'.join(lost)}" if lost else ""))
    else:
        paid = [alloc.outcomes[j].standard.name for j in paid_j]
        lines.append(f"组合规则：{MODE_ZH[mode]}（叠加标准另发）。享受：{'、'.join(paid) or '无'}"
                     + (f"；未享受：{'、'.join(lost)}" if lost else ""))
    cap = decision.plan.rules.cap
    if cap is not None:
        cut = alloc.capped[h]
        lines.append(f"每户上限 {cap} 元：" + (f"超出，现金减少 {yuan(cut)} 元" if cut else "未超过"))
    lines.append(f"最终：现金 {yuan(alloc.cash[h])} 元，物资折价 {yuan(alloc.goods_value[h])} 元，"
                 f"合计 {yuan(alloc.total[h])} 元")
    return lines


def _trace(cond: Condition, decision: Decision, members: np.ndarray, depth: int) -> list[str]:
    """For a failed condition: each part and who satisfies it."""
    pop = decision.allocation.pop
    kind = cond.kind()
    parts = (cond.all if kind == "all" else cond.any if kind == "any" else None) or []
    out = []
    for c in parts:
        mask = evaluate(c, pop)
        who = [pop.persons["name"].iat[m] for m in members if mask[m]]
        out.append(" " * depth + f"- {describe(c)}：" + ("、".join(who) if who else "无人符合"))
    return out


def _shown(value: object) -> str:
    """A cell for the trace: nothing for a missing value (a roster without that column)."""
    return "" if value is None or pd.isna(value) else str(value)
