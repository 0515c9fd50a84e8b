"""``weiwen rules``: check a rules file, print its JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from weiwen import jsonout
from weiwen.cli.allocate import rule_vocabulary
from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, AliasesOpt, guarded, out_console
from weiwen.errors import ExitCode
from weiwen.rules import load_rules
from weiwen.rules.lint import lint
from weiwen.rules.schema import Rules

app = typer.Typer(cls=ChineseHelpGroup, help="慰问标准（规则文件）：检查写法、查看格式说明。", no_args_is_help=True)


@app.command("check", cls=ChineseHelpCommand)
@guarded
def check(
    file: Annotated[Path, typer.Argument(metavar="规则文件", help="规则文件（.yaml）。", show_default=False)],
    aliases: AliasesOpt = None,
) -> None:
    """检查规则文件：键名和取值是否正确（指出行号），并提示永远不会适用的标准、没有标准涉及的类别、
    会被组合规则裁决的重叠。退出码：0 没有错误；1 有错误；2 文件无法解析。"""
    loaded = load_rules(file)
    findings = lint(loaded, rule_vocabulary(loaded, aliases))
    console = out_console()
    r = loaded.rules
    console.print(f"规则文件 {escape(str(file))}：{escape(r.campaign.name)}（{r.campaign.code}），"
                  f"{len(r.standards)} 项标准，组合方式 {r.combination.mode}" + (f"，每户上限 {r.cap} 元" if r.cap else ""))
    styles = {"错误": "red", "警告": "yellow", "提示": "dim"}
    for f in findings:
        where = f"第 {f.line} 行：" if f.line else ""
        console.print(f"[{styles[f.level]}]{f.level}[/] {where}{escape(f.message)}", markup=True)
    errors = sum(f.level == "错误" for f in findings)
    console.print("没有发现错误。" if not errors else f"发现 {errors} 处错误。")
    raise typer.Exit(int(ExitCode.PROBLEMS if errors else ExitCode.OK))


@app.command("schema", cls=ChineseHelpCommand)
@guarded
def schema() -> None:
    """输出规则文件的 JSON Schema（供编辑器做自动补全和检查）。"""
    typer.echo(jsonout.dumps(Rules.model_json_schema()))
