"""``weiwen explain``: what became of one household, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from weiwen.cli.allocate import CampaignOpt, LedgerUrlOpt, RulesOpt, decided
from weiwen.cli.common import AliasesOpt, Files, SheetOpt, out_console
from weiwen.core.errors import ExitCode

HELP = """解释一户的核定结果和原因，公示期间答复群众疑问时使用。

已核定的户：每个成员的类别和年龄、每项标准是否符合及原因、金额怎么算、哪些标准因“只发最高一项”未享受、
是否封顶、最后金额。未纳入的户：被哪一项排除（排除名单或花名册中的哪一列）、超出名额时的排名、本村名额和末位入选金额、
发放台账中的记录（活动、日期、发放单位），或花名册中的哪一行有什么错误。

要解释的户可以用户内任何一人的身份证号、户号，或“村名/户号”（也可写作“村名:户号”）指明；
同一户号在几个村都有时，会列出这几户，请改用“村名/户号”。

用 --ledger 指定发放台账时，与 weiwen allocate 一样，已在台账中慰问过的户不再核定，并说明台账记录。

退出码：0 已解释；1 找不到、对应多户，或此人所在行有错误；2 用法或文件错误。

示例：weiwen explain 110101199003071233 花名册/*.xlsx --campaign spring
      weiwen explain 张庄村/3 花名册/*.xlsx --campaign spring
"""


def explain(
    key: Annotated[str, typer.Argument(metavar="身份证号或户号", help="户内任何一人的身份证号、户号，或“村名/户号”。",
                                       show_default=False)],
    files: Files,
    campaign: CampaignOpt = None,
    rules: RulesOpt = None,
    sheet: SheetOpt = None,
    aliases: AliasesOpt = None,
    ledger: LedgerUrlOpt = None,
) -> None:
    from weiwen.explain import AMBIGUOUS, NOT_FOUND, ROSTER_ERROR, explain as explain_key

    _, intake, decision = decided(files, campaign, rules, aliases, sheet=sheet, ledger=ledger)
    result = explain_key(decision, intake.frame, key)
    console = out_console()
    for line in result.lines:
        console.print(line, markup=False, highlight=False)
    failed = result.outcome in (NOT_FOUND, AMBIGUOUS, ROSTER_ERROR)
    raise typer.Exit(int(ExitCode.PROBLEMS if failed else ExitCode.OK))
