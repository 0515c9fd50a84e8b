"""The decision trace for one household: what staff read out when a resident objects (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from weiwen.allocation import Decision
from weiwen.engine.allocate import MILLI, yuan
from weiwen.engine.conditions import describe, evaluate
from weiwen.ids import mask_id, normalize_id
from weiwen.rules.schema import Condition

PER_ZH = {"household": "按户", "person": "按人", "member": "按户人口"}
MODE_ZH = {"highest": "按最高标准只发一项", "priority": "按规定的优先顺序只发一项", "all": "各项都发"}


def find_household(decision: Decision, key: str) -> int | None:
    """Household code for an ID number (any member) or a household key / 户号."""
    pop = decision.allocation.pop
    norm, _ = normalize_id(key)
    ids = pop.persons["id_number"].astype(object)
    hit = np.flatnonzero((ids == norm).to_numpy(dtype=bool))
    if len(hit):
        return int(pop.household[hit[0]])
    keys = pop.households["key"].astype(str)
    for i, k in enumerate(keys):
        if k == key or k.endswith(f":{key}") or k.split("|")[-1] == key:
            return i
    return None


def explain(decision: Decision, key: str) -> list[str]:
    alloc = decision.allocation
    pop = alloc.pop
    h = find_household(decision, key)
    if h is None:
        norm, _ = normalize_id(key)
        for x in decision.left_out:
            if x.id_masked and x.id_masked == mask_id(norm):
                return [f"{x.name}（{x.id_masked}）未纳入核定：{x.kind}——{x.reason}",
                        f"位置：{x.file} 工作表“{x.sheet}”第 {x.row} 行"]
        return [f"在花名册中找不到“{mask_id(key) if len(key) >= 15 else key}”对应的人或户。"
                "如果此人的身份证号在花名册中填错了，请先用 weiwen validate 查看该行的错误。"]
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
        head = f"  {mark} {s.name}（{s.code}，{PER_ZH[s.per]}{'，叠加发放' if s.stacking else ''}）"
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
    mode = decision.rules.rules.combination.mode
    paid = [alloc.outcomes[j].standard.name for j in np.flatnonzero(alloc.paid[h])]
    lost = [alloc.outcomes[j].standard.name for j in np.flatnonzero(alloc.applies[h] & ~alloc.paid[h])]
    lines.append(f"组合规则：{MODE_ZH[mode]}（叠加标准另发）。享受：{'、'.join(paid) or '无'}"
                 + (f"；未享受：{'、'.join(lost)}" if lost else ""))
    cap = decision.rules.rules.cap
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
