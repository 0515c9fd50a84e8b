"""``weiwen template``: the blank roster villages fill in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from weiwen.cli.common import AliasesOpt, out_console
from weiwen.io.template import write_template
from weiwen.vocab import load_vocabulary

HELP = """生成空白花名册模板：标准表头，身份证号、电话、银行卡号列设为文本格式，
类别、与户主关系、性别有下拉选项，另附填写说明。发给各村（社区）填写。"""


def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="模板保存到哪个文件。")] = Path("花名册模板.xlsx"),
    aliases: AliasesOpt = None,
) -> None:
    write_template(output, load_vocabulary(aliases))
    out_console().print(f"已生成花名册模板：{output}")
