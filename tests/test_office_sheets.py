"""The sheets a township office prints, posts and signs: their structure and print setup.

公示名单 a sheet (or a workbook) per village with the publicity period, how to object and the
sign-off line; 签领表 with the title and the village on every page and the signatures in every
page's footer; 慰问明细 at 8 points or more on A4 landscape; the one-page 审批表 with the totals in
figures and in capitals.  (What the pages look like is checked by rendering them: tests/printing.py.)"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from tests.conftest import write_xlsx
from tests.test_allocate import SPRING_PEOPLE, SPRING_TOTAL
from weiwen.cli import app
from weiwen.sheets.approval_book import TOP_VILLAGES, VILLAGES_LISTED, village_lines
from weiwen.sheets.decision_book import SignRows, sign_files
from weiwen.sheets.printed import display_lines, print_scale, text_lines, text_units
from weiwen.sheets.public_book import posting, wrap_text

runner = CliRunner()
ROOT = Path(__file__).parent.parent


def allocate(out: Path, *rosters: Path, rules: Path | None = None) -> dict:
    plan = ["--rules", str(rules)] if rules else ["--campaign", "spring"]
    result = runner.invoke(app, ["allocate", *map(str, rosters), *plan, "-o", str(out), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def generated(folder: Path, households: int, villages: int) -> list[Path]:
    runner.invoke(app, ["samples", "generate", "-o", str(folder), "--households", str(households), "--villages",
                        str(villages), "--seed", "7"])
    return sorted(folder.glob("*.xlsx"))


@pytest.fixture(scope="module")
def twelve(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Twelve villages: the public lists in one workbook, the sign sheets inside 慰问明细.xlsx."""
    tmp = tmp_path_factory.mktemp("twelve")
    doc = allocate(tmp / "out", *generated(tmp / "gen", 240, 12))
    return tmp / "out", doc


def widths(ws: Worksheet) -> list[float]:
    """The column widths as written (the file stores each with its 5-pixel margin, 5/7 of a character)."""
    out: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        for col in range(dim.min, dim.max + 1):
            out[col] = round(dim.width - 5 / 7, 1)
    return [out[c] for c in range(1, ws.max_column + 1)]


def printed_points(ws: Worksheet) -> float:
    """Points 11-point text prints at, fit to the page's width."""
    return 11 * print_scale(widths(ws), landscape=ws.page_setup.orientation == "landscape")


def texts(ws: Worksheet) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def assert_a4_one_page_wide(ws: Worksheet, *, landscape: bool, repeat: str | None) -> None:
    assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait"), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.fitToWidth or 1) == 1, ws.title
    assert ws.print_title_rows == repeat, ws.title


# --- 公示名单 -------------------------------------------------------------------------------------

def test_public_list_is_a_sheet_per_village_in_its_own_workbook(twelve: tuple[Path, dict]) -> None:
    out, doc = twelve
    assert "公示名单" not in openpyxl.load_workbook(out / "慰问明细.xlsx").sheetnames
    wb = openpyxl.load_workbook(out / "公示名单.xlsx")
    assert wb.sheetnames == list(doc["by_village"])  # as the rosters list them
    total = Decimal(0)
    for ws in wb:
        village = ws.title
        assert_a4_one_page_wide(ws, landscape=False, repeat="$1:$3")  # title, village and period, header
        assert printed_points(ws) >= 10
        assert ws.cell(1, 1).value == "城关镇2027年春节走访慰问 慰问对象公示名单"
        line = ws.cell(2, 1).value
        assert line.startswith(f"村(社区)：{village}") and "公示期：" in line and line.endswith("（3天）")
        assert [ws.cell(3, c).value for c in range(1, 8)] == ["序号", "户主", "身份证号", "人口数", "享受标准",
                                                               "金额（元）", "其中物资折价\n（元）"]
        rows = list(ws.iter_rows(min_row=4, values_only=True))
        listed = [r for r in rows if str(r[0]).isdigit()]
        assert [int(r[0]) for r in listed] == list(range(1, len(listed) + 1))  # numbered within the village
        assert len(listed) == doc["by_village"][village]["households"]
        totals = next(r for r in rows if r[0] == "合计")
        assert totals[1] == f"{len(listed)} 户" and Decimal(str(totals[5])) == Decimal(doc["by_village"][village]["total"])
        total += Decimal(str(totals[5]))
        tail = " ".join(texts(ws)[-4:])
        assert "对公示对象有异议的，请在公示期内向城关镇民政办反映，监督电话：0371-62000000。" in tail
        assert "举报属实的，取消慰问资格，不予补缺。" in tail and "公示单位（盖章）：" in tail and tail.endswith("日")
        assert ws.oddFooter.center.text == "第 &P 页"  # 共 N 页 would count every village's pages
        assert int(ws.page_setup.firstPageNumber or 1) == 1 and ws.page_setup.useFirstPageNumber
    assert total == Decimal(doc["total"])


