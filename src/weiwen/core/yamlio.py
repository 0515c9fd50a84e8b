"""YAML loading that never guesses: duplicate keys are errors, line numbers are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from weiwen.core.errors import WeiwenError


_PROBLEMS = (  # PyYAML's problem texts, in the words of someone who typed the file
    ("could not find expected ':'", "缺少冒号：键和值之间要写英文冒号加一个空格，例如“cap: 2000”"),
    ("mapping values are not allowed here",
     "这里不能有冒号：一行只能写一个“键: 值”，值里含有冒号时请把整个值用引号括起来；也可能是这一行比上一行多缩进了"),
    ("found character '\\t' that cannot start any token", "不能用 Tab 键缩进，请改用空格"),
    ("found character '\\t'", "不能用 Tab 键缩进，请改用空格"),
    ("expected <block end>", "缩进没有对齐：同一层的键（或以“- ”开头的项）要从同一列开始"),
    ("found unexpected end of stream", "引号没有配对：引号要成对出现"),
    ("found unknown escape character", "双引号里的反斜杠“\\”要写成两个，或改用单引号"),
    ("did not find expected key", "缩进没有对齐：同一层的键要从同一列开始"),
    ("did not find expected '-' indicator", "列表的各项要从同一列开始，每项以“- ”开头"),
    ("expected ',' or ']'", "方括号没有配对：以“[”开始的列表要以“]”结束，各项之间用英文逗号"),
    ("expected ',' or '}'", "花括号没有配对：以“{”开始的要以“}”结束，各项之间用英文逗号"),
    ("found undefined alias", "不能使用 * 开头的写法（YAML 别名）；以 * 开头的文字请用引号括起来"),
)
_SLIPS = (("：", "中文冒号“：”"), ("\u3000", "全角空格"), ("\t", "Tab 键"))


def explain_yaml_error(text: str, exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line a person should look at and what is wrong there, in Chinese.

    A key written with a full-width colon (``cap：2000``, the usual slip on a Chinese keyboard)
    makes PyYAML complain at the *next* line; the line that holds the slip is named instead."""
    problem = str(getattr(exc, "problem", "") or exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    if context is not None and ("could not find expected ':'" in problem or "stream" in problem):
        line = context.line + 1  # the key that lacks its colon, the quote left open: not where it was noticed
    lines = text.splitlines()
    if line is not None:
        for at in range(min(line, len(lines)), max(line - 2, 0), -1):  # the line and the one before
            code = lines[at - 1].split("#", 1)[0]
            for slip, name in _SLIPS:
                head = code.lstrip(" -")
                if slip == "：" and slip in head and ":" not in head.split(slip, 1)[0]:
                    return at, f"键和值之间用了{name}，要写英文冒号加一个空格，例如“cap: 2000”"
                if slip != "：" and slip in code[: len(code) - len(code.lstrip(" \u3000\t-"))]:
                    return at, f"行首用了{name}缩进，请改用普通空格"
    for english, chinese in _PROBLEMS:
        if english in problem:
            return line, chinese
    return line, f"格式错误（{problem}）"


class _StrictTextLoader(yaml.BaseLoader):
    """Every scalar is text (no YAML 1.1 ``yes``/``010`` surprises); duplicate keys refused."""


def _construct_mapping(loader: yaml.BaseLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise WeiwenError(
                f"第 {key_node.start_mark.line + 1} 行的键“{key}”重复（第 {seen[key].start_mark.line + 1} 行已有）。",
                code="yaml-duplicate-key",
            )
        seen[key] = key_node
    return yaml.BaseLoader.construct_mapping(loader, node, deep=deep)


_StrictTextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text_yaml(path: Path) -> Any:
    """Load a vocabulary file whose scalars are all text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WeiwenError(f"无法读取 {path}：{exc}", code="file-unreadable") from None
    try:
        return yaml.load(text, Loader=_StrictTextLoader)  # noqa: S506 - BaseLoader builds text only
    except WeiwenError as exc:
        raise WeiwenError(f"{path}：{exc.message}", code=exc.code) from None
    except yaml.YAMLError as exc:
        line, what = explain_yaml_error(text, exc)
        where = f"第 {line} 行" if line else ""
        raise WeiwenError(f"{path} {where}：{what}。", code="yaml-invalid") from None


_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"})


class Located:
    """A YAML document turned into plain data, with the line of every key and item kept."""

    def __init__(self, data: Any, lines: dict[tuple[Any, ...], int]):
        self.data = data
        self.lines = lines

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest node on ``loc`` that exists in the document."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def load_located_yaml(text: str, origin: str) -> Located:
    """Parse ``text`` (all scalars as text, duplicate keys refused) keeping line numbers."""
    try:
        node = yaml.compose(text, Loader=_StrictTextLoader)  # noqa: S506 - BaseLoader builds text only
    except yaml.YAMLError as exc:
        line, what = explain_yaml_error(text, exc)
        where = f"第 {line} 行：" if line else ""
        raise WeiwenError(f"{origin} {where}{what}。", code="rules-invalid") from None
    lines: dict[tuple[Any, ...], int] = {}

    def convert(n: yaml.Node | None, path: tuple[Any, ...]) -> Any:
        if n is None:
            return None
        if n.tag not in _PLAIN_TAGS:
            raise WeiwenError(f"{origin} 第 {n.start_mark.line + 1} 行：不允许使用 YAML 标签 {n.tag}。",
                              code="rules-invalid")
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise WeiwenError(f"{origin} 第 {k.start_mark.line + 1} 行：键必须是文字。", code="rules-invalid")
                key = k.value
                for slip, name in _SLIPS:
                    if slip in key:
                        what = "键和值之间要写英文冒号加一个空格" if slip == "：" else "缩进和键里只能用普通空格"
                        raise WeiwenError(f"{origin} 第 {k.start_mark.line + 1} 行：键“{key.strip()}”里有{name}，{what}。",
                                          code="rules-invalid")
                if key in out:
                    raise WeiwenError(
                        f"{origin} 第 {k.start_mark.line + 1} 行：键“{key}”重复（第 {lines[(*path, key)]} 行已有）。",
                        code="rules-invalid",
                    )
                lines[(*path, key)] = k.start_mark.line + 1
                out[key] = convert(v, (*path, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [convert(v, (*path, i)) for i, v in enumerate(n.value)]
        if n.value == "" and n.style is None:
            return None
        return n.value

    return Located(convert(node, ()), lines)
