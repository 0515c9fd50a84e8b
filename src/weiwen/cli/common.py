"""What every command shares: error handling, consoles, option types."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from weiwen.cli.usage import COMMAND_METAVAR, OPTIONS_METAVAR, USAGE_PREFIX
from weiwen.core.errors import ExitCode, WeiwenError

P = ParamSpec("P")
R = TypeVar("R")

# Data on stdout, diagnostics on stderr; colour only on a terminal; UTF-8 whatever the locale.
for _stream in (sys.stdout, sys.stderr):
    if hasattr(_stream, "reconfigure"):
        try:
            _stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (ValueError, OSError):  # pragma: no cover - detached stream
            pass


HELP_TEXT = "显示本帮助后退出。"


class _ChineseHelp:
    """The -h/--help option and the usage line (用法：weiwen allocate [选项] …) in Chinese (mixed into
    Typer's command and group classes)."""

    def get_help_option(self, ctx):  # type: ignore[no-untyped-def]
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option

    def format_usage(self, ctx, formatter) -> None:  # type: ignore[no-untyped-def]
        said = {"[OPTIONS]": OPTIONS_METAVAR, "COMMAND [ARGS]...": COMMAND_METAVAR}
        pieces = [said.get(p, p) for p in self.collect_usage_pieces(ctx)]  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)


class ChineseHelpCommand(_ChineseHelp, TyperCommand):
    pass


class ChineseHelpGroup(_ChineseHelp, TyperGroup):
    pass


def out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a user error into its Chinese message and exit code; never show a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except WeiwenError as exc:
            err_console().print(f"[bold red]错误：[/]{exc.message}", markup=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err_console().print("已中断，未写出任何不完整的文件。")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback reaches a user
            if os.environ.get("WEIWEN_DEBUG") == "1":  # for maintainers only: may show personal data
                traceback.print_exc()
            err_console().print(
                "[bold red]程序内部错误[/]（这是 weiwen 的缺陷，不是您的数据的问题；输入文件没有被修改）："
                f"{exc.__class__.__name__}。请把命令和这段提示报告给维护人员。",
                markup=True,
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper


Files = Annotated[list[Path], typer.Argument(metavar="花名册", show_default=False,
                                             help="花名册文件（.xlsx/.xlsm/.xls/.csv），可以写多个或用通配符。")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="只读取这个工作表（默认读取所有可见工作表）。")]
AliasesOpt = Annotated[Path | None, typer.Option("--aliases", help="补充表头和类别别名的 YAML 文件（写法同内置的 data/*.yaml）。")]
JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出结果（供其他程序读取）。")]