def test_publicity_lines_with_and_without_a_start_date() -> None:
    post = posting("春节慰问", days=5, start=date(2027, 1, 30), office="城关镇民政办", phone="0371-62000000")
    assert post.title == "春节慰问 慰问对象公示名单"
    assert post.period == "公示期：2027年1月30日至2027年2月3日（5天）"
    assert post.objection == ("对公示对象有异议的，请在公示期内向城关镇民政办反映，监督电话：0371-62000000。"
                              "举报属实的，取消慰问资格，不予补缺。")
    blank = posting("春节慰问")  # the plan says nothing: blanks to fill in by hand
    assert re.fullmatch(r"公示期：\u3000+年\u3000+月\u3000+日至\u3000+年\u3000+月\u3000+日（3天）", blank.period)
    assert "请在公示期内向__________反映，监督电话：__________。" in blank.objection


def test_publicity_of_the_rules_is_printed(tmp_path: Path) -> None:
    rules = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")
    rules = re.sub(r"(?m)^publicity:.*\n(  .*\n)+", "publicity:\n  days: 7\n  start: 2027-01-20\n", rules)
    path = tmp_path / "rules.yaml"
    path.write_text(rules, encoding="utf-8")
    allocate(tmp_path / "o", write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE), rules=path)
    ws = openpyxl.load_workbook(tmp_path / "o" / "公示名单.xlsx")["张庄村"]
    assert ws.cell(2, 1).value.endswith("公示期：2027年1月20日至2027年1月26日（7天）")
    assert any("向__________反映，监督电话：__________。" in t for t in texts(ws))  # no office, no phone: blanks


@given(st.text(alphabet="对公示象有异议的，。监督电话0123-ab“”", max_size=120), st.integers(min_value=1, max_value=90))
def test_notes_below_a_table_are_cut_into_lines_that_fit(text: str, units: int) -> None:
    lines = wrap_text(text, units)
    assert "".join(lines) == text
    assert all(text_units(x) <= units for x in lines if len(x) > 1)


# --- 签领表 and 慰问明细 ---------------------------------------------------------------------------

def test_sign_sheet_repeats_title_and_village_and_has_room_to_sign(twelve: tuple[Path, dict]) -> None:
    out, doc = twelve
    wb = openpyxl.load_workbook(out / "慰问明细.xlsx")
    for village in doc["by_village"]:
        ws = wb[f"签领表-{village}"]
        assert_a4_one_page_wide(ws, landscape=True, repeat="$1:$4")  # title, village line, rule line, header
        assert printed_points(ws) >= 10
        assert ws.cell(1, 1).value.endswith("发放签领表") and ws.cell(2, 1).value.startswith(f"村(社区)：{village}")
        heads = [ws.cell(4, c).value for c in range(1, ws.max_column + 1)]
        assert heads[-2:] == ["领取人签字", "领取日期"]
        assert widths(ws)[-2] >= 18 and widths(ws)[-1] >= 10
        rows = [r for r in range(5, ws.max_row + 1) if str(ws.cell(r, 1).value).isdigit()]
        assert all(ws.row_dimensions[r].height >= 30 for r in rows)
        footer = ws.oddFooter.left.text
        assert all(re.search(f"{who}：_{{12,}}", footer) for who in ("制表人", "审核人", "发放人"))
        assert ws.page_margins.bottom - ws.page_margins.footer >= 0.5  # room above the footer line to sign
        assert ws.cell(ws.max_row, 5).value == "（以下空白）"


