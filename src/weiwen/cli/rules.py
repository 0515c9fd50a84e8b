"""``weiwen rules``: check a rules file, print its JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from weiwen.cli.common import (AliasesOpt, ChineseHelpCommand, ChineseHelpGroup, JsonOpt, SheetOpt, err_console,
                               guarded, out_console, rosters)
from weiwen.core.errors import ExitCode

app = typer.Typer(cls=ChineseHelpGroup, help="慰问方案（规则文件或方案表格）：生成方案表格、检查写法、互相转换、查看格式说明。",
                  no_args_is_help=True)


@app.command("check", cls=ChineseHelpCommand)
@guarded
def check(
    file: Annotated[Path, typer.Argument(metavar="规则文件", help="规则文件（.yaml）或方案表格（.xlsx）。", show_default=False)],
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


@app.command("template", cls=ChineseHelpCommand)
@guarded
def template(
    output: Annotated[Path, typer.Option("--output", "-o", metavar="文件",
                                         help="方案表格保存到哪个文件（不写扩展名时加上 .xlsx）。")] = Path("慰问方案.xlsx"),
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", metavar="活动名",
                                                 help="以这个活动的方案为底稿（如自带示例 township）。")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", metavar="规则文件",
                                               help="以这个规则文件的方案为底稿。")] = None,
    aliases: AliasesOpt = None,
) -> None:
    """生成慰问方案表格（.xlsx）：活动、标准、物资、分档、名额、排除、方案合计等工作表，中文表头，
    有下拉选项和输入检查，另附填写说明。填好后用 --rules 慰问方案.xlsx 核定，与 .yaml 规则文件完全等效。

    示例：weiwen rules template -o 慰问方案.xlsx；weiwen rules template --campaign township -o 方案底稿.xlsx"""
    from rich.markup import escape

    from weiwen.app.plan import DEFAULT_PLAN, plan_template
    from weiwen.cli.common import output_file

    target = plan_template(output_file(output, ".xlsx", DEFAULT_PLAN), campaign=campaign, rules=rules, aliases=aliases)
    out_console().print(f"已生成慰问方案表格：{escape(str(target))}。填写说明见其中的“填写说明”工作表；"
                        f"填好后检查：weiwen rules check {escape(str(target))}")


@app.command("convert", cls=ChineseHelpCommand)
@guarded
def convert(
    source: Annotated[Path, typer.Argument(metavar="方案文件", help="规则文件（.yaml）或方案表格（.xlsx）。", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="文件",
                                                help="转换结果（默认：同名的 .xlsx 或 .yaml，放在原文件旁边）。")] = None,
    aliases: AliasesOpt = None,
) -> None:
    """把规则文件（.yaml）转换成方案表格（.xlsx），或把方案表格转换成规则文件。转换后会读回比较，
    两者描述的方案完全相同才保留结果；不覆盖已有的文件。

    示例：weiwen rules convert rules/spring.yaml -o 春节方案.xlsx；weiwen rules convert 慰问方案.xlsx"""
    from rich.markup import escape

    from weiwen.app.plan import convert_plan

    done = convert_plan(source, output, aliases=aliases)
    out_console().print(f"已转换：{escape(str(source))} → {escape(str(done.target))}（读回核对一致）")
    if done.errors:
        err_console().print(f"注意：方案本身有 {done.errors} 处错误（照原样转换了），"
                            f"用 weiwen rules check {escape(str(done.target))} 查看。")
        raise typer.Exit(int(ExitCode.PROBLEMS))
