"""``weiwen allocate``: apply a campaign's rules to the rosters and write the sheets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from weiwen.cli.common import AliasesOpt, Files, JsonOpt, SheetOpt, err_console, out_console, rosters
from weiwen.cli.ledger import ByOpt
from weiwen.core.errors import ExitCode

if TYPE_CHECKING:
    from weiwen.decision import Decision
    from weiwen.roster.intake import Intake
    from weiwen.rules import LoadedRules

HELP = """按慰问标准核定每户的慰问金和物资，生成慰问明细、公示名单、发放签领表、汇总和未纳入清单。

先校验花名册；有错误的行不参与核定，列在“未纳入”表中（--strict 时有错误就不核定）。

示例：weiwen allocate 花名册/*.xlsx --campaign spring -o 核定结果
"""

CampaignOpt = Annotated[str | None, typer.Option(
    "--campaign", "-c", metavar="活动名", help="活动名：使用 rules/活动名.yaml 或 rules/活动名.xlsx（或 weiwen 自带的同名示例）。")]
RulesOpt = Annotated[Path | None, typer.Option("--rules", "-r", metavar="规则文件", help="直接指定慰问方案：规则文件（.yaml）或方案表格（.xlsx）。")]


LedgerUrlOpt = Annotated[str | None, typer.Option(
    "--ledger", metavar="台账地址",
    help="发放台账：户中有人（无论户主还是成员）在本活动已发放、或在规则 ledger.lookback_months 回溯期内"
         "已慰问的，该户不再核定；异议成立的户取消；认定为同一人的只核定先列出的一户。结果登记为名单的一个版本。")]


def decided(files: list[Path] | None, campaign: str | None, rules: Path | None, aliases: Path | None, *,
            sheet: str | None = None, ledger: str | None = None) -> tuple[LoadedRules, Intake, Decision]:
    """What allocate, budget and explain share: rules, rosters, decision — or exit 2 on an unreadable roster."""
    from weiwen.app.pipeline import load_and_decide
    from weiwen.cli import render
    from weiwen.rules import campaign_vocabulary, plan_for, roster_paths

    given = rosters(files)
    loaded = plan_for(campaign, rules)
    vocab = campaign_vocabulary(loaded, aliases)
    with err_console().status("正在读取花名册……") as status:
        intake, decision = load_and_decide(rosters(roster_paths(loaded, given)), loaded, vocab, sheet=sheet,
                                           ledger_url=ledger, progress=lambda f: status.update(f"正在读取 {f} ……"))
    if decision is None:
        render.validation(err_console(), intake, show=20, reports=[])
        raise typer.Exit(int(ExitCode.USAGE))
    return loaded, intake, decision


def allocate(
    files: Files,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="文件夹", help="结果保存到这个文件夹。")] = Path("核定结果"),
    campaign: CampaignOpt = None,
    rules: RulesOpt = None,
    sheet: SheetOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="花名册有任何错误时不核定。")] = False,
    as_json: JsonOpt = False,
    aliases: AliasesOpt = None,
    ledger: LedgerUrlOpt = None,
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="原因", help="用 --ledger 时：这一版名单与上一版不同的原因（上一版已审批时必须写）。")] = None,
    by: ByOpt = None,
    compare_with: Annotated[Path | None, typer.Option(
        "--compare-with", metavar="上次结果",
        help="与上次（如去年）核定结果的 allocation.csv 或其文件夹逐户对比，写出“与上次名单对比.xlsx”。")] = None,
) -> None:
    from weiwen.app.pipeline import allocate_campaign
    from weiwen.cli import render
    from weiwen.core import jsonout
    from weiwen.rules import campaign_vocabulary, plan_for, roster_paths
    from weiwen.summary import decision_json

    given = rosters(files)
    loaded = plan_for(campaign, rules)
    with err_console().status("正在读取花名册……") as status:
        done = allocate_campaign(rosters(roster_paths(loaded, given)), loaded, campaign_vocabulary(loaded, aliases),
                                 output, sheet=sheet, ledger_url=ledger, strict=strict,
                                 progress=lambda f: status.update(f"正在读取 {f} ……"),
                                 writing=lambda: status.update("正在写出表格……"), reason=reason, operator=by,
                                 aliases=aliases, compare_with=compare_with)
    intake, decision, written = done.intake, done.decision, done.written
    if decision is None:
        render.validation(err_console(), intake, show=20, reports=[])
        err_console().print("有花名册无法读取（见上面的错误），没有核定，也没有写出任何文件。"
                            "请换一份能打开的文件，或把它移出花名册文件夹后重新运行。")
        raise typer.Exit(int(ExitCode.USAGE))
    if not written:  # no one valid, or --strict and the rosters have errors
        render.validation(err_console(), intake, show=40, reports=[])
        err_console().print("花名册中没有一个合格的人，没有核定，也没有写出任何文件。" if not intake.valid_rows
                            else "花名册有错误，按 --strict 的要求未进行核定。")
        raise typer.Exit(int(ExitCode.PROBLEMS))
    if as_json:
        typer.echo(jsonout.dumps(decision_json(decision, written)))
    else:
        render.decision(out_console(), decision, written, intake)
        if done.version is not None:
            render.version(out_console(), done.version)
    raise typer.Exit(int(ExitCode.PROBLEMS if intake.errors else ExitCode.OK))
