"""The decision's figures as plain data: ``--json`` output and ``summary.json`` (pure)."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.problems import Severity
from weiwen.decision import Decision, goods_total


def summary(d: Decision) -> dict[str, object]:
    """The decision's figures as plain data (money as exact decimal strings): the --json output,
    and ``summary.json`` beside the workbooks, which ``weiwen budget --compare`` reads back."""
    return {
        "campaign": d.plan.rules.campaign.code,
        "campaign_name": d.plan.rules.campaign.name,
        "rules_sha256": d.plan.digest,
        "households": len(d.table),
        "persons": d.persons_aided,
        "cash": str(d.cash),
        "goods_value": str(d.goods_value),
        "total": str(d.total),
        "by_standard": d.by_standard,
        "by_village": d.by_village,
        "goods": {f"{item}（{unit}）": f"{goods_total(d, (item, unit)):g}" for item, unit in d.goods},
        "findings": [f.as_json() for f in d.findings if f.severity is not Severity.INFO],
        "excluded": [
            {"kind": x.kind, "file": x.file, "sheet": x.sheet, "row": x.row, "village": x.village,
             "name": x.name, "id_masked": x.id_masked, "reason": x.reason}
            for x in d.left_out
        ],
    }


def decision_json(d: Decision, outputs: list[Path]) -> dict[str, object]:
    """The allocate result for programs (``--json``): the summary and the files written."""
    return {**summary(d), "outputs": [str(p) for p in outputs]}
