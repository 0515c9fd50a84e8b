"""``weiwen validate``: check roster files and report every problem at its cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from weiwen.cli.common import AliasesOpt, Files, JsonOpt, SheetOpt, err_console, out_console, rosters
from weiwen.core.errors import ExitCode, WeiwenError

HELP = """校验花名册：身份证号、类别、户主和人口数等逐格检查，所有问题一次列出。

退出码：0 没有错误（可能有警告）；1 发现错误；2 用法错误或有文件无法读取。

示例：weiwen validate 花名册/*.xlsx --report 校验结果
"""


def validate(
    files: Files,
    sheet: SheetOpt = None,
    as_json: JsonOpt = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="文件夹",
                     help="把每个文件的标注副本（问题单元格标色并加批注，另附“错误清单”表）写到这个文件夹。"),
    ] = None,
    aliases: AliasesOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--date", metavar="日期", help="按这一天判断出生日期是否合理，格式 2027-01-10（默认今天）。")
    ] = None,
    show: Annotated[int, typer.Option("--show", metavar="条数", help="在屏幕上最多列出多少条问题。", min=0)] = 40,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", metavar="个数", help="同时读取几个文件（默认等于电脑的处理器核数）。", min=1)
    ] = None,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", "-c", metavar="活动名",
        help="按这个活动的规则校验：认得活动自定义的类别，年龄按活动的基准日计算，并对照规则检查花名册。")] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", "-r", metavar="规则文件", help="同 --campaign，直接指定方案：规则文件（.yaml）或方案表格（.xlsx）。")] = None,
) -> None:
    from weiwen.app.pipeline import validate_files
    from weiwen.cli import render
    from weiwen.core import jsonout
    from weiwen.core.problems import Severity
    from weiwen.model.vocab import load_vocabulary
    from weiwen.rules import campaign_vocabulary, plan_for

    given = rosters(files)
    loaded = plan_for(campaign, rules) if campaign is not None or rules is not None else None
    today = loaded.rules.campaign.reference_date if loaded is not None and as_of is None else _parse_day(as_of)
    vocab = campaign_vocabulary(loaded, aliases) if loaded is not None else load_vocabulary(aliases)
    with err_console().status("正在读取……") as status:
        done = validate_files(given, vocab, today, loaded=loaded, sheet=sheet, jobs=jobs, report=report,
                              progress=lambda f: status.update(f"正在读取 {f} ……"))
    intake, written, found, refused = done.intake, done.reports, done.findings, done.refused
    if as_json:
        doc = intake.to_json()
        doc["reports"] = [str(p) for p in written]
        doc["rules_findings"] = [f.as_json() for f in found if f.severity is not Severity.INFO]
        typer.echo(jsonout.dumps(doc))
    else:
        render.validation(out_console(), intake, show=show, reports=written)
        if loaded is not None:
            out_console().print(f"对照规则 {escape(str(loaded.path))}：" + ("[red]weiwen allocate 将拒绝核定。[/]" if refused
                                                                          else "没有发现错误。"), markup=True)
            render.findings(out_console(), found)
    code = intake.exit_code()
    raise typer.Exit(int(ExitCode.PROBLEMS if refused and code == ExitCode.OK else code))


def _parse_day(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WeiwenError(f"--date 的日期“{text}”无法识别，请写成 2027-01-10 的形式。") from None
