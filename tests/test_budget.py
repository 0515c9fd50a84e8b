"""weiwen budget: the same numbers as allocate, the fund ceiling, exact splits, a readable workbook."""

from __future__ import annotations

import json
import posixpath
import re
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.test_allocate import COUNTY, county_roster
from weiwen.budget import largest_remainder
from weiwen.cli import app

runner = CliRunner()
ROOT = Path(__file__).parent.parent
SAMPLES = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))


def test_split_of_1190000_at_13_to_1_adds_up() -> None:
    # By hand: 1,190,000 × 1.3 / 2.3 = 672,608.70 and × 1 / 2.3 = 517,391.30; floors sum to 1,189,999;
    # the one yuan left goes to the larger remainder (0.70, 大鱼片).
    parts = largest_remainder(Decimal(1190000), {"大鱼片": Fraction("1.3"), "春华片": Fraction(1)}, 1)
    assert parts == [("大鱼片", Decimal("672609.00")), ("春华片", Decimal("517391.00"))]
    tens = largest_remainder(Decimal(1190000), {"大鱼片": Fraction("1.3"), "春华片": Fraction(1)}, 10)
    assert tens == [("大鱼片", Decimal("672610.00")), ("春华片", Decimal("517390.00"))]


@given(st.integers(0, 10**7), st.lists(st.integers(1, 1000), min_size=1, max_size=8), st.sampled_from([1, 10]))
def test_parts_always_add_up_to_the_fund(fund: int, weights: list[int], unit: int) -> None:
    fund -= fund % unit
    parts = largest_remainder(Decimal(fund), {f"p{i}": Fraction(w) for i, w in enumerate(weights)}, unit)
    assert sum(a for _, a in parts) == fund
    assert all(a % unit == 0 for _, a in parts)
    exact = [Fraction(fund) * w / sum(weights) for w in weights]
    assert all(abs(Fraction(str(a)) - e) < unit for (_, a), e in zip(parts, exact, strict=True))


def test_budget_equals_allocate_on_the_samples(tmp_path: Path) -> None:
    a = runner.invoke(app, ["allocate", *SAMPLES, "--campaign", "spring", "-o", str(tmp_path / "a"), "--json"])
    b = runner.invoke(app, ["budget", *SAMPLES, "--campaign", "spring", "-o", str(tmp_path / "b"), "--json"])
    assert a.exit_code == b.exit_code == 0, b.output
    alloc, budget = json.loads(a.stdout), json.loads(b.stdout)
    for key in ("total", "cash", "goods_value"):
        assert alloc[key] == budget[key]
    assert {k: v["total"] for k, v in alloc["by_standard"].items()} == {
        k: v["total"] for k, v in budget["by_standard"].items()}
    assert budget["ceiling"] == "50000.00"  # from rules/spring.yaml
    assert Decimal(budget["shortfall"]) == Decimal(budget["total"]) - Decimal(50000)


def test_rosters_come_from_the_campaign_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["budget", "--campaign", "spring", "-o", str(tmp_path), "--ceiling", "40000",
                                 "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ceiling"] == "40000.00" and Decimal(doc["shortfall"]) > 0


def test_county_budget_line_by_line(tmp_path: Path) -> None:
    roster = county_roster(tmp_path / "county.csv")
    result = runner.invoke(app, ["budget", str(roster), "--campaign", "county", "-o", str(tmp_path / "o"), "--json"])
    doc = json.loads(result.stdout)
    assert doc["total"] == "2813500.00"
    for _category, count, code, amount in COUNTY:
        assert Decimal(doc["by_standard"][code]["total"]) == count * amount, code
    wb = openpyxl.load_workbook(tmp_path / "o" / "经费预算.xlsx")
    ws = wb["经费预算表"]
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "合计")
    assert ws.cell(last, 8).value == 2813500
    assert sum(ws.cell(r, 8).value for r in range(3, last)) == 2813500


