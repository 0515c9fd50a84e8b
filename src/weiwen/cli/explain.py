"""``weiwen explain``: why one household gets what it gets."""

from __future__ import annotations

from typing import Annotated

import typer

from weiwen.cli.allocate import CampaignOpt, RulesOpt, decided
from weiwen.cli.common import AliasesOpt, Files, SheetOpt, out_console
from weiwen.engine.explain import explain as trace

HELP = """解释一户的核定过程：每个成员的类别和年龄、每项标准是否符合及原因、金额怎么算、
哪些标准因“只发最高一项”未享受、是否封顶、最后金额。公示期间答复群众疑问时使用。

KEY 可以是户内任何一人的身份证号，或户号。

示例：weiwen explain 110101199003071233 花名册/*.xlsx --campaign spring
"""


def explain(
    key: Annotated[str, typer.Argument(metavar="身份证号或户号", help="身份证号或户号。", show_default=False)],
    files: Files,
    campaign: CampaignOpt = None,
    rules: RulesOpt = None,
    sheet: SheetOpt = None,
    aliases: AliasesOpt = None,
) -> None:
    _, _, decision = decided(files, campaign, rules, aliases, sheet=sheet)
    console = out_console()
    for line in trace(decision, key):
        console.print(line, markup=False, highlight=False)
