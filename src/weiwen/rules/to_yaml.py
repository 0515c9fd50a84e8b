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


STANDARD_ORDER = ("code", "name", "when", "per", "cash", "goods", "tiers", "goods_once", "parts", "stacking", "stated", "note")
TOP_ORDER = ("campaign", "budget", "categories", "combination", "cap", "exclusions", "quotas", "limits", "ledger", "run",
             "publicity", "standards")


def rules_yaml(rules: Rules, *, source: str = "") -> str:
    data = _plain(rules.model_dump(by_alias=True, exclude_defaults=True))
    # A key TOP_ORDER does not list yet still goes out (before the standards): never dropped.
    data = {k: data[k] for k in (*TOP_ORDER[:-1], *(k for k in data if k not in TOP_ORDER), "standards") if k in data}
    data["standards"] = [_standard(s) for s in data["standards"]]
    head = "# 慰问方案（weiwen 规则文件）" + (f"：由 {source} 转换而来" if source else "") + "\n# 各键的说明见 docs/rules.md。\n\n"
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    return head + body


def _standard(s: dict[str, Any]) -> dict[str, Any]:
    """A standard's keys in the order a person reads them (code and name first); conditions and
    goods items written on one line each."""
    out = {k: s[k] for k in STANDARD_ORDER if k in s}
    out.update({k: v for k, v in s.items() if k not in out})
    for key in ("when",):
        if key in out:
            out[key] = _Flow(out[key])
    if "goods" in out:
        out["goods"] = [_Flow(g) for g in out["goods"]]
    out["parts"] = parts = [{k: p[k] for k in ("name", *STANDARD_ORDER) if k in p} for p in out.get("parts", [])]
    if not parts:
        del out["parts"]
    for part in parts:
        if "when" in part:
            part["when"] = _Flow(part["when"])
        if "goods" in part:
            part["goods"] = [_Flow(g) for g in part["goods"]]
    return out


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line: {category: [低保]}."""


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
_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))