def test_sign_sheet_workbooks_at_approval_count_their_own_pages(tmp_path: Path) -> None:
    table = pd.DataFrame({"village": ["东关村", "东关村", "西街村"], "head_name": ["张三", "李四", "王五"],
                          "head_id": ["110101199001011234"] * 3, "size": [3, 1, 2], "applied_names": ["低保家庭"] * 3,
                          "cash_fen": [110000, 55000, 90000]})
    files = sign_files(SignRows(table, [], "春节慰问（第2版）"), tmp_path / "签领表")
    assert [f.name for f in files] == ["1-东关村.xlsx", "2-西街村.xlsx"]
    ws = openpyxl.load_workbook(files[0])["签领表"]
    assert ws.oddFooter.right.text == "第 &P 页，共 &N 页" and ws.print_title_rows == "$1:$4"
    assert [r[5] for r in ws.iter_rows(min_row=5, values_only=True) if r[0] == "合计"] == [1650]
    assert "壹仟陆佰伍拾元整" in texts(ws)


def test_detail_prints_at_eight_points_or_more(twelve: tuple[Path, dict]) -> None:
    out, doc = twelve
    ws = openpyxl.load_workbook(out / "慰问明细.xlsx")["慰问明细"]
    assert_a4_one_page_wide(ws, landscape=True, repeat="$1:$2")
    assert printed_points(ws) >= 8
    assert ws.max_row == 2 + doc["households"] + 1 and ws.cell(ws.max_row, 1).value == "合计"
    # A reason that wraps makes its row taller.
    reason = [ws.cell(2, c).value for c in range(1, ws.max_column + 1)].index("核定依据") + 1
    width = widths(ws)[reason - 1]
    for r in range(3, ws.max_row):
        lines = display_lines(ws.cell(r, reason).value or "", width)
        if lines > 1:
            assert ws.row_dimensions[r].height >= 15 * lines


def test_summary_and_left_out_print_on_a4(twelve: tuple[Path, dict]) -> None:
    out, _ = twelve
    wb = openpyxl.load_workbook(out / "慰问明细.xlsx")
    assert_a4_one_page_wide(wb["汇总"], landscape=False, repeat="$1:$2")
    assert_a4_one_page_wide(wb["未纳入"], landscape=True, repeat="$1:$2")
    assert printed_points(wb["汇总"]) >= 9.5 and printed_points(wb["未纳入"]) >= 9.5


def test_no_row_is_written_twice(twelve: tuple[Path, dict]) -> None:
    """The writer emits a row twice when its last row has a height or a format (Excel then calls
    the file damaged): every sheet ends with a row that has neither."""
    out, _ = twelve
    for book in ("慰问明细.xlsx", "公示名单.xlsx", "审批表.xlsx"):
        with zipfile.ZipFile(out / book) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    rows = re.findall(r'<row r="(\d+)"', zf.read(name).decode())
                    assert len(rows) == len(set(rows)), (book, name)


# --- 审批表 ---------------------------------------------------------------------------------------

def approval_rows(path: Path) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)["审批表"].iter_rows(values_only=True))


