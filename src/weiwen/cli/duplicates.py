"""``weiwen check-duplicates``: people listed twice, certain or suspected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from weiwen.cli.common import AliasesOpt, Files, JsonOpt, SheetOpt, err_console, out_console, output_file, rosters
from weiwen.core.errors import ExitCode, WeiwenError

HELP = """查重：同一身份证号出现在多行（含 15 位和 18 位两种写法）、同一户的成员分属两个村（确定重复）；
姓名和出生日期相同而身份证号不同、同名且身份证号只差一位或两位颠倒、同音同名且电话或住址相同（疑似重复）。
疑似重复只列出，不自动合并；只是同名的不同的人不会被列出。
用 --ledger 时还会找出以前已慰问过的人（无论当时是户主还是家庭成员），并应用已做的查重认定
（weiwen duplicates decide）：认定为不同的人的，不再算作重复。

退出码：0 没有发现重复（已认定为不同的人的不算）；1 发现重复；2 用法错误或文件无法读取。

示例：weiwen check-duplicates 花名册/*.xlsx -o 重复核查
"""


def check_duplicates(
    files: Files,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="文件",
        help="把重复核查表写到这个 .xlsx 文件（不写扩展名时自动加上 .xlsx；写文件夹时写到其中的“重复核查.xlsx”）。")] = None,
    sheet: SheetOpt = None,
    as_json: JsonOpt = False,
    aliases: AliasesOpt = None,
    ledger: Annotated[str | None, typer.Option(
        "--ledger", metavar="台账地址", help="同时与发放台账比对：台账中已有有效记录的人列为“已慰问”。")] = None,
    against: Annotated[Path | None, typer.Option(
        "--against", metavar="名单", help="与其他部门用 weiwen ledger export --hashed 导出的名单比对（需要同一台账密钥）。")] = None,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", "-c", metavar="活动名", help="按这个活动读花名册：认得活动自定义的类别。")] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", "-r", metavar="规则文件", help="同 --campaign，直接指定方案：规则文件（.yaml）或方案表格（.xlsx）。")] = None,
) -> None:
    from weiwen.app.pipeline import find_duplicate_persons
    from weiwen.cli import render
    from weiwen.core import jsonout
    from weiwen.model.vocab import load_vocabulary
    from weiwen.rules import campaign_vocabulary, plan_for
    from weiwen.sheets.duplicates_book import write_duplicates

    given = rosters(files)
    target = output_file(output, ".xlsx", "重复核查.xlsx") if output is not None else None
    if target is not None and target.resolve() in {p.resolve() for p in given}:
        raise WeiwenError(f"-o {target} 是要查重的花名册本身，不能覆盖它。请换一个文件名，例如 重复核查.xlsx。",
                          code="output-is-input")
    vocab = load_vocabulary(aliases)
    if campaign is not None or rules is not None:
        vocab = campaign_vocabulary(plan_for(campaign, rules), aliases)
    with err_console().status("正在读取花名册……"):
        intake, groups = find_duplicate_persons(given, vocab, sheet=sheet, ledger_url=ledger, against=against)
    if target is not None:
        write_duplicates(target, groups)
    if as_json:
        typer.echo(jsonout.dumps({"groups": [g.as_json() for g in groups]}))
    else:
        render.duplicates(out_console(), groups, target)
    if intake.unreadable:
        raise typer.Exit(int(ExitCode.USAGE))
    raise typer.Exit(int(ExitCode.PROBLEMS if any(g.kind != "decided" for g in groups) else ExitCode.OK))
