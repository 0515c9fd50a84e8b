"""``weiwen rules``: check a rules file, print its JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from weiwen.cli.common import (AliasesOpt, ChineseHelpCommand, ChineseHelpGroup, JsonOpt, SheetOpt, err_console,
                               guarded, out_console, rosters)
from weiwen.core.errors import ExitCode

app = typer.Typer(cls=ChineseHelpGroup, help="慰问标准（规则文件）：检查写法、查看格式说明。", no_args_is_help=True)


@app.command("check", cls=ChineseHelpCommand)
@guarded
def check(
    file: Annotated[Path, typer.Argument(metavar="规则文件", help="规则文件（.yaml）。", show_default=False)],
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="花名册", show_default=False,
        help="可选：同时对照这些花名册（文件或文件夹，可以用通配符）检查：规则读取的列是否存在、"
             "花名册中的类别是否有标准涉及、与方案写明的数是否一致。")] = None,
    aliases: AliasesOpt = None,
    sheet: SheetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """检查规则文件：键名和取值是否正确（指出行号）、类别是否存在、分档有无空档或重叠、条件是否自相矛盾；
    写了花名册时再对照花名册检查，与 weiwen allocate 核定前的检查完全相同。退出码：0 没有错误；1 有错误；2 文件无法解析。"""
    from weiwen.app.pipeline import check_campaign
    from weiwen.cli import render
    from weiwen.core import jsonout
    from weiwen.core.problems import Severity
    from weiwen.rules import campaign_vocabulary, load_rules

    given = rosters(files) or None
    loaded = load_rules(file)
    with err_console().status("正在检查……") as status:
        findings, intake = check_campaign(loaded, campaign_vocabulary(loaded, aliases), given, sheet=sheet,
                                          progress=lambda f: status.update(f"正在读取 {f} ……"))
    errors = sum(f.severity is Severity.ERROR for f in findings)
    if as_json:
        typer.echo(jsonout.dumps({"rules": str(file), "errors": errors, "findings": [f.as_json() for f in findings]}))
    else:
        render.rules_findings(out_console(), loaded, findings)
        if intake is not None and intake.unreadable:
            err_console().print("有花名册无法读取，只检查了规则文件本身；详见 weiwen validate。")
    raise typer.Exit(int(ExitCode.PROBLEMS if errors else ExitCode.OK))


@app.command("schema", cls=ChineseHelpCommand)
@guarded
def schema() -> None:
    """输出规则文件的格式说明（.json 格式，供编辑器做自动补全和检查）。"""
    from weiwen.core import jsonout
    from weiwen.rules.schema import Rules

    typer.echo(jsonout.dumps(Rules.model_json_schema()))
