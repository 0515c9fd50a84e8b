"""The campaign plan as a workbook (慰问方案.xlsx): written, read back, and every clerk's mistake named by its cell.

* round trip: any plan → workbook → plan is the same plan (:func:`weiwen.rules.same_plan`), and
  plan → YAML → plan is equal, over generated plans (tests/plan_strategies.py) and every file in rules/;
* the bundled campaigns ship as workbooks that hold the same plan as their YAML, and give
  byte-identical allocation outputs on the hand-computed scenario households (tests/scenarios);
* each mistake a clerk can make in the workbook is refused with a message naming sheet, row,
  column and cell.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from tests.plan_strategies import plans
from tests.test_scenarios import ALL_CASES, HEADERS
from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.model.vocab import load_vocabulary
from weiwen.rules import RulesError, campaign_vocabulary, find_campaign, load_rules, read_plan, same_plan
from weiwen.rules import condtext
from weiwen.rules.lint import check
from weiwen.rules.schema import Condition, Rules
from weiwen.rules.to_yaml import rules_yaml
from weiwen.sheets.plan_book import write_plan_book

ROOT = Path(__file__).parent.parent
RULES = ROOT / "rules"
BUNDLED = sorted(RULES.glob("*.yaml"))
SAMPLES = ROOT / "samples" / "rosters"
runner = CliRunner()
ROUND_TRIP = settings(max_examples=int(os.environ.get("WEIWEN_PLAN_EXAMPLES", "40")), deadline=None,
                      derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- the condition cell ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "data"), [
    ("年龄≥80", {"age": {"gte": "80"}}),
    ("年龄 >= 80 岁", {"age": {"gte": "80"}}),
    ("60≤年龄<80", {"age": {"gte": "60", "lt": "80"}}),
    ("残疾等级≤2级", {"disability_grade": {"lte": "2"}}),
    ("户人口数＞＝3", {"household_size": {"gte": "3"}}),
    ("年龄=100", {"age": {"eq": "100"}}),
    ("性别=女", {"sex": "女"}),
    ("类别=三无人员、残疾人", {"category": ["三无人员", "残疾人"]}),
    ("村=李家湾村，赵寨村", {"village": ["李家湾村", "赵寨村"]}),
    ("列【家庭人均收入】<1290", {"column": "家庭人均收入", "lt": "1290"}),
    ("列[困难原因]=患病、残疾", {"column": "困难原因", "in": ["患病", "残疾"]}),
    ("列「上年已慰问」=是", {"column": "上年已慰问", "equals": "是"}),
    ("类别=三无人员 或 类别=残疾人", {"any": [{"category": ["三无人员"]}, {"category": ["残疾人"]}]}),
    ("户人口≥3且非 村=李家湾村", {"all": [{"household_size": {"gte": "3"}}, {"not": {"village": ["李家湾村"]}}]}),
    ("年龄≥80 且 （类别=低保 或 类别=特困）",
     {"all": [{"age": {"gte": "80"}}, {"any": [{"category": ["低保"]}, {"category": ["特困"]}]}]}),
    ("类别=非农户口或者年龄>3", {"any": [{"category": ["非农户口"]}, {"age": {"gt": "3"}}]}),
    ("村=张或李村 或 年龄<3", {"any": [{"village": ["张或李村"]}, {"age": {"lt": "3"}}]}),
])
def test_condition_cell_reads_as_written(text: str, data: dict[str, object]) -> None:
    assert condtext.parse(text) == data
    assert Condition.model_validate(condtext.parse(condtext.render(Condition.model_validate(data)))) == \
        condtext.canonical(Condition.model_validate(data))


@pytest.mark.parametrize(("text", "says"), [
    ("岁数≥80", "不认识“岁数"),
    ("年令≥80", "是不是“年龄”"),
    ("年龄80", "比较符号"),
    ("年龄≥八十", "要写数字"),
    ("类别>低保", "只能写“=”"),
    ("年龄≥80 性别=女", "要写“且”或“或”"),
    ("(年龄≥80 且 性别=女", "括号没有配对"),
    ("年龄≥80)", "多了一个右括号"),
    ("年龄≥80 且", "条件没写完"),
    ("80>年龄", "不认识"),
    ("列家庭人均收入<1290", "列【列名】"),
    ("性别=男、女", "性别只能写一个"),
    ("类别=", "没有写值"),
])
def test_condition_cell_mistakes_are_explained(text: str, says: str) -> None:
    with pytest.raises(condtext.ConditionSyntaxError, match=says.replace("(", r"\(").replace(")", r"\)")):
        condtext.parse(text)


def test_conditions_the_cell_cannot_hold_are_refused_not_mangled() -> None:
    for cond in ({"age": {"gt": 1, "gte": 2}}, {"age": {"eq": 3, "lt": 5}},
                 {"category": ["低保、特困"]}, {"village": ["（东）村"]}, {"column": "x", "equals": "a", "lt": 3}):
        with pytest.raises(condtext.NotExpressible):
            condtext.render(Condition.model_validate(cond))


# --- round trips --------------------------------------------------------------------------------------

def _through_workbook(rules: Rules, folder: Path) -> Rules:
    target = folder / "方案.xlsx"
    target.unlink(missing_ok=True)
    write_plan_book(target, rules, load_vocabulary())
    return read_plan(target)


def _through_yaml(rules: Rules, folder: Path) -> Rules:
    target = folder / "方案.yaml"
    target.write_text(rules_yaml(rules), encoding="utf-8")
    return read_plan(target)


@ROUND_TRIP
@given(plan=plans())
def test_any_plan_survives_the_workbook_and_yaml(plan: Rules, tmp_path: Path) -> None:
    back = _through_workbook(plan, tmp_path)
    assert same_plan(back, plan)
    assert _through_yaml(plan, tmp_path) == plan  # YAML keeps every shape: equal, not only the same plan
    assert _through_yaml(back, tmp_path) == back


def test_same_plan_is_not_a_yes_machine() -> None:
    plan = read_plan(RULES / "township.yaml")
    cheaper = plan.standards[-1].model_copy(update={"cash": plan.standards[-1].cash - 1})
    assert not same_plan(plan, plan.model_copy(update={"standards": [*plan.standards[:-1], cheaper]}))
    stacking = plan.standards[-1].model_copy(update={"stacking": False})
    assert not same_plan(plan, plan.model_copy(update={"standards": [*plan.standards[:-1], stacking]}))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_plan_ships_as_a_workbook_with_the_same_plan(path: Path, tmp_path: Path) -> None:
    yaml_plan = read_plan(path)
    shipped = path.with_suffix(".xlsx")
    assert shipped.is_file(), f"{shipped.name} 缺失：weiwen rules convert {path} -o {shipped}"
    assert same_plan(read_plan(shipped), yaml_plan)
    assert same_plan(_through_workbook(yaml_plan, tmp_path), yaml_plan)
    assert _through_yaml(yaml_plan, tmp_path) == yaml_plan


def test_the_same_plan_gives_the_same_workbook_bytes(tmp_path: Path) -> None:
    plan = read_plan(RULES / "township.yaml")
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_plan_book(a, plan, load_vocabulary())
    write_plan_book(b, plan, load_vocabulary())
    assert a.read_bytes() == b.read_bytes()


# --- byte-identical allocation ------------------------------------------------------------------------

def _scenario_rosters(plan: str, folder: Path) -> list[Path]:
    """Every hand-computed scenario household of ``plan`` in one roster (a village per case)."""
    cases = [c for c in ALL_CASES if c.plan == plan]
    columns = sorted({c for case in cases for c in case.columns})
    rows: list[list[object]] = [HEADERS + columns]
    seq = 0
    for k, case in enumerate(cases):
        for hh in case.households:
            size = hh.get("size", len(hh["persons"]))
            for p in hh["persons"]:
                seq += 1
                rows.append([f"{hh.get('village', '幸福村')}{k}", hh["household"], p["name"],
                             make_id("110101", str(p.get("born", "19600101")), f"{seq % 1000:03d}"),
                             p.get("relation", "户主"), p.get("categories", ""), p.get("disability", ""), size,
                             *[p.get(c, "") for c in columns]])
    return [write_xlsx(folder / f"{plan}.xlsx", rows)]


def _allocate(rosters: list[Path], rules: Path, out: Path) -> dict[str, bytes]:
    result = runner.invoke(app, ["allocate", *map(str, rosters), "--rules", str(rules), "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert "慰问明细.xlsx" in files and "allocation.csv" in files, sorted(files)
    return files


def _without_provenance(summary: bytes) -> dict[str, object]:
    """summary.json names the rules file it was given and where each finding is in it: those differ."""
    doc = json.loads(summary)
    doc.pop("rules_sha256")
    for f in doc.get("findings", []):
        for key in ("file", "sheet", "row", "column", "cell"):
            f.pop(key, None)
    return doc


@pytest.mark.parametrize("plan", ["township", "county", "street", "bureau", "spring"])
def test_bundled_workbooks_allocate_byte_identically(plan: str, tmp_path: Path) -> None:
    rosters = sorted(SAMPLES.glob("*.xlsx")) if plan == "spring" else _scenario_rosters(plan, tmp_path)
    from_yaml = _allocate(rosters, RULES / f"{plan}.yaml", tmp_path / "yaml")
    from_xlsx = _allocate(rosters, RULES / f"{plan}.xlsx", tmp_path / "xlsx")
    assert sorted(from_yaml) == sorted(from_xlsx)
    differ = [name for name in from_yaml if name != "summary.json" and from_yaml[name] != from_xlsx[name]]
    assert differ == []
    assert _without_provenance(from_yaml["summary.json"]) == _without_provenance(from_xlsx["summary.json"])
    assert len(from_yaml["allocation.csv"].splitlines()) > 5  # households were aided: the comparison means something


# --- a clerk's mistakes, each named by its cell ---------------------------------------------------------

@pytest.fixture()
def township(tmp_path: Path) -> Path:
    target = tmp_path / "慰问方案.xlsx"
    write_plan_book(target, read_plan(RULES / "township.yaml"), load_vocabulary())
    return target


def _edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(RulesError) as err:
        load_rules(path)
    return "\n".join(err.value.messages)


def _row_of(ws: object, column: int, value: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, column).value == value)  # type: ignore[attr-defined]


def test_workbook_holds_what_the_plan_says(township: Path) -> None:
    wb = openpyxl.load_workbook(township)
    assert wb.sheetnames[:10] == ["活动", "标准", "物资", "分档", "名额", "排除", "方案合计", "类别", "次数限制", "分片"]
    ws = wb["标准"]
    rows = [[c.value for c in row][:9] for row in ws.iter_rows(min_row=2, max_row=5)]
    assert rows[0][:5] == ["dibao", "低保家庭", "低保", None, "组合包"]
    assert rows[1][1] == "一次性取暖救助" and rows[1][4] == "按户" and rows[1][5] == 600 and rows[1][8] == "dibao"
    assert rows[3][3] == "类别=三无人员 或 类别=残疾人" and rows[3][2] == "低保"
    army = _row_of(ws, 1, "army-family")
    assert ws.cell(army, 8).value == "是"  # 是否另行发放: 现役军人家属 is paid on top
    assert wb["选项"].sheet_state == "hidden"


def test_empty_required_cell_is_named(township: Path) -> None:
    def blank_name(wb: openpyxl.Workbook) -> None:
        wb["标准"]["B2"] = None
        wb["活动"].cell(_row_of(wb["活动"], 1, "基准日期"), 2).value = None
    said = _refusal(_edit(township, blank_name))
    assert "工作表“标准”第 2 行“名称”列（B2）：“名称”必须填写" in said
    assert "工作表“活动”第 4 行“内容”列（B4）：“基准日期”必须填写" in said


def test_amount_with_text_is_named(township: Path) -> None:
    def text_amount(wb: openpyxl.Workbook) -> None:
        wb["标准"]["F3"] = "600元"
        wb["物资"]["G2"] = "四元"
    said = _refusal(_edit(township, text_amount))
    assert "工作表“标准”第 3 行“现金”列（F3）：“600元”不是数字" in said
    assert "工作表“物资”第 2 行“单价”列（G2）：“四元”不是数字" in said


def test_package_part_without_its_package_is_named(township: Path) -> None:
    said = _refusal(_edit(township, lambda wb: wb["标准"].__setitem__("I3", "dibao2")))
    assert "工作表“标准”第 3 行“所属组合”列（I3）：找不到代码为“dibao2”的组合包。已有的组合包：dibao。" in said


def test_part_of_a_standard_that_is_not_a_package_is_named(township: Path) -> None:
    said = _refusal(_edit(township, lambda wb: wb["标准"].__setitem__("I3", "sanshu")))
    assert "（I3）：“sanshu”不是组合包" in said


def test_unknown_category_is_named_by_the_check(township: Path) -> None:
    def misspell(wb: openpyxl.Workbook) -> None:
        ws = wb["标准"]
        ws.cell(_row_of(ws, 1, "sanshu"), 3).value = "三屬"
    loaded = load_rules(_edit(township, misspell))
    found = [p for p in check(loaded, campaign_vocabulary(loaded)) if p.code == "rules-category-unknown"]
    assert len(found) == 1
    p = found[0]
    row = _row_of(openpyxl.load_workbook(township)["标准"], 1, "sanshu")
    assert (p.sheet, p.row, p.column, p.cell) == ("标准", row, "对象类别", f"C{row}")
    assert "三屬" in p.message and f"工作表“标准” 第 {row} 行 列“对象类别”（C{row}）" in p.location_zh()


def test_tier_gap_is_named_by_the_check(tmp_path: Path) -> None:
    target = tmp_path / "spring.xlsx"
    write_plan_book(target, read_plan(RULES / "spring.yaml"), load_vocabulary())
    _edit(target, lambda wb: wb["分档"].__setitem__("E4", 4))  # 3人及以上 → 4人及以上: 3-person households get nothing
    loaded = load_rules(target)
    gaps = [p for p in check(loaded, campaign_vocabulary(loaded)) if p.code == "rules-tier-gap"]
    assert [(p.sheet, p.row, p.cell) for p in gaps] == [("分档", 4, "E4")]
    assert "户人口数为 3 的对象" in gaps[0].message
    result = runner.invoke(app, ["rules", "check", str(target)])
    assert result.exit_code == 1
    assert "方案工作表“分档”第 4 行“下限”列（E4）" in result.stdout


def test_condition_syntax_mistake_is_named(township: Path) -> None:
    said = _refusal(_edit(township, lambda wb: wb["标准"].__setitem__("D5", "类别=三无人员 或 岁数>3")))
    assert "工作表“标准”第 5 行“其他条件”列（D5）：条件写法有误：不认识“岁数”" in said


@pytest.mark.parametrize(("change", "says"), [
    (lambda wb: wb["标准"].__setitem__("E2", "按家"), "（E2）：“按家”不是可选的值，可选：按户、按人、按户人口"),
    (lambda wb: wb["标准"].__setitem__("G4", "也许"), "（G4）：只能填“是”或“否”"),
    (lambda wb: wb["标准"].__setitem__("F3", -600), "（F3）：金额不能为负数"),
    (lambda wb: wb["物资"].__setitem__("A2", "dibo"), "（A2）：“标准”表中没有代码为“dibo”的标准，是不是“dibao”"),
    (lambda wb: wb["物资"].__setitem__("B2", None), "（B2）：“dibao”是组合包：要写明是它的哪个部分"),
    (lambda wb: wb["标准"].__setitem__("C2", None), "（C2）：“对象类别”和“其他条件”至少要填一项"),
    (lambda wb: wb["标准"].__setitem__("A8", "dibao"), "（A8）：标准代码“dibao”重复"),
    (lambda wb: wb["活动"].__setitem__("B4", "明年春节"), "（B4）：“明年春节”不是日期"),
    (lambda wb: wb["活动"].__setitem__("A20", "公示天"), "（A20）：不认识的项目“公示天”，是不是“公示天数”"),
    (lambda wb: wb["标准"].__setitem__("F1", "现今"), "不认识的列“现今”，是不是“现金”"),
    (lambda wb: wb["标准"].__setitem__("D5", "村=王楼村 或 张庄村"), "（D5）：条件写法有误：“王楼村 或 张庄村”中的“或”后面没有写名称"),
    (lambda wb: wb["标准"].__setitem__("D5", "村=王楼村 张庄村"), "（D5）：条件写法有误：值“王楼村 张庄村”中间有空格"),
    (lambda wb: setattr(wb["物资"], "title", "物质"), "不认识的工作表“物质”，是不是“物资”"),
    (lambda wb: setattr(wb["物资"], "sheet_state", "hidden"), "工作表“物资”被隐藏了"),
    (lambda wb: setattr(wb["标准"].row_dimensions[6], "hidden", True), "工作表“标准”第 6 行被隐藏了"),
    (lambda wb: wb["排除"].__setitem__("A2", 110101199003071234), "身份证号被 Excel 存成了数字"),
    (lambda wb: wb["标准"].__setitem__("G2", "是"), "（G2）：组合包这一行不填“物资只发一次”"),
    (lambda wb: wb["标准"].__setitem__("E3", "按户") or wb["标准"].__setitem__("G3", "是"),
     "（G3）：“物资只发一次”只用于计发方式为“按人”的标准"),
])
def test_other_workbook_mistakes_are_named(township: Path, change: Callable[[openpyxl.Workbook], None],
                                           says: str) -> None:
    assert says in _refusal(_edit(township, change))


def test_a_unit_after_a_header_is_a_note(township: Path) -> None:
    _edit(township, lambda wb: (wb["标准"].__setitem__("F1", "现金（元）"), wb["物资"].__setitem__("G1", "单价(元)")))
    assert same_plan(read_plan(township), read_plan(RULES / "township.yaml"))


def test_a_category_in_a_part_condition_is_named_in_its_cell(township: Path) -> None:
    _edit(township, lambda wb: wb["标准"].__setitem__("D5", "类别=三无人员 或 类别=残废人"))
    loaded = load_rules(township)
    found = [p for p in check(loaded, campaign_vocabulary(loaded)) if p.code == "rules-category-unknown"]
    assert [(p.sheet, p.cell, p.column) for p in found] == [("标准", "D5", "其他条件")]
    assert "标准“低保家庭”的部分“三无人员、残疾人员一次性生活补贴”中的类别“残废人”" in found[0].message


def test_every_mistake_is_reported_at_once(township: Path) -> None:
    def many(wb: openpyxl.Workbook) -> None:
        wb["标准"]["F3"] = "六百"
        wb["标准"]["E9"] = "按家"
        wb["物资"]["G3"] = "x"
    assert sum(" F3" in m or "（F3）" in m or "（E9）" in m or "（G3）" in m
               for m in _refusal(_edit(township, many)).splitlines()) == 3


def test_a_plan_text_file_named_xlsx_is_refused_in_chinese(tmp_path: Path) -> None:
    fake = tmp_path / "方案.xlsx"
    fake.write_text((RULES / "spring.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(WeiwenError) as err:
        load_rules(fake)
    assert "不是慰问方案工作簿" in str(err.value) or "纯文本" in str(err.value)


# --- commands -----------------------------------------------------------------------------------------

def test_template_then_fill_then_allocate(tmp_path: Path) -> None:
    """A clerk's path: a blank plan, filled in a spreadsheet program, checked, used to allocate."""
    os.chdir(tmp_path)
    result = runner.invoke(app, ["rules", "template"])
    assert result.exit_code == 0, result.output
    plan = tmp_path / "慰问方案.xlsx"
    assert plan.is_file()
    blank = runner.invoke(app, ["rules", "check", str(plan)])
    assert blank.exit_code == 2 and "“活动名称”必须填写" in blank.output and "B2" in blank.output

    def fill(wb: openpyxl.Workbook) -> None:
        ws = wb["活动"]
        ws.cell(_row_of(ws, 1, "活动名称"), 2).value = "测试镇春节慰问"
        ws.cell(_row_of(ws, 1, "活动代码"), 2).value = "测试-2027"
        ws.cell(_row_of(ws, 1, "基准日期"), 2).value = "2027年1月20日"
        st = wb["标准"]
        st.append(["dibao", "低保家庭", "低保", None, "按户", 500, None, "否", None, None])
        st.append(["army", "现役军人家属", "现役军人家属", None, "按户", 300, None, "是", None, None])
        st.append(["old", "高龄老人", None, "年龄≥80", "按人", 200, None, "否", None, None])
    # openpyxl appends below the prepared blank rows; the reader skips blank rows in between
    _edit(plan, fill)
    checked = runner.invoke(app, ["rules", "check", str(plan)])
    assert checked.exit_code == 0, checked.output
    out = tmp_path / "结果"
    done = runner.invoke(app, ["allocate", str(SAMPLES), "--rules", str(plan), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "测试镇春节慰问" in (out / "summary.json").read_text(encoding="utf-8")


def test_template_refuses_to_replace_a_file(tmp_path: Path) -> None:
    existing = tmp_path / "慰问方案.xlsx"
    existing.write_bytes(b"mine")
    result = runner.invoke(app, ["rules", "template", "-o", str(existing)])
    assert result.exit_code == 2 and "已经存在" in result.output
    assert existing.read_bytes() == b"mine"


def test_template_from_a_campaign_is_that_plan(tmp_path: Path) -> None:
    target = tmp_path / "底稿.xlsx"
    result = runner.invoke(app, ["rules", "template", "--campaign", "township", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert same_plan(read_plan(target), read_plan(RULES / "township.yaml"))


def test_convert_both_ways(tmp_path: Path) -> None:
    xlsx, back = tmp_path / "春节.xlsx", tmp_path / "春节.yaml"
    one = runner.invoke(app, ["rules", "convert", str(RULES / "spring.yaml"), "-o", str(xlsx)])
    assert one.exit_code == 0 and "读回核对一致" in one.output, one.output
    two = runner.invoke(app, ["rules", "convert", str(xlsx)])
    assert two.exit_code == 0, two.output
    assert back.is_file() and same_plan(read_plan(back), read_plan(RULES / "spring.yaml"))
    again = runner.invoke(app, ["rules", "convert", str(xlsx)])
    assert again.exit_code == 2 and "已经存在" in again.output
    wrong = runner.invoke(app, ["rules", "convert", str(RULES / "spring.yaml"), "-o", str(tmp_path / "x.yaml")])
    assert wrong.exit_code == 2 and "要转换成 .xlsx" in wrong.output


def test_campaign_with_both_forms_that_differ_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    yaml_form = tmp_path / "rules" / "镇春节.yaml"
    yaml_form.write_text((RULES / "spring.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    xlsx_form = tmp_path / "rules" / "镇春节.xlsx"
    write_plan_book(xlsx_form, read_plan(RULES / "spring.yaml"), load_vocabulary())
    assert find_campaign("镇春节", cwd=tmp_path) == yaml_form  # the same plan twice: either will do
    _edit(xlsx_form, lambda wb: wb["标准"].__setitem__("F3", 450))
    with pytest.raises(WeiwenError, match="内容不一致"):
        find_campaign("镇春节", cwd=tmp_path)
    yaml_form.unlink()
    assert find_campaign("镇春节", cwd=tmp_path) == xlsx_form


def test_plan_workbook_speaks_chinese(township: Path) -> None:
    wb = openpyxl.load_workbook(township)
    english = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    import re
                    english |= {w for w in re.findall(r"[A-Za-z]{2,}", c.value)}
    # standard codes are the plan's own names (dibao, army-family); the help names the command and file types
    assert english <= {"dibao", "edge", "hardship", "sanshu", "youfu", "army", "family", "weiwen", "allocate",
                       "rules", "check", "run", "xlsx", "Excel", "WPS", "sqlite", "db", "spring", "township"}, english


@pytest.mark.parametrize("command", [
    ["validate", str(SAMPLES)],
    ["budget", str(SAMPLES)],
    ["explain", "张庄村/3", str(SAMPLES)],
    ["check-duplicates", str(SAMPLES)],
    ["rules", "check", "{rules}", str(SAMPLES)],
    ["template"],
], ids=["validate", "budget", "explain", "check-duplicates", "rules-check", "template"])
def test_every_command_takes_the_workbook_as_it_takes_the_yaml(command: list[str], tmp_path: Path) -> None:
    said = {}
    for form in (".yaml", ".xlsx"):
        rules = str(RULES / f"spring{form}")
        out = tmp_path / form[1:]
        out.mkdir()
        args = [a.replace("{rules}", rules) for a in command]
        if "{rules}" not in command:
            args += ["--rules", rules]
        if command[0] in ("budget", "check-duplicates", "template"):
            args += ["-o", str(out / ("结果" if command[0] == "budget" else "x.xlsx"))]
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code in (0, 1), result.output
        said[form] = (result.exit_code, result.stdout.replace(rules, "方案").replace(str(out), "输出"))
    assert said[".yaml"][0] == said[".xlsx"][0]
    # a finding names the YAML line or the workbook cell (and lines wrap differently); the rest is the same
    import re

    def bare(text: str) -> str:
        text = re.sub(r"规则文件第 \d+ 行：|方案工作表“[^”]+”(第 \d+ 行)?(“[^”]+”列)?(（[A-Z]+\d+）)?：", "", text)
        text = re.sub(r"(规则文件|方案表格) 方案", "方案", text)
        return re.sub(r"\s+", "", text)
    assert bare(said[".yaml"][1]) == bare(said[".xlsx"][1])
    if command[0] == "rules":
        assert "规则文件第 34 行" in said[".yaml"][1] and "方案工作表“排除”第 2 行“列值”列（C2）" in said[".xlsx"][1]


def test_run_takes_a_workbook_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    work = tmp_path / "weiwen"
    shutil.copytree(ROOT / "samples", work / "samples")
    (work / "方案").mkdir()
    shutil.copy(RULES / "spring.xlsx", work / "方案" / "春节方案.xlsx")
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["run", "方案/春节方案.xlsx", "--json"])
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["folder"])
    assert (folder / "核定结果" / "慰问明细.xlsx").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rules"]["path"].endswith("春节方案.xlsx")


def test_a_quota_or_exclusion_that_limits_nobody_is_said(tmp_path: Path) -> None:
    """王楼 for 王楼村 in 名额 would leave 王楼村 without a limit; an ID with a typo excludes nobody."""
    from weiwen.app.pipeline import check_campaign

    target = tmp_path / "spring.xlsx"
    write_plan_book(target, read_plan(RULES / "spring.yaml"), load_vocabulary())
    absent = make_id("110101", "19700101", "555")

    def change(wb: openpyxl.Workbook) -> None:
        wb["名额"]["A2"], wb["名额"]["B2"] = "王楼", 5
        wb["名额"]["A3"], wb["名额"]["B3"] = "李家湾村", 5
        wb["排除"]["A2"] = "510922195612096543"  # a sample roster's ID with one digit wrong
        wb["排除"]["A3"] = absent
    loaded = load_rules(_edit(target, change))
    found, _ = check_campaign(loaded, campaign_vocabulary(loaded), sorted(SAMPLES.glob("*.xlsx")))
    by = {p.code: p for p in found}
    assert by["rules-quota-village-unknown"].severity.value == "error"
    assert "是不是“王楼村”" in by["rules-quota-village-unknown"].message
    assert "王楼村、张庄村" in by["rules-quota-village-missing"].message
    invalid = by["rules-exclusion-id-invalid"]
    assert (invalid.cell, invalid.severity.value) == ("A2", "error") and "510922********6543" in invalid.message
    assert by["rules-exclusion-id-absent"].cell == "A3"
    assert absent not in " ".join(p.message for p in found)


def test_package_rows_are_shaded_so_they_read_as_one(township: Path) -> None:
    ws = openpyxl.load_workbook(township)["标准"]
    shaded = [r for r in range(2, 12) if ws.cell(r, 2).fill.fgColor.rgb not in (None, "00000000")]
    assert shaded == [2, 3, 4, 5]  # 低保家庭 and its three parts; nothing else


def test_a_tier_table_that_stops_short_is_named_at_its_last_upper_bound(tmp_path: Path) -> None:
    target = tmp_path / "spring.xlsx"
    write_plan_book(target, read_plan(RULES / "spring.yaml"), load_vocabulary())
    _edit(target, lambda wb: wb["分档"].__setitem__("F4", 9))
    loaded = load_rules(target)
    gaps = [p for p in check(loaded, campaign_vocabulary(loaded)) if p.code == "rules-tier-gap"]
    assert [(p.cell, p.column) for p in gaps] == [("F4", "上限")]
    assert "户人口数 10 及以上" in gaps[0].message


@pytest.mark.parametrize(("text", "says"), [("年龄≥80周岁", None), ("80<年龄", "范围写成“60≤年龄<80”")])
def test_plan_words_for_ages(text: str, says: str | None) -> None:
    if says is None:
        assert condtext.parse(text) == {"age": {"gte": "80"}}
    else:
        with pytest.raises(condtext.ConditionSyntaxError, match=says):
            condtext.parse(text)


def test_a_quota_for_a_village_that_sent_no_roster_is_only_said(tmp_path: Path) -> None:
    from weiwen.app.pipeline import check_campaign

    target = tmp_path / "spring.xlsx"
    write_plan_book(target, read_plan(RULES / "spring.yaml"), load_vocabulary())

    def change(wb: openpyxl.Workbook) -> None:
        for k, village in enumerate(("王楼村", "李家湾村", "张庄村", "赵寨村"), start=2):
            wb["名额"][f"A{k}"], wb["名额"][f"B{k}"] = village, 5
    loaded = load_rules(_edit(target, change))
    found, _ = check_campaign(loaded, campaign_vocabulary(loaded), sorted(SAMPLES.glob("*.xlsx")))
    codes = {p.code: p for p in found}
    assert "rules-quota-village-unknown" not in codes and "rules-quota-village-missing" not in codes
    assert codes["rules-quota-village-absent"].cell == "A5"