def charts_by_sheet(path: Path) -> dict[str, int]:
    """How many charts each sheet shows, read from the workbook's parts (sheet -> drawing -> chart)."""
    def targets(z: zipfile.ZipFile, rels: str, kind: str) -> list[str]:
        if rels not in z.namelist():
            return []
        return re.findall(rf'Type="[^"]*/{kind}" Target="([^"]+)"', z.read(rels).decode())

    def rels_of(part: str) -> str:
        folder, name = part.rsplit("/", 1)
        return f"{folder}/_rels/{name}.rels"

    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        by_id = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', z.read("xl/_rels/workbook.xml.rels").decode()))
        counts = {}
        for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*r:id="(rId\d+)"', book):
            sheet = "xl/" + by_id[rid]
            drawings = [posixpath.normpath(posixpath.join(posixpath.dirname(sheet), t))
                        for t in targets(z, rels_of(sheet), "drawing")]
            counts[name] = sum(len(targets(z, rels_of(d), "chart")) for d in drawings)
    return counts


def test_charity_split_and_workbook(tmp_path: Path) -> None:
    from tests.conftest import make_id, write_xlsx

    roster = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别"], ["王一", make_id(), "特别贫困家庭"],
                                               ["李二", make_id(seq="124"), "困难家庭"]])
    out = tmp_path / "o"
    result = runner.invoke(app, ["budget", str(roster), "--campaign", "charity", "-o", str(out), "--json"])
    doc = json.loads(result.stdout)
    assert doc["total"] == "2980.00"  # by hand: 2000 + 190 + 600 + 190 (190 = 2 × 60 + 70)
    assert doc["split"] == [{"part": "大鱼片", "amount": "672609.00"}, {"part": "春华片", "amount": "517391.00"}]
    wb = openpyxl.load_workbook(out / "经费预算.xlsx")
    assert wb.sheetnames == ["经费预算表", "分村汇总", "物资采购清单", "资金测算"]
    assert charts_by_sheet(out / "经费预算.xlsx") == {"经费预算表": 1, "分村汇总": 1, "物资采购清单": 0, "资金测算": 0}
    goods = wb["物资采购清单"]
    assert [goods.cell(r, 2).value for r in (3, 4)] == ["大米", "食用油"]
    assert [goods.cell(r, 4).value for r in (3, 4)] == [4, 2]  # 2 bags and 1 bottle per household


def test_bad_ceiling_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["budget", *SAMPLES, "--campaign", "spring", "-o", str(tmp_path), "--ceiling", "五万"])
    assert result.exit_code == 2 and "--ceiling" in result.stderr


def test_compare_with_an_earlier_allocation(tmp_path: Path) -> None:
    before = tmp_path / "last-year"
    runner.invoke(app, ["allocate", *SAMPLES[:2], "--campaign", "spring", "-o", str(before)])
    prev = json.loads((before / "summary.json").read_text(encoding="utf-8"))
    result = runner.invoke(app, ["budget", *SAMPLES, "--campaign", "spring", "-o", str(tmp_path / "b"),
                                 "--compare", str(before), "--json"])
    doc = json.loads(result.stdout)
    total = doc["compare"][-1]
    assert total["total_before"] == prev["total"] and total["total_now"] == doc["total"]
    assert Decimal(total["change"]) == Decimal(doc["total"]) - Decimal(prev["total"]) > 0
    new_village = [c for c in doc["compare"] if c["kind"] == "村(社区)" and c["households_before"] == 0]
    assert len(new_village) == 1  # the third sample village was not in last year's run
    wb = openpyxl.load_workbook(tmp_path / "b" / "经费预算.xlsx")
    assert "对比" in wb.sheetnames
    bad = runner.invoke(app, ["budget", *SAMPLES, "--campaign", "spring", "-o", str(tmp_path / "c"),
                              "--compare", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "summary.json" in bad.stderr


def test_budget_equals_allocate_on_generated_rosters_with_errors(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(gen), "--households", "120", "--villages", "4", "--seed", "11",
                        "--error-rate", "0.05"])
    files = sorted(str(p) for p in gen.glob("*.xlsx"))
    a = json.loads(runner.invoke(app, ["allocate", *files, "-c", "spring", "-o", str(tmp_path / "a"), "--json"]).stdout)
    b = json.loads(runner.invoke(app, ["budget", *files, "-c", "spring", "-o", str(tmp_path / "b"), "--json"]).stdout)
    assert a["total"] == b["total"] and Decimal(a["total"]) > 0
    assert a["by_village"] == {v: {k: x[k] for k in ("households", "persons", "cash", "goods_value", "total")}
                               for v, x in b["by_village"].items()}
    assert any(x["kind"] == "行有错误" for x in a["excluded"])
