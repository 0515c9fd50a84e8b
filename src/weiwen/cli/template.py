"""``weiwen template``: the blank roster villages fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from weiwen.cli.common import AliasesOpt, out_console

HELP = """生成空白花名册模板：标准表头，身份证号、电话、银行卡号列设为文本格式，
类别、与户主关系、性别有下拉选项，另附填写说明。发给各村（社区）填写。

指定活动（--campaign/--rules）时，类别下拉列表包含活动自定义的类别，标题写活动名称，
并在标准列之后加上活动的规则要读取的列（如“家庭人均收入”“上年已慰问”）。

示例：weiwen template -o 花名册模板.xlsx --title 城关镇2027年端午慰问"""


def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="模板保存到哪个文件（不写扩展名时加上 .xlsx）。")]
    = Path("花名册模板.xlsx"),
    aliases: AliasesOpt = None,
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", help="按这个活动生成模板。")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help="同 --campaign，直接指定方案：规则文件（.yaml）或方案表格（.xlsx）。")] = None,
    title: Annotated[str | None, typer.Option(
        "--title", "-t", help="标题中的活动名称，如“城关镇2027年端午慰问”（标题为“＿＿＿村（社区）城关镇2027年端午慰问"
                              "对象花名册”）；以“花名册”“名单”等结尾的按原样作为标题。默认用活动名称，没有活动时为“走访慰问”。")] = None,
) -> None:
    from weiwen.sheets.template import make_template  # xlsxwriter and the vocabulary: only when run

    target = make_template(output, campaign=campaign, rules=rules, aliases=aliases, title=title)
    out_console().print(f"已生成花名册模板：{escape(str(target))}")
