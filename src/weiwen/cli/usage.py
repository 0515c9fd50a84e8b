"""Command-line usage errors in Chinese.

Typer (its vendored Click) words a usage error in English ("No such option: --campain", "Option
'-o' requires an argument.").  :func:`chinese_message` says the same in Chinese, from the
exception's kind and fields, and :func:`error_panel` is Typer's error panel with that message.
Anything not recognised keeps Typer's words inside a Chinese frame, so nothing is lost.  The value
types in the help (<str>, <path>) are named in Chinese too.  :func:`install` sets both up; the
usage line itself (用法：… [选项]) comes from the command classes in :mod:`weiwen.cli.common`.

Chinese has no spaces between words, and Rich breaks lines only at spaces: a long run of Chinese in
a narrow column was cut off with "…".  :func:`install` lets Rich break a line after any Chinese
character (never before a closing mark such as ，。）” nor after an opening one such as （“), and
lets the help's text fold instead of being cut, so help and tables read whole at 80 columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import rich._wrap as rich_wrap
import typer.core as typer_core
import typer.rich_utils as typer_rich
from rich.text import Text
from typer._click import exceptions as click_errors

OPTIONS_METAVAR = "[选项]"
COMMAND_METAVAR = "命令 [参数]..."
USAGE_PREFIX = "用法："

_KINDS = {"integer": "整数", "int": "整数", "number": "数字", "float": "数字", "boolean": "是或否", "bool": "是或否",
          "string": "文字", "str": "文字", "date": "日期"}

_Table = list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]  # Typer's words, and what to say instead

# Typer's own words for a bad value (from its type checks).
_VALUE_MESSAGES: _Table = [
    (re.compile(r"Input should be a valid (\w+)\b.*", re.S), lambda m: f"要写{_KINDS.get(m[1], m[1])}"),
    (re.compile(r"Input should be greater than or equal to (\S+)"), lambda m: f"不能小于 {m[1]}"),
    (re.compile(r"Input should be less than or equal to (\S+)"), lambda m: f"不能大于 {m[1]}"),
    (re.compile(r"Input should be greater than (\S+)"), lambda m: f"要大于 {m[1]}"),
    (re.compile(r"Input should be less than (\S+)"), lambda m: f"要小于 {m[1]}"),
    (re.compile(r"Value (.+) is not a valid (\w+)\.", re.S), lambda m: f"{m[1]} 不是{_KINDS.get(m[2], m[2])}"),
    (re.compile(r"(.+) is not one of (.+)\.", re.S), lambda m: f"{m[1]} 不在可选的值里（可选：{m[2]}）"),
    (re.compile(r"\w+ (.+) does not exist\.", re.S), lambda m: f"{m[1]} 不存在"),
    (re.compile(r"\w+ (.+) is a file\.", re.S), lambda m: f"{m[1]} 是一个文件，这里要的是文件夹"),
    (re.compile(r"\w+ (.+) is a directory\.", re.S), lambda m: f"{m[1]} 是一个文件夹，这里要的是文件"),
    (re.compile(r"\w+ (.+) is not readable\.", re.S), lambda m: f"{m[1]} 无法读取"),
    (re.compile(r"\w+ (.+) is not writable\.", re.S), lambda m: f"{m[1]} 无法写入"),
]

_USAGE_MESSAGES: _Table = [
    (re.compile(r"Option '(.+)' requires an argument\."), lambda m: f"选项 {m[1]} 后面要写一个值。"),
    (re.compile(r"Option '(.+)' requires (\d+) arguments\."), lambda m: f"选项 {m[1]} 后面要写 {m[2]} 个值。"),
    (re.compile(r"Option '(.+)' does not take a value\."), lambda m: f"选项 {m[1]} 后面不能带值。"),
    (re.compile(r"Argument '(.+)' takes (\d+) values\."), lambda m: f"参数 {m[1]} 要写 {m[2]} 个值。"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)", re.S), lambda m: f"多出了参数：{m[1]}。"),
    (re.compile(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?", re.S),
     lambda m: f"没有 {m[1]} 这个命令。" + (f"是不是：{_listed(m[2])}？" if m[2] else "")),
    (re.compile(r"Missing command\."), lambda m: "缺少命令。"),
]


def _listed(quoted: str) -> str:
    """"'allocate', 'validate'" -> "allocate、validate"."""
    return "、".join(x.strip().strip("'") for x in quoted.split(","))


def _translate(text: str, table: _Table) -> str | None:
    for pattern, say in table:
        m = pattern.fullmatch(text.strip())
        if m:
            return say(m)
    return None


def _hint(exc: click_errors.BadParameter) -> str:
    if exc.param_hint is not None:
        hints = [exc.param_hint] if isinstance(exc.param_hint, str) else list(exc.param_hint)
        return " / ".join(h.strip("'\"") for h in hints)
    if exc.param is not None:
        return " / ".join(h.strip("'\"") for h in str(exc.param.get_error_hint()).split(" / "))
    return ""


def chinese_message(exc: click_errors.ClickException) -> str:
    """What went wrong on the command line, in Chinese."""
    if isinstance(exc, click_errors.NoSuchOption):
        text = f"没有 {exc.option_name} 这个选项。"
        if exc.possibilities:
            text += f"是不是：{'、'.join(sorted(exc.possibilities))}？"
        return text
    if isinstance(exc, click_errors.MissingParameter):
        hint = _hint(exc)
        kind = "参数" if (exc.param_type or getattr(exc.param, "param_type_name", "")) == "argument" else "选项"
        return f"缺少{kind} {hint}。" if hint else f"缺少{kind}。"
    if isinstance(exc, click_errors.BadParameter):
        hint = _hint(exc)
        said = _translate(exc.message, _VALUE_MESSAGES) or exc.message
        return f"{hint} 的值不对：{said}。" if hint else f"值不对：{said}。"
    if isinstance(exc, click_errors.UsageError):
        return _translate(exc.message, _USAGE_MESSAGES) or f"命令写得不对：{exc.format_message()}"
    return exc.format_message()


_english_panel = typer_rich.rich_format_error


def error_panel(exc: click_errors.ClickException) -> None:
    """Typer's error panel (usage line, help hint, boxed message) with the message in Chinese."""
    message = chinese_message(exc)
    exc.format_message = lambda: message  # type: ignore[method-assign]
    _english_panel(exc)


