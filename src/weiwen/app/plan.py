"""The plan workbook commands: a blank (or filled) plan to fill in, and conversion both ways.

``weiwen rules template`` and ``weiwen rules convert`` each call one function here.  Every
conversion reads back what it wrote and compares it with the source plan
(:func:`weiwen.rules.same_plan`): a plan that would not survive the trip is never left behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from weiwen.core.atomic import write_text_atomic
from weiwen.core.errors import WeiwenError
from weiwen.model.vocab import load_vocabulary
from weiwen.rules import (RULES_SUFFIXES, campaign_vocabulary, is_plan_workbook, load_rules, plan_for, read_plan,
                          same_plan)
from weiwen.core.problems import Severity
from weiwen.rules.lint import check, columns_read
from weiwen.rules.to_yaml import rules_yaml
from weiwen.sheets.plan_book import write_plan_book

DEFAULT_PLAN = "慰问方案.xlsx"


def plan_template(target: Path, *, campaign: str | None = None, rules: Path | None = None,
                  aliases: Path | None = None) -> Path:
    """A plan workbook to fill in: blank, or holding the plan of ``campaign``/``rules`` to start from."""
    _refuse_existing(target, "方案表格")
    if campaign is None and rules is None:
        write_plan_book(target, None, load_vocabulary(aliases))
        return target
    loaded = plan_for(campaign, rules)
    _write_workbook(target, loaded.rules, campaign_vocabulary(loaded, aliases), columns_read(loaded.rules))
    return target


@dataclass(frozen=True)
class Converted:
    target: Path
    errors: int  # what `weiwen rules check` would call errors in the plan itself (converted all the same)


def convert_plan(source: Path, target: Path | None = None, *, aliases: Path | None = None) -> Converted:
    """A YAML rules file into a plan workbook, or a plan workbook into YAML (by what ``source`` is)."""
    to_yaml = is_plan_workbook(source)
    if target is None:
        target = source.with_suffix(".yaml" if to_yaml else ".xlsx")
    if target.resolve() == source.resolve():
        raise WeiwenError(f"转换结果不能写回原文件 {source}。", code="usage")
    wanted = RULES_SUFFIXES if to_yaml else (".xlsx",)
    if target.suffix.lower() not in wanted:
        raise WeiwenError(f"{source.name} 是{'方案表格' if to_yaml else '规则文件'}，要转换成 {'、'.join(wanted)} 文件，"
                          f"这里写的是 {target.name}。", code="usage")
    _refuse_existing(target, "文件")
    loaded = load_rules(source)
    vocab = campaign_vocabulary(loaded, aliases)
    if to_yaml:
        write_text_atomic(target, rules_yaml(loaded.rules, source=source.name))
    else:
        _write_workbook(target, loaded.rules, vocab, columns_read(loaded.rules))
    _verify(source, target, loaded.rules)
    errors = sum(p.severity is Severity.ERROR for p in check(loaded, vocab))
    return Converted(target, errors)


def _write_workbook(target: Path, rules: object, vocab: object, columns: list[str]) -> None:
    from weiwen.rules.condtext import NotExpressible

    try:
        write_plan_book(target, rules, vocab, columns=columns)  # type: ignore[arg-type]
    except NotExpressible as exc:
        raise WeiwenError(f"这个方案有表格写不出的内容：{exc}。请继续使用 .yaml 规则文件。", code="plan-not-expressible") from None


def _verify(source: Path, target: Path, rules: object) -> None:
    back = read_plan(target)
    if not same_plan(back, rules):  # type: ignore[arg-type]
        target.unlink(missing_ok=True)
        raise WeiwenError(f"转换后读回的方案与 {source.name} 不一致，已删除 {target.name}。这是 weiwen 的缺陷，请报告。",
                          code="internal")


def _refuse_existing(target: Path, what: str) -> None:
    if target.exists():
        raise WeiwenError(f"{target} 已经存在，没有覆盖它。请换一个文件名，或确认不要后先删除它。", code="output-exists")
