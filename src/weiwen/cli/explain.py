"""``weiwen explain``: why one household gets what it gets."""

from __future__ import annotations

from typing import Annotated

import typer

from weiwen.cli.allocate import CampaignOpt, RulesOpt, resolve_rules, rule_vocabulary
from weiwen.cli import render
from weiwen.cli.common import AliasesOpt, Files, SheetOpt, err_console, out_console
from weiwen.engine.explain import explain as trace
from weiwen.errors import ExitCode
from weiwen.pipeline import load_and_decide

HELP = """解释一户的核定过程：每个成员的类别和年龄、每项标准是否符合及原因、金额怎么算、
哪些标准因“只发最高一项”未享受、是否封顶、最后金额。公示期间答复群众疑问时使用。

KEY 可以是户内任何一人的身份证号，或户号。

示例：weiwen explain 110101199003071233 花名册/*.xlsx --campaign spring
"""


def explain(
    key: Annotated[str, typer.Argument(help="身份证号或户号。", show_default=False)],
    files: Files,
    campaign: CampaignOpt = None,
    rules: RulesOpt = None,
    sheet: SheetOpt = None,
    aliases: AliasesOpt = None,
) -> None:
    loaded = resolve_rules(campaign, rules)
    vocab = rule_vocabulary(loaded, aliases)
    intake, decision = load_and_decide(files, loaded, vocab, sheet=sheet)
    if decision is None:
        render.validation(err_console(), intake, show=20, reports=[])
        raise typer.Exit(int(ExitCode.USAGE))
    console = out_console()
    for line in trace(decision, key):
        console.print(line, markup=False, highlight=False)