# The value column of the help's option table: <str>, <path>, <bool> ... in Chinese; a switch shows none.
_TYPE_NAMES = {"str": "文字", "path": "路径", "int": "整数", "float": "数字", "list[Path]": "文件", "list[str]": "文字",
               "datetime": "日期", "date": "日期", "int range": "整数", "float range": "数字"}


def chinese_type(shown: str | None) -> str | None:
    m = re.fullmatch(r"<(.+?)>(\.\.\.)?", shown or "")
    if m is None:
        return shown
    if m[1] == "bool":
        return None
    return f"<{_TYPE_NAMES.get(m[1], m[1])}>" + (m[2] or "")


# Where a line may break: after each Chinese character (with the marks that must stay beside it), or
# at spaces between other words.  Rich's own rule is the last alternative's: at spaces only.
_WIDE = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_OPENING = "（《「『【〔“‘"
_CLOSING = "，。、；：？！）》」』】〕”’…·%％"
LINE_BREAKS = re.compile(rf"\s*(?:[{_OPENING}]*(?:[{_WIDE}]|[^\s{_WIDE}{_OPENING}]+)[{_CLOSING}]*|\S)\s*")


class _FoldingHighlighter(typer_rich.OptionHighlighter):
    """Typer's highlighter, whose text also folds instead of ending in "…" when a word is too wide."""

    def __call__(self, text: str | Text) -> Text:  # type: ignore[override]
        out = super().__call__(text)
        out.overflow = "fold"
        return out


_RANGES: _Table = [
    (re.compile(r"(\S+)<=x<=(\S+)"), lambda m: f"{m[1]} 到 {m[2]}"),
    (re.compile(r"x>=(\S+)"), lambda m: f"不小于 {m[1]}"),
    (re.compile(r"x<=(\S+)"), lambda m: f"不大于 {m[1]}"),
    (re.compile(r"x>(\S+)"), lambda m: f"大于 {m[1]}"),
    (re.compile(r"x<(\S+)"), lambda m: f"小于 {m[1]}"),
]


def install() -> None:
    """Make Typer say usage errors, value types and ranges in Chinese, and let help and tables break
    lines inside Chinese text (its panel titles are set beside this)."""
    typer_rich.rich_format_error = error_panel
    rich_wrap.re_word = LINE_BREAKS
    typer_rich.highlighter = _FoldingHighlighter()
    english_range = typer_core.TyperOption._get_number_range_help_str

    def range_help(self, _english=english_range):  # type: ignore[no-untyped-def]
        said = _english(self)
        return _translate(said, _RANGES) or said if said else said

    typer_core.TyperOption._get_number_range_help_str = range_help  # type: ignore[method-assign]
    for cls in (typer_core.TyperOption, typer_core.TyperArgument):
        english = cls.display_type_rich

        def display_type_rich(self, ctx, _english=english):  # type: ignore[no-untyped-def]
            return chinese_type(_english(self, ctx))

        cls.display_type_rich = display_type_rich  # type: ignore[method-assign]
