"""A plan written out as a YAML rules file (``weiwen rules convert 方案.xlsx -o 方案.yaml``).

The YAML holds exactly the plan's values, keys in the schema's order, defaults left out; read
back with :func:`weiwen.rules.load_rules` it gives an equal :class:`Rules`.  Numbers are
written plainly (600, 4.8) — every scalar is read back as text and made exact by the schema.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from weiwen.rules.schema import Rules


def rules_yaml(rules: Rules, *, source: str = "") -> str:
    data = _plain(rules.model_dump(by_alias=True, exclude_defaults=True))
    head = "# 慰问方案（weiwen 规则文件）" + (f"：由 {source} 转换而来" if source else "") + "\n# 各键的说明见 docs/rules.md。\n\n"
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    return head + body


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v) if str(float(v)) == _fixed(v) else _fixed(v)
    if isinstance(v, date):
        return v
    return v


def _fixed(d: Decimal) -> str:
    return format(d.normalize(), "f")


class _Dumper(yaml.SafeDumper):
    """Block style for mappings of mappings, flow style for the small leaves (goods items, conditions)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)
