"""YAML loading that never guesses: duplicate keys are errors, line numbers are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from weiwen.core.errors import WeiwenError


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
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else ""
        raise WeiwenError(f"{path} {where} YAML 格式错误：{getattr(exc, 'problem', exc)}", code="yaml-invalid") from None


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
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行：" if mark else ""
        raise WeiwenError(f"{origin} {where}YAML 格式错误（{getattr(exc, 'problem', exc)}）。", code="rules-invalid") from None
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
