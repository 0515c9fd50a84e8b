"""Checks on a valid rules file that need the category vocabulary: what will surprise the user."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process as fuzz_process

from weiwen.rules import LoadedRules
from weiwen.rules.schema import Condition, Standard
from weiwen.vocab import Vocabulary


@dataclass(frozen=True)
class Finding:
    level: str  # 错误 / 警告 / 提示
    line: int | None
    message: str


def _categories(cond: Condition) -> list[str]:
    out = list(cond.category or [])
    for c in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ else []):
        out.extend(_categories(c))
    return out


def lint(loaded: LoadedRules, vocab: Vocabulary) -> list[Finding]:
    rules = loaded.rules
    lines = loaded.located
    found: list[Finding] = []
    used: set[str] = set()
    for i, s in enumerate(rules.standards):
        line = lines.line_of(("standards", i, "when")) if lines else None
        for name in _categories(s.when):
            if name not in vocab.categories:
                canon = vocab.category(name)
                if canon is not None:
                    found.append(Finding("提示", line, f"标准“{s.name}”中的类别“{name}”是“{canon}”的别名，按“{canon}”计算。"))
                    used.add(canon)
                    continue
                sugg = fuzz_process.extractOne(name, list(vocab.categories), score_cutoff=40)
                found.append(Finding("错误", line, f"标准“{s.name}”中的类别“{name}”不在类别表中，这项标准永远不会适用"
                                     + (f"；是不是“{sugg[0]}”？" if sugg else "。")))
            else:
                used.add(name)
        if _zero(s):
            found.append(Finding("警告", lines.line_of(("standards", i)) if lines else None,
                                 f"标准“{s.name}”的现金和物资都是 0，符合的户将得到 0 元。"))
    covered = {a for name in used for a in _descendants(name, vocab)}
    uncovered = [c for c in vocab.categories if c not in covered]
    declared = [c for c in uncovered if c in rules.categories]  # the plan's own categories: likely forgotten
    if declared:
        found.append(Finding("警告", lines.line_of(("categories",)) if lines else None,
                             f"规则文件自己定义的类别没有任何标准涉及：{'、'.join(declared)}。"))
    bundled = [c for c in uncovered if c not in rules.categories]
    if bundled:
        found.append(Finding("提示", None, f"自带类别表中以下类别没有任何标准涉及（这些类别的对象只有在符合其他条件时才会得到慰问）："
                             f"{'、'.join(bundled)}"))
    competing = [s for s in rules.standards if not s.stacking]
    if len(competing) > 1 and rules.combination.mode != "all":
        how = "最高标准" if rules.combination.mode == "highest" else "优先顺序"
        found.append(Finding("提示", lines.line_of(("combination",)) if lines else None,
                             f"{len(competing)} 项非叠加标准互相竞争，一户同时符合多项时按{how}只发一项："
                             f"{'、'.join(f'“{s.name}”' for s in competing)}。"))
        seen: dict[str, str] = {}
        for s in competing:
            key = s.when.model_dump_json()
            if key in seen:
                found.append(Finding("警告", None, f"标准“{seen[key]}”和“{s.name}”的条件完全相同，总是互相竞争。"))
            seen.setdefault(key, s.name)
    return found


def _zero(s: Standard) -> bool:
    tiers_pay = s.tiers is not None and any((t.cash or 0) > 0 or t.goods for t in s.tiers.steps)
    return s.cash == 0 and not s.goods and not tiers_pay


def _descendants(name: str, vocab: Vocabulary) -> set[str]:
    return {c for c in vocab.categories if name in vocab.ancestors(c)}
