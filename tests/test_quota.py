"""Village quotas: more qualifying households than slots; upheld objections do not refill."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen.cli import app

runner = CliRunner()
ROOT = Path(__file__).parent.parent
A, B, C, D = (make_id(seq=s) for s in ("111", "211", "311", "411"))
ROSTER = [
    ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
    ["张庄村", "1", "甲", A, "户主", "低保", 3],  # 1100 + 180 = 1280
    ["张庄村", "2", "乙", B, "户主", "三属", 1],  # 960
    ["张庄村", "3", "丙", C, "户主", "困难家庭", 1],  # 600 + 190 = 790
    ["张庄村", "4", "丁", D, "户主", "低保", 1],  # 550 + 180 = 730
    ["李家湾村", "1", "戊", make_id(seq="511"), "户主", "低保", 1],  # 730, no quota for this village
]


def run(tmp_path: Path, quota: str, ids: str = "[]") -> dict:
    text = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")
    text = text.replace("  ids: []", f"  ids: {ids}").replace("combination:", f"quotas:\n{quota}\ncombination:")
    rules = tmp_path / "q.yaml"
    rules.write_text(text, encoding="utf-8")
    roster = write_xlsx(tmp_path / "r.xlsx", ROSTER)
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(rules), "-o", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def names(doc: dict, kind: str) -> list[str]:
    return sorted(x["name"] for x in doc["excluded"] if x["kind"] == kind)


def test_highest_amounts_fill_the_slots(tmp_path: Path) -> None:
    doc = run(tmp_path, "  slots: {张庄村: 2}")
    assert names(doc, "超出名额") == ["丁", "丙"]
    assert Decimal(doc["total"]) == Decimal(1280 + 960 + 730)  # 甲, 乙 and 李家湾村's 戊
    assert doc["by_village"]["张庄村"]["households"] == 2


def test_an_upheld_objection_leaves_its_slot_empty(tmp_path: Path) -> None:
    doc = run(tmp_path, "  slots: {张庄村: 2}", ids=f"[{B}]")
    assert names(doc, "超出名额") == ["丁", "丙"]
    assert names(doc, "排除") == ["乙"]
    assert "不予补缺" in next(x["reason"] for x in doc["excluded"] if x["name"] == "乙")
    assert doc["by_village"]["张庄村"]["households"] == 1


def test_refill_when_the_rules_say_so(tmp_path: Path) -> None:
    doc = run(tmp_path, "  slots: {张庄村: 2}\n  refill: true", ids=f"[{B}]")
    assert names(doc, "超出名额") == ["丁"]
    assert doc["by_village"]["张庄村"]["households"] == 2  # 甲 and 丙


def test_budget_lists_the_same_quota(tmp_path: Path) -> None:
    run(tmp_path, "  slots: {张庄村: 2}")
    result = runner.invoke(app, ["budget", str(tmp_path / "r.xlsx"), "--rules", str(tmp_path / "q.yaml"), "-o",
                                 str(tmp_path / "b"), "--json"])
    doc = json.loads(result.stdout)
    assert doc["total"] == f"{1280 + 960 + 730}.00"
    assert doc["over_quota"] == {"张庄村": 2}
