"""Campaigns whose recipients are not households: unit lists and event rosters (#20).

Scenarios computed by hand (tests/scenarios/lines/), both plan forms; the frequency limits as a
property of the pure engine; every way such a list could change an amount without a word refused
loudly; the CLI end to end on the bundled examples."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from tests.line_samples import EVENT_ROSTER, UNIT_LIST
from weiwen.app.pipeline import load_and_decide
from weiwen.budget import figures
from weiwen.cli import app
from weiwen.engine.limits import Event, Member, apply_limits, member_keys
from weiwen.rules import RulesError, load_rules
from weiwen.rules.schema import Limit

ROOT = Path(__file__).parent.parent
RULES = ROOT / "rules"
SCENARIOS = Path(__file__).parent / "scenarios" / "lines"
runner = CliRunner()
UNIT_HEADERS = ["序号", "慰问单位", "牵头部门", "备注"]
EVENT_HEADERS = ["序号", "姓名", "身份证号", "工号", "部门", "慰问事由", "事件日期", "是否同意"]


def fen(yuan: Any) -> int:
    return int(Decimal(str(yuan)) * 100)


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [(doc["rules"], c) for c in doc["cases"]]
    return out


CASES = _cases()


def _roster(rules: str, case: dict[str, Any], path: Path) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """The case as a real list workbook; returns it and (Excel row, expectation) per line."""
    expect: list[tuple[int, dict[str, Any]]] = []
    if rules == "frontline.yaml":
        rows: list[list[object]] = [UNIT_HEADERS]
        for line in case["lines"]:
            for k in range(1, line.get("repeat", 1) + 1):
                rows.append([len(rows), f"{line['单位']}{k}", line["部门"], ""])
                expect.append((len(rows), line["expect"]))
    else:
        rows = [EVENT_HEADERS]
        for line in case["lines"]:
            who = int(line["who"])
            pid = "" if line.get("no_id") else make_id("110101", f"1980{who:02d}01", f"{who:03d}")
            rows.append([len(rows), f"职工{who}", pid, f"10{who:02d}", line["部门"], line["事由"], str(line["日期"]),
                         line.get("同意", "")])
            expect.append((len(rows), line["expect"]))
    return write_xlsx(path, rows, sheet="名单"), expect


@pytest.mark.parametrize("form", [".yaml", ".xlsx"])
@pytest.mark.parametrize("rules,case", CASES, ids=[f"{r.removesuffix('.yaml')}-{c['id']}" for r, c in CASES])
def test_line_scenario(rules: str, case: dict[str, Any], form: str, tmp_path: Path) -> None:
    roster, expect = _roster(rules, case, tmp_path / "名单.xlsx")
    intake, decision = load_and_decide([roster], load_rules((RULES / rules).with_suffix(form)))
    assert decision is not None and not intake.errors, [p.message for p in intake.errors]
    paid = {int(r["row"]): r for r in decision.table.to_dict("records")}
    held = {x.row: x for x in decision.left_out}
    failures = []
    for row, want in expect:
        if "held" in want:
            x = held.get(row)
            if row in paid or x is None or x.kind != want["held"]:
                failures.append(f"第 {row} 行应为{want['held']}，实际 {'已发放' if row in paid else x and x.kind}")
            elif [d.isoformat() for d in x.earlier] != [str(d) for d in want["earlier"]]:
                failures.append(f"第 {row} 行此前日期应为 {want['earlier']}，实际 {x.earlier}")
            continue
        got = paid.get(row)
        if got is None:
            failures.append(f"第 {row} 行应发 {want['total']} 元，实际未发（{held.get(row) and held[row].reason}）")
        elif (got["cash_fen"], got["goods_fen"], got["total_fen"]) != (fen(want["cash"]), fen(want["goods"]), fen(want["total"])):
            failures.append(f"第 {row} 行应为 {want}，实际 现金 {got['cash_fen'] / 100} 物资 {got['goods_fen'] / 100}")
    assert int(decision.table["total_fen"].sum()) == fen(case["total"]), failures
    for key, qty in case.get("goods", {}).items():
        item, unit = key.split("|")
        assert float(decision.table[f"goods:{item}|{unit}"].sum()) == qty
    assert not failures, "\n".join(failures)


def test_the_bundled_examples_give_the_plans_figures() -> None:
    intake, d = load_and_decide([UNIT_LIST], load_rules(RULES / "frontline.xlsx"))
    assert d is not None and not intake.problems
    b = figures(d)
    assert d.total == Decimal("14100.00") and len(d.table) == 47
    assert {(g.item, g.unit): g.quantity for g in b.goods} == {("方便面", "箱"): 94, ("苹果", "箱"): 47, ("梨", "箱"): 47}
    intake, d = load_and_decide([EVENT_ROSTER], load_rules(RULES / "union-events.yaml"))
    assert d is not None and not intake.errors
    held = [x for x in d.left_out if x.kind == "待决定"]
    assert [(x.name, x.event_date, x.earlier) for x in held] == [("张伟", date(2026, 9, 15), [date(2026, 3, 2)])]
    assert "2026-03-02" in held[0].reason and "是否同意" in held[0].reason
    assert d.total == Decimal("4800.00")  # 6 × 住院 500 + 结婚 500 + 生日 100 + 去世 700 + 家属 500


# --- the limits as a property of the engine ------------------------------------------------

_events = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["住院", "生日", "结婚"]),
                             st.dates(date(2025, 1, 1), date(2026, 12, 31)), st.sampled_from(["", "是", "否"])),
                   max_size=30)


@settings(max_examples=200, deadline=None)
@given(_events, st.integers(1, 3))
def test_limits_hold_exactly_the_events_beyond_the_limit(raw: list[tuple[int, str, date, str]], per_year: int) -> None:
    events = [Event(Member(f"id{w}", ""), e, d, a) for w, e, d, a in raw]
    held = apply_limits(events, [Limit(event=["住院"], per_year=per_year)])
    assert all(events[i].event == "住院" for i in held)  # other events are never held
    by_year: dict[tuple[str, int], list[int]] = {}
    for i, e in enumerate(events):
        if e.event == "住院" and e.day is not None:
            by_year.setdefault((e.member.id_number, e.day.year), []).append(i)
    for idx in by_year.values():
        order = sorted(idx, key=lambda i: (events[i].day, i))
        assert not set(order[:per_year]) & set(held)  # the first per_year of a year are paid
        pending_or_paid = [i for i in order if i not in held or not held[i].refused]
        for i in order[per_year:]:  # every later one is held, with the dates that counted before it
            assert i in held
            before = [events[j].day for j in pending_or_paid if pending_or_paid.index(j) < pending_or_paid.index(i)] \
                if i in pending_or_paid else [events[j].day for j in pending_or_paid if (events[j].day, j) < (events[i].day, i)]
            assert held[i].earlier == sorted(before)
            assert held[i].nth == len(before) + 1


def test_earlier_events_from_before_count_first() -> None:
    m = Member("id1", "")
    earlier = [Event(m, "住院", date(2026, 1, 5))]
    held = apply_limits([Event(m, "住院", date(2026, 3, 1))], [Limit(event=["住院"], per_year=1)], earlier)
    assert held[0].earlier == [date(2026, 1, 5)] and held[0].nth == 2
    assert apply_limits([Event(m, "住院", date(2027, 3, 1))], [Limit(event=["住院"], per_year=1)], earlier) == {}


def test_a_staff_number_takes_the_id_another_line_gives_it() -> None:
    keys = member_keys(["110", None, None], ["7", "7", "8"])
    assert keys == [Member("110", ""), Member("110", ""), Member("", "8")]


# --- never silent -------------------------------------------------------------------------

def _events_file(tmp_path: Path, rows: list[list[object]], headers: list[str] = EVENT_HEADERS) -> Path:
    return write_xlsx(tmp_path / "登记表.xlsx", [headers, *rows])


def _codes(path: Path, plan: str = "union-events.yaml") -> list[tuple[int | None, str]]:
    intake, _ = load_and_decide([path], load_rules(RULES / plan))
    return [(p.row, p.code) for p in intake.problems]


def test_every_doubtful_event_line_is_an_error_at_its_cell(tmp_path: Path) -> None:
    a = make_id("110101", "19800101", "001")
    path = _events_file(tmp_path, [
        [1, "甲", a, "1", "教务处", "出差", "2026-03-01", ""],           # not an event of the plan
        [2, "乙", "", "", "教务处", "住院", "2026-03-01", ""],            # neither ID nor 工号
        [3, "丙", make_id("110101", "19800202", "002"), "3", "教务处", "住院", "", ""],  # no date
        [4, "丁", make_id("110101", "19800303", "003"), "4", "教务处", "住院", "三月", ""],  # unreadable date
        [5, "戊", make_id("110101", "19800404", "004"), "5", "教务处", "住院", "2026-03-01", "可以"],  # not 是/否
        [6, "己", make_id("110101", "19800505", "005"), "6", "教务处", "结婚", "2026-03-01", ""],
        [7, "己", make_id("110101", "19800505", "005"), "6", "教务处", "结婚", "2026-03-01", ""],  # twice
        [8, "庚", make_id("110101", "19800606", "006"), "8", "", "结婚", "2026-03-01", ""],  # no department
    ])
    codes = _codes(path)
    for want in [(2, "event-unknown"), (3, "member-key-missing"), (4, "event-date-missing"), (5, "event-date-invalid"),
                 (6, "approval-invalid"), (7, "event-duplicate"), (8, "event-duplicate"), (9, "department-missing")]:
        assert want in codes, (want, codes)
    intake, d = load_and_decide([path], load_rules(RULES / "union-events.yaml"))
    assert d is not None and len(d.table) == 0  # no line in error is paid
    unknown = next(p for p in intake.problems if p.code == "event-unknown")
    assert unknown.column == "慰问事由" and unknown.cell == "F2" and "出差" in unknown.message


def test_an_event_roster_without_id_or_staff_number_columns_is_refused(tmp_path: Path) -> None:
    path = _events_file(tmp_path, [[1, "甲", "教务处", "住院", "2026-03-01"]],
                        headers=["序号", "姓名", "部门", "慰问事由", "事件日期"])
    assert (1, "member-key-column-missing") in _codes(path)


def test_a_unit_list_names_its_mistakes(tmp_path: Path) -> None:
    headers = [*UNIT_HEADERS, "联系电话", "银行账号"]
    path = write_xlsx(tmp_path / "单位.xlsx", [
        headers, [1, "城关卡点", "治安大队", "", "13800138000", ""], [2, "城关卡点", "治安大队", "", "", ""],
        [3, "", "交警大队", "", "", ""], [4, "东关卡点", "", "", "", ""],
        [5, "城关卡点", "交警大队", "另一个部门的同名卡点", "1380013", "6222 0000 0000 0000 001"],
        [6, "西关卡点", "交警大队", "", 13800138000.0, ""]])
    codes = _codes(path, "frontline.yaml")
    assert {(2, "unit-duplicate"), (3, "unit-duplicate"), (4, "unit-name-missing"), (5, "department-missing"),
            (6, "phone-invalid"), (6, "bank-luhn"), (7, "phone-numeric-cell")} <= set(codes), codes
    assert (6, "unit-duplicate") not in codes  # the same name under another department is another unit
    assert not any(code.startswith("id-") for _, code in codes)  # no ID column is asked of a unit list


def test_a_list_that_is_not_of_the_campaigns_kind_is_refused(tmp_path: Path) -> None:
    # a household roster given to the unit campaign: no 慰问单位 / 牵头部门 header
    intake, d = load_and_decide([ROOT / "samples" / "rosters" / "1-王楼村.xlsx"], load_rules(RULES / "frontline.yaml"))
    assert d is None and any(p.code == "list-header-not-found" and "慰问单位" in p.message for p in intake.problems)


@pytest.mark.parametrize("change,words", [
    ({"campaign": {"recipients": "unit"}, "standards": [{"when": {"age": {"gte": 80}}}]}, "没有 age"),
    ({"campaign": {"recipients": "unit"}, "standards": [{"per": "person"}]}, "计发方式只能是“按户”"),
    ({"limits": [{"event": "住院", "per_year": 1}]}, "limits"),
    ({"campaign": {"recipients": "person"}, "quotas": {"slots": {"教务处": 3}}}, "quotas"),
])
def test_rules_that_cannot_mean_what_they_say_for_units_or_events_are_refused(
        change: dict[str, Any], words: str, tmp_path: Path) -> None:
    doc = yaml.safe_load((RULES / "frontline.yaml").read_text(encoding="utf-8"))
    doc["campaign"]["recipients"] = "household"
    for key, value in change.items():
        if key == "standards":
            doc["standards"][0].update(value[0])
        elif key == "campaign":
            doc["campaign"].update(value)
        else:
            doc[key] = value
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError) as e:
        load_rules(path)
    assert words in str(e.value)


# --- the CLI end to end ---------------------------------------------------------------------

def test_validate_allocate_budget_and_run_on_a_unit_list(tmp_path: Path) -> None:
    r = runner.invoke(app, ["validate", str(UNIT_LIST), "--campaign", "frontline"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "结果"
    r = runner.invoke(app, ["allocate", str(UNIT_LIST), "--campaign", "frontline", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "单位数" in r.output and "14100.00" in r.output
    book = openpyxl.load_workbook(out / "发放清单.xlsx")
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 7  # 汇总 + one per leading department
    ws = book["发放清单-治安大队"]
    header = [c.value for c in ws[3]]
    assert header[:2] == ["序号", "慰问单位"] and "签收人" in header
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows(min_row=3)]
    assert summary[-1][:5] == ["合计", 47, 94, 47, 47]
    assert not (out / "公示名单.xlsx").exists()
    r = runner.invoke(app, ["budget", str(UNIT_LIST), "--campaign", "frontline", "-o", str(out)])
    assert r.exit_code == 0, r.output
    budget = openpyxl.load_workbook(out / "经费预算.xlsx")
    assert "分牵头部门汇总" in budget.sheetnames and "分村汇总" not in budget.sheetnames
    plan = tmp_path / "方案" / "一线.yaml"
    plan.parent.mkdir()
    doc = (RULES / "frontline.yaml").read_text(encoding="utf-8").replace(
        "  recipients: unit ", f"  rosters: {UNIT_LIST}\n  recipients: unit ")
    plan.write_text(doc, encoding="utf-8")
    r = runner.invoke(app, ["run", str(plan), "--out", str(tmp_path / "输出")])
    assert r.exit_code == 0, r.output
    latest = json.loads(next((tmp_path / "输出").rglob("manifest.json")).read_text(encoding="utf-8"))
    assert latest


def test_run_on_an_event_roster(tmp_path: Path) -> None:
    plan = tmp_path / "方案" / "工会.yaml"
    plan.parent.mkdir()
    plan.write_text((RULES / "union-events.yaml").read_text(encoding="utf-8").replace(
        "  recipients: person ", f"  rosters: {EVENT_ROSTER}\n  recipients: person "), encoding="utf-8")
    r = runner.invoke(app, ["run", str(plan), "--out", str(tmp_path / "输出")])
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "输出").rglob("慰问登记册.xlsx")]
    assert [p.name for p in (tmp_path / "输出").rglob("经费预算.xlsx")]


def test_allocate_an_event_roster_writes_the_register_and_the_decisions(tmp_path: Path) -> None:
    out = tmp_path / "结果"
    r = runner.invoke(app, ["allocate", str(EVENT_ROSTER), "--campaign", "union-events", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "待决定 1" in r.output
    book = openpyxl.load_workbook(out / "慰问登记册.xlsx")
    assert book.sheetnames == ["登记册", "待决定", "不同意"]
    held = [[c.value for c in row] for row in book["待决定"].iter_rows(min_row=4, max_row=4)][0]
    assert held[2] == "张伟" and held[5] == "2026-09-15" and held[6] == "2026-03-02"
    register = [[c.value for c in row] for row in book["登记册"].iter_rows(min_row=4)]
    assert register[-1][0] == "合计" and register[-1][10] == 4800
    text = "".join(str(c) for row in register for c in row if c)
    assert not any(make_id("410102", "19800314", "12") in text for _ in [0])  # IDs masked
    assert not (out / "公示名单.xlsx").exists()  # a member's hospitalisation is not posted
    r = runner.invoke(app, ["validate", str(EVENT_ROSTER), "--campaign", "union-events"])
    assert r.exit_code == 0, r.output


def test_a_ledger_is_refused_for_units_until_it_records_them(tmp_path: Path) -> None:
    r = runner.invoke(app, ["allocate", str(UNIT_LIST), "--campaign", "frontline", "-o", str(tmp_path / "o"),
                            "--ledger", f"sqlite:///{tmp_path / 'l.db'}"])
    assert r.exit_code != 0 and "台账" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("path,example", [(UNIT_LIST, "frontline"), (EVENT_ROSTER, "union-events")])
def test_a_list_given_without_its_campaign_says_which_campaign_it_needs(path: Path, example: str) -> None:
    r = runner.invoke(app, ["validate", str(path), "--json"])
    assert r.exit_code == 2, r.output
    report = json.loads(r.stdout)
    assert [e["code"] for e in report["errors"]] == ["list-needs-campaign"]
    assert f"--campaign {example}" in report["errors"][0]["hint"]


def test_every_line_not_paid_is_in_the_workbook_with_its_reason(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "单位.xlsx", [UNIT_HEADERS, [1, "城关卡点", "治安大队", ""], [2, "城关卡点", "治安大队", ""],
                                                [3, "东关卡点", "", ""], [4, "西关卡点", "交警大队", ""]])
    r = runner.invoke(app, ["allocate", str(path), "--campaign", "frontline", "-o", str(tmp_path / "o")])
    assert r.exit_code == 1, r.output  # rows with errors: the others are decided, the exit code says so
    assert "47 个单位" in r.output and "47 户" not in r.output  # the plan's count, in units
    r = runner.invoke(app, ["budget", str(path), "--campaign", "frontline", "-o", str(tmp_path / "b")])
    assert "未纳入：行有错误 3 条（不在预算之内" in r.output  # the budget says what it leaves out
    book = openpyxl.load_workbook(tmp_path / "o" / "发放清单.xlsx")
    assert book.sheetnames == ["汇总", "发放清单-交警大队", "未纳入"]
    rows = [[c.value for c in row] for row in book["未纳入"].iter_rows(min_row=4) if row[0].value]
    assert [(r[3], r[4]) for r in rows] == [("城关卡点", "第 2 行"), ("城关卡点", "第 3 行"), ("东关卡点", "第 4 行")]
    assert "牵头部门为空" in rows[2][5]


def test_footer_rows_of_a_unit_list_are_never_paid_as_units(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "单位.xlsx", [
        ["序号", "单位名称", "牵头单位"], [1, "城关卡点", "治安大队"], [2, "审批服务中心", "办公室"],
        ["", "合计", "2个单位"], ["合计", "8个单位", ""], ["制表人：张三", "", ""]])
    intake, d = load_and_decide([path], load_rules(RULES / "frontline.yaml"))
    assert d is not None and sorted(d.table["head_name"]) == ["城关卡点", "审批服务中心"]  # 审批… is a unit
    footer = [p for p in intake.problems if p.code == "rows-skipped-footer"]
    assert len(footer) == 1 and "4、5、6" in footer[0].message and "合计" in footer[0].message
    assert not intake.errors


def test_an_unknown_event_names_the_plans_events_and_a_leaders_words_are_understood(tmp_path: Path) -> None:
    a = make_id("110101", "19800101", "001")
    path = _events_file(tmp_path, [[1, "甲", a, "1", "教务处", "直系亲属病逝", "2026-03-01", ""],
                                   [2, "甲", a, "1", "教务处", "住院", "2026-03-01", ""],
                                   [3, "甲", a, "1", "教务处", "住院", "2026-05-01", "同意"],
                                   [4, "乙", make_id("110101", "19800202", "002"), "2", "教务处", "住院", "2026-03-01", ""],
                                   [5, "乙", make_id("110101", "19800202", "002"), "2", "教务处", "住院", "2026-06-01", "不同意"]])
    intake, d = load_and_decide([path], load_rules(RULES / "union-events.yaml"))
    unknown = next(p for p in intake.problems if p.code == "event-unknown")
    assert "是不是：直系亲属去世？" in unknown.message and "本活动的事由有：住院、结婚" in unknown.message
    assert "三属" not in unknown.message  # never a household category
    assert not [p for p in intake.errors if p.code == "approval-invalid"]
    assert d is not None and sorted(d.table["row"]) == [3, 4, 5]  # 同意: paid
    assert [(x.row, x.kind) for x in d.left_out if x.kind in ("待决定", "不同意")] == [(6, "不同意")]
