"""YAML loading that never guesses: duplicate keys are errors, line numbers are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from weiwen.errors import WeiwenError


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
