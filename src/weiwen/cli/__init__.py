"""The ``weiwen`` command: a thin Typer layer over the library.

Each command parses its options, calls the core, renders the result and exits with one
of the stable :class:`~weiwen.core.errors.ExitCode` values.  Nothing else happens here.

The command modules import the library (pandas, the readers, the app layer) inside their command
functions, so ``weiwen --help`` and ``weiwen X --help`` start without loading it.
"""

from __future__ import annotations

from typing import Annotated

import typer
import typer.rich_utils as typer_rich

from weiwen import __version__
from weiwen.cli import allocate as allocate_cmd
from weiwen.cli import batch as batch_cmd
from weiwen.cli import budget as budget_cmd
from weiwen.cli import campaign as campaign_cmd
from weiwen.cli import duplicates as duplicates_cmd
from weiwen.cli import explain as explain_cmd
from weiwen.cli import ledger as ledger_cmd
from weiwen.cli import payment as payment_cmd
from weiwen.cli import rules as rules_cmd
from weiwen.cli import samples as samples_cmd
from weiwen.cli import template as template_cmd
from weiwen.cli import usage
from weiwen.cli import validate as validate_cmd
from weiwen.cli.common import ChineseHelpCommand, ChineseHelpGroup, guarded

# Typer's help panels and error box, in Chinese (module settings Typer reads when it renders).
typer_rich.OPTIONS_PANEL_TITLE = "选项"
typer_rich.COMMANDS_PANEL_TITLE = "命令"
typer_rich.ARGUMENTS_PANEL_TITLE = "参数"
typer_rich.ERRORS_PANEL_TITLE = "错误"
typer_rich.ABORTED_TEXT = "已中止。"
typer_rich.RICH_HELP = "用 '{command_path} {help_option}' 查看帮助。"
typer_rich.DEFAULT_STRING = "[默认：{}]"
typer_rich.REQUIRED_LONG_STRING = "[必填]"
typer_rich.ENVVAR_STRING = "[环境变量：{}]"
typer_rich.DEPRECATED_STRING = "（已停用）"
usage.install()  # usage errors ("No such option: …"), value types and ranges in Chinese; lines break inside Chinese

app = typer.Typer(
    cls=ChineseHelpGroup,
    name="weiwen",
    help="慰问：走访慰问花名册的校验、核定、发放与记账工具。\n\n"
         "退出码：0 没有发现错误；1 数据有错误；2 用法错误、文件无法读取或结果无法写出；3 另一任务正在运行；4 程序内部错误。\n\n"
         "每个命令的用法：weiwen 命令 -h",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"weiwen {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="显示版本号后退出。")
    ] = False,
) -> None:
    """慰问：走访慰问花名册的校验、核定、发放与记账工具。

    退出码：0 没有发现错误；1 数据有错误；2 用法错误、文件无法读取或结果无法写出；3 另一任务正在运行；4 程序内部错误。
    """


def _command(name: str, fn, help_text: str, short: str | None = None, *,  # type: ignore[no-untyped-def]
             needs_args: bool = True) -> None:
    """``short`` is the one line ``weiwen --help`` lists (default: the help's first sentence)."""
    short = short or help_text.split("。", 1)[0].replace("\n", "") + "。"
    app.command(name, cls=ChineseHelpCommand, help=help_text, short_help=short, no_args_is_help=needs_args)(guarded(fn))


_command("validate", validate_cmd.validate, validate_cmd.HELP)
_command("allocate", allocate_cmd.allocate, allocate_cmd.HELP, "按慰问标准核定每户的慰问金和物资，生成慰问明细、公示名单等表格。")
_command("budget", budget_cmd.budget, budget_cmd.HELP, "经费预算：所需经费、分村汇总、物资采购清单和资金测算。",
         needs_args=False)
_command("check-duplicates", duplicates_cmd.check_duplicates, duplicates_cmd.HELP,
         "查重：找出重复列入的人（确定重复和疑似重复）。")
_command("explain", explain_cmd.explain, explain_cmd.HELP)
_command("run", batch_cmd.run, batch_cmd.RUN_HELP, batch_cmd.RUN_SHORT)
app.add_typer(batch_cmd.sample_app, name="sample")
_command("template", template_cmd.template, template_cmd.HELP, "生成空白花名册模板，发给各村（社区）填写。", needs_args=False)
_command("publish", campaign_cmd.publish, campaign_cmd.PUBLISH_HELP)
_command("approve", campaign_cmd.approve, campaign_cmd.APPROVE_HELP, "审批并冻结这一版名单，记入台账，生成发放签领表。")
app.add_typer(campaign_cmd.objection_app, name="objection", short_help="异议登记：登记、认定、查看公示期间的异议。")
app.add_typer(campaign_cmd.duplicates_app, name="duplicates", short_help="查重认定：记下疑似重复的两人是否同一人；可撤销。")
app.add_typer(payment_cmd.app, name="payment", short_help="银行代发：生成代发文件，导入回盘文件并对账。")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(samples_cmd.app, name="samples")


def main() -> None:
    app()
