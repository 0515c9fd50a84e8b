"""``weiwen template``: the blank roster villages fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from weiwen.cli.common import AliasesOpt, out_console
from weiwen.sheets.template import write_template
from weiwen.rules import campaign_vocabulary
from weiwen.rules.lint import columns_read
from weiwen.model.vocab import load_vocabulary

HELP = """生成空白花名册模板：标准表头，身份证号、电话、银行卡号列设为文本格式，
类别、与户主关系、性别有下拉选项，另附填写说明。发给各村（社区）填写。

指定活动（--campaign/--rules）时，类别下拉列表包含活动自定义的类别，标题写活动名称，
并在标准列之后加上活动的规则要读取的列（如“家庭人均收入”“上年已慰问”）。"""


def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="模板保存到哪个文件。")] = Path("花名册模板.xlsx"),
    aliases: AliasesOpt = None,
    campaign: Annotated[str | None, typer.Option("--campaign", "-c", help="按这个活动生成模板。")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help="同 --campaign，直接指定规则文件。")] = None,
) -> None:
    if campaign is None and rules is None:
        write_template(output, load_vocabulary(aliases))
    else:
        from weiwen.rules import plan_for

        loaded = plan_for(campaign, rules)
        write_template(output, campaign_vocabulary(loaded, aliases), extra_columns=tuple(columns_read(loaded.rules)),
                       campaign=loaded.rules.campaign.name)
    out_console().print(f"已生成花名册模板：{escape(str(output))}")