def test_approval_form_totals_in_figures_and_capitals(tmp_path: Path) -> None:
    doc = allocate(tmp_path / "o", write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE))
    wb = openpyxl.load_workbook(tmp_path / "o" / "审批表.xlsx")
    assert wb.sheetnames == ["审批表"]
    ws = wb["审批表"]
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    fit = (int(ws.page_setup.fitToWidth or 1), int(ws.page_setup.fitToHeight or 1))  # 1 when not written
    assert ws.sheet_properties.pageSetUpPr.fitToPage and fit == (1, 1)  # one page
    rows = approval_rows(tmp_path / "o" / "审批表.xlsx")
    assert rows[0][0] == "城关镇2027年春节走访慰问 慰问资金审批表"
    standards = {r[0]: r for r in rows if r[0] in {s["name"] for s in doc["by_standard"].values()}}
    for s in doc["by_standard"].values():
        assert standards[s["name"]][1] == str(s["households"]) and Decimal(str(standards[s["name"]][5])) == Decimal(s["total"])
    villages = [r for r in rows if r[0] in doc["by_village"]]
    assert [r[0] for r in villages] == list(doc["by_village"])
    totals = [r for r in rows if r[0] == "合计"]
    assert len(totals) == 2 and all(Decimal(str(r[5])) == SPRING_TOTAL for r in totals)
    assert all(r[1] == str(doc["households"]) for r in totals)
    figures = next(r for r in rows if r[0] == "合计金额（小写）")
    # By hand (tests/test_allocate.py): cash 1100 + 960 + 300 + 400 + 600, goods 180 + 100 + 190.
    assert figures[1] == "¥3,830.00（其中现金 ¥3,360.00，物资折价 ¥470.00）"
    assert next(r for r in rows if r[0] == "合计金额（大写）")[1] == "叁仟捌佰叁拾元整"
    for role in ("经办人", "审核人", "审批人"):
        box = next(r for r in rows if r[0] == f"{role}意见")
        assert box[1].startswith("签字：") and re.search(r"年\u3000+月\u3000+日", box[1])


def test_approval_form_with_many_villages_keeps_to_one_page(tmp_path: Path) -> None:
    doc = allocate(tmp_path / "o", *generated(tmp_path / "gen", 120, VILLAGES_LISTED + 5))
    assert len(doc["by_village"]) > VILLAGES_LISTED
    rows = approval_rows(tmp_path / "o" / "审批表.xlsx")
    listed = [r for r in rows if r[0] in doc["by_village"]]
    rest = next(r for r in rows if str(r[0]).startswith("其余"))
    assert len(listed) == TOP_VILLAGES and rest[0] == f"其余 {len(doc['by_village']) - TOP_VILLAGES} 个村(社区)"
    amounts = sorted((Decimal(v["total"]) for v in doc["by_village"].values()), reverse=True)
    assert [Decimal(str(r[5])) for r in listed] == amounts[:TOP_VILLAGES]  # the largest, largest first
    assert sum(Decimal(str(r[5])) for r in [*listed, rest]) == Decimal(doc["total"])
    assert int(rest[1]) + sum(int(r[1]) for r in listed) == doc["households"]
    assert "全部" in next(str(r[0]) for r in rows if str(r[0]).startswith("二、"))  # says where the rest are


def test_village_lines_list_every_village_when_few() -> None:
    few = {f"村{k}": {"households": k, "persons": k, "cash": "1.00", "goods_value": "0.00", "total": str(k)}
           for k in range(1, VILLAGES_LISTED + 1)}
    assert [x[0] for x in village_lines(few)] == list(few)


# --- many villages: a workbook per village ---------------------------------------------------------

def test_many_villages_get_a_public_list_workbook_each(tmp_path: Path) -> None:
    runner.invoke(app, ["samples", "generate", "-o", str(tmp_path / "gen"), "--households", "120", "--villages", "60",
                        "--seed", "4", "--single-file"])
    doc = allocate(tmp_path / "o", tmp_path / "gen" / "花名册.xlsx")
    files = sorted((tmp_path / "o" / "公示名单").glob("*.xlsx"))
    assert len(files) == len(doc["by_village"]) > 50 and files[0].name.startswith("01-")
    for f, village in zip(files, doc["by_village"], strict=True):
        ws = openpyxl.load_workbook(f)["公示名单"]
        assert f.stem == f"{files.index(f) + 1:02d}-{village}"
        assert ws.cell(2, 1).value.startswith(f"村(社区)：{village}") and ws.print_title_rows == "$1:$3"
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"  # alone in its workbook


def test_column_line_counts_match_one_text_at_a_time() -> None:
    values = ["享受“低保边缘家庭”", "同时符合2项标准，按最高标准享受“低保家庭”", None, "", "abc", "伤残军人、参战涉核"] * 50
    for width in (4, 9, 14, 20):
        assert text_lines(values, width).tolist() == [display_lines(v or "", width) for v in values]
