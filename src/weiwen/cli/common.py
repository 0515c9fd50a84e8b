"""What every command shares: error handling, consoles, option types."""

from __future__ import annotations

import errno
import functools
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from weiwen.cli.usage import COMMAND_METAVAR, OPTIONS_METAVAR, USAGE_PREFIX
from weiwen.core.errors import ExitCode, WeiwenError, system_reason

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
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u201c\u201d"
_LINE_IN_CHINESE = re.compile(rf"(?<!\n)(?:(?<=[{_WIDE}])\n(?!\n)|\n(?=[{_WIDE}]))")


def joined_lines(text: str | None) -> str | None:
    """A help text whose lines, broken by hand inside Chinese sentences, are joined again without the
    space Typer would put there (paragraphs, and lines like a second example, stay)."""
    return None if text is None else _LINE_IN_CHINESE.sub("", inspect.cleandoc(text))


class _ChineseHelp:
    """The -h/--help option and the usage line (用法：weiwen allocate [选项] …) in Chinese (mixed into
    Typer's command and group classes); help texts joined where lines were broken inside Chinese."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.help = joined_lines(self.help)  # type: ignore[has-type]

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
        except OSError as exc:
            if exc.filename is None:  # not about a place on disk: a defect like any other
                _internal(exc)
            err_console().print(f"[bold red]错误：[/]{escape(place_error(exc))}", markup=True)
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback reaches a user
            _internal(exc)

    return wrapper


def _internal(exc: BaseException) -> NoReturn:
    if os.environ.get("WEIWEN_DEBUG") == "1":  # for maintainers only: may show personal data
        traceback.print_exc()
    err_console().print(
        "[bold red]程序内部错误[/]（这是 weiwen 的缺陷，不是您的数据的问题；输入文件没有被修改）："
        f"{exc.__class__.__name__}。请把命令和这段提示报告给维护人员。",
        markup=True,
    )
    raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _blocking_file(path: Path) -> Path | None:
    """The file standing where ``path`` needs a folder (``-o 名单.txt/结果``), if there is one."""
    for p in (path, *path.parents):
        if p.exists():
            return p if not p.is_dir() else None
    return None


def place_error(exc: OSError) -> str:
    """What an ``OSError`` about a place on disk (an output folder, mostly) means, in Chinese, with
    what to do.  Reading and writing both end here; the words fit either."""
    name = Path(str(exc.filename))
    folder = name.parent if str(name.parent) not in ("", ".") else Path.cwd()
    code = exc.errno
    blocker = _blocking_file(name.parent) if code in (errno.ENOTDIR, errno.EEXIST) else None
    if code == errno.EEXIST and blocker is None and name.is_file():
        blocker = name
    if blocker is not None:
        return (("无法写出结果：" if blocker == name else f"无法写到 {name}：") + f"{blocker} 是一个文件，不是文件夹。"
                "请用 -o 换一个文件夹，或把这个文件移走后重新运行。")
    if code == errno.ENOTDIR:
        return f"无法访问 {name}：路径中有一部分是文件，不是文件夹。请检查路径是否写对。"
    if code in (errno.EACCES, errno.EPERM):
        return (f"没有权限读写 {name}。如果它是正被 Excel/WPS 打开的表格，请先关闭再运行；"
                "否则请用 -o 换一个自己有权限写入的文件夹（例如“文档”或桌面上的文件夹）。")
    if code == errno.EROFS:
        return f"{folder} 所在的磁盘是只读的，无法写入。请用 -o 换一个文件夹（例如“文档”或桌面上的文件夹）。"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (f"{folder} 所在的磁盘已满，结果没有写出（已写好的旧文件不受影响）。"
                "请清理磁盘空间，或用 -o 换到另一个磁盘上的文件夹，然后重新运行。")
    if code == errno.ENAMETOOLONG:
        return f"路径太长，无法写入：{name}。请换一个短一些的文件夹名或文件名。"
    if code == errno.ENOENT:
        return f"找不到 {name}（文件夹不存在，或已被移走、改名）。请检查路径是否写对。"
    if code == errno.EINVAL:
        return (f"文件名不合法：{name}。Windows 的文件名中不能有 \\ / : * ? \" < > | 这些符号，"
                "请换一个文件名。")
    return f"无法读写 {name}（{system_reason(exc)}）。请检查这个位置是否存在、是否有权限。"


Files = Annotated[list[Path], typer.Argument(
    metavar="花名册", show_default=False,
    help="花名册文件（.xlsx/.xlsm/.xls/.csv），可以写多个，可以用通配符（如 花名册\\*.xlsx 或 花名册/*.xlsx），"
         "也可以写文件夹（读取其中的表格文件，不读子文件夹）。正被打开的表格留下的临时锁定文件（~$开头）会跳过。")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", metavar="工作表", help="只读取这个工作表（默认读取所有可见工作表）。")]
AliasesOpt = Annotated[Path | None, typer.Option(
    "--aliases", metavar="别名文件", help="补充表头和类别别名的 .yaml 文件（写法同 weiwen 自带的别名表）。")]
JsonOpt = Annotated[bool, typer.Option("--json", help="以 .json 格式输出结果（供其他程序读取）。")]


def rosters(args: Sequence[Path] | None) -> list[Path]:
    """The roster files the arguments name (folders and wildcards expanded, lock files skipped with a
    note on stderr).  A folder or wildcard naming no roster, or arguments that all were lock files,
    stop the command (exit 2).  No arguments: an empty list (the rules' campaign.rosters apply)."""
    if not args:
        return []
    from weiwen.read.inputs import expand_inputs

    found = expand_inputs(args)
    for note in found.notes:
        err_console().print(f"[yellow]提示[/] {escape(note)}", markup=True)
    if found.problems:
        raise WeiwenError("\n".join(f"{p.message}{p.hint}" for p in found.problems),
                          code=found.problems[0].code)
    if not found.files:
        raise WeiwenError("没有可以读取的花名册：写出的文件都是临时锁定文件。请关闭正在打开的花名册后重新运行。",
                          code="file-not-found")
    return found.files


_EXTENSION = re.compile(r"\.(?=[0-9]*[a-z])[a-z0-9]{1,5}")  # .xls, .csv, .txt: a file type, not 2027.01


def output_file(path: Path, suffix: str, default_name: str) -> Path:
    """The file an ``-o`` names: an existing folder gets ``default_name`` inside it; a name without
    an extension gets ``suffix`` (``-o 重复核查`` writes 重复核查.xlsx); another extension is refused."""
    if path.is_dir():
        return path / default_name
    given = path.suffix.lower()
    if given == suffix:
        return path
    if _EXTENSION.fullmatch(given):
        raise WeiwenError(f"-o 要写一个 {suffix} 文件，这里写的是 {path.name}（{given}）。"
                          f"请改成 {path.with_suffix(suffix).name} 这样的文件名。", code="usage")
    return path.with_name(path.name + suffix)
