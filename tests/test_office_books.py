"""The workbooks a township office prints: A4, one page wide, the header row on every page, text large
enough to read, nothing cut, only Chinese — checked on the files themselves (openpyxl).

The budget (经费预算.xlsx), the annotated copies' 错误清单, the blank roster template and the other
books (变更清单, 代发文件, 重复核查, 抽查名单, the sample rosters).  What the page looks like is judged
from the print setup and the column widths; the widths are estimated as LibreOffice lays them out
(a little wider than Excel), so a sheet that passes here prints at least this large in either."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen.cli import app
from weiwen.core import problems as P

runner = CliRunner()
ROOT = Path(__file__).parent.parent
SAMPLES = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))
SPRING = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")
PAPER = {"portrait": 595.3, "landscape": 841.9}  # A4 width in points
SMALLEST = 9.0  # points: the smallest text a sheet may print


# --- how a sheet prints ------------------------------------------------------------------------------

def widths(ws: Worksheet) -> list[float]:
    """The width (characters) of every column up to the last one used."""
    out = [8.43] * ws.max_column  # Excel's default width
    for dim in ws.column_dimensions.values():
        if dim.width:
            for c in range(dim.min or 1, min(dim.max or dim.min or 1, ws.max_column) + 1):
                out[c - 1] = dim.width
    return out


def printed_size(ws: Worksheet, font: float = 11.0) -> float:
    """Points the body text prints at: the font shrunk by fitting the columns to the page width."""
    used = 5.5 * sum(widths(ws)) + 2.6 * ws.max_column  # a width as stored in the file (cell padding included)
    room = PAPER[ws.page_setup.orientation or "portrait"] - 72 * (ws.page_margins.left + ws.page_margins.right)
    return font * min(1.0, room / used)


def assert_office_print(ws: Worksheet, header_row: int | None) -> None:
    """A4, one page wide (any number of pages tall), the header row repeated, readable, page numbers."""
    setup = ws.page_setup
    assert int(setup.paperSize) == 9, ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    # One page wide, as many tall as needed (fitToHeight 0; left out, it means one page tall).
    assert int(setup.fitToWidth or 1) == 1 and setup.fitToHeight is not None and int(setup.fitToHeight) == 0, ws.title
    if header_row is not None:
        assert ws.print_title_rows == f"${header_row}:${header_row}", ws.title
    assert printed_size(ws) >= SMALLEST, (ws.title, round(printed_size(ws), 2))
    footer = "".join(p.text or "" for p in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right))
    assert "&P" in footer and "&N" in footer, ws.title


def assert_chinese_only(ws: Worksheet) -> None:
    """No English word and no problem code in any cell (file types, Excel/WPS and the like aside)."""
    codes = {k.code for k in P.all_kinds()}
    for row in ws.iter_rows(values_only=True):
        for v in row:
            if isinstance(v, str):
                assert v not in codes and not re.search(r"\b[a-z]+(-[a-z]+)+\b", v), (ws.title, v)


def row_lines(ws: Worksheet, r: int) -> int:
    """Lines of 11-point text row ``r`` is tall enough for (15 points a line)."""
    height = ws.row_dimensions[r].height or 15
    return int(height // 15)


def needed_lines(text: str, width: float) -> int:
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, -(-units // max(int(width) - 1, 1)))


# --- 经费预算.xlsx ------------------------------------------------------------------------------------

def several_aided(path: Path, township: str | None = None) -> Path:
    """Two households of 张庄村: three 低保 members (低保家庭, paid per household) and two 特困 members
    (特困供养人员, paid per person): 2 households, 5 persons aided."""
    head = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]
    rows = [["张庄村", "001", "王一", make_id(seq="111"), "户主", "低保", 3],
            ["张庄村", "001", "王二", make_id(birth="19920101", seq="113"), "配偶", "低保", 3],
            ["张庄村", "001", "王三", make_id(birth="20100101", seq="115"), "子女", "低保", 3],
            ["张庄村", "002", "李一", make_id(birth="19500101", seq="117"), "户主", "特困", 2],
            ["张庄村", "002", "李二", make_id(birth="19520101", seq="119"), "配偶", "特困", 2]]
    if township is not None:
        head, rows = ["乡镇(街道)", *head], [[township, *r] for r in rows]
    return write_xlsx(path, [head, *rows])


def budget_book(tmp_path: Path, *args: str) -> tuple[dict, openpyxl.Workbook]:
    out = tmp_path / "预算"
    result = runner.invoke(app, ["budget", *args, "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), openpyxl.load_workbook(out / "经费预算.xlsx")


def table_rows(ws: Worksheet, header_row: int = 2) -> list[dict[str, object]]:
    heads = [c.value for c in ws[header_row]]
    out = []
    for r in range(header_row + 1, ws.max_row + 1):
        values = [c.value for c in ws[r]]
        if values[0] is None and all(v is None for v in values[1:]):
            break
        out.append(dict(zip(heads, values, strict=False)))
    return out


def test_budget_counts_persons_aided_not_households(tmp_path: Path) -> None:
    doc, wb = budget_book(tmp_path, str(several_aided(tmp_path / "r.xlsx")), "--campaign", "spring")
    assert doc["by_village"]["张庄村"]["households"] == 2 and doc["by_village"]["张庄村"]["persons"] == 5
    ws = wb["分村汇总"]
    rows = table_rows(ws)
    assert rows[0]["村(社区)"] == "张庄村" and (rows[0]["户数"], rows[0]["享受人数"]) == (2, 5)
    total = next(r for r in rows if r["村(社区)"] == "合计")
    assert (total["户数"], total["享受人数"]) == (2, 5)
    assert "乡镇(街道)" not in rows[0]  # no township known anywhere: no column of dashes
    assert not any(v == "—" for row in ws.iter_rows(values_only=True) for v in row)
    standards = {r["慰问标准"]: r for r in table_rows(wb["经费预算表"]) if r["慰问标准"]}
    assert (standards["低保家庭"]["户数"], standards["低保家庭"]["计发人次"]) == (1, 1)
    assert (standards["特困供养人员"]["户数"], standards["特困供养人员"]["计发人次"]) == (1, 2)


def test_budget_township_from_the_roster_or_the_campaign(tmp_path: Path) -> None:
    _doc, wb = budget_book(tmp_path / "a", str(several_aided(tmp_path / "r.xlsx", "城关镇")), "--campaign", "spring")
    assert table_rows(wb["分村汇总"])[0]["乡镇(街道)"] == "城关镇"
    rules = tmp_path / "rules.yaml"
    rules.write_text(SPRING.replace("  rosters: samples/rosters/*.xlsx", "  township: 东关镇"), encoding="utf-8")
    _doc, wb = budget_book(tmp_path / "b", str(several_aided(tmp_path / "r2.xlsx")), "--rules", str(rules))
    assert table_rows(wb["分村汇总"])[0]["乡镇(街道)"] == "东关镇"


def test_budget_sheets_print_on_a4_and_every_village_has_a_label(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(gen), "--households", "120", "--villages", "12",
                        "--seed", "3"])
    _doc, wb = budget_book(tmp_path, *sorted(str(p) for p in gen.glob("*.xlsx")), "--campaign", "spring")
    for ws in wb.worksheets:
        assert_office_print(ws, header_row=2)
        assert_chinese_only(ws)
    ws = wb["经费预算表"]
    for r in range(3, ws.max_row + 1):  # long standard names wrap, their rows tall enough
        name = ws.cell(r, 2).value
        if isinstance(name, str) and ws.cell(r, 1).value not in (None, "合计"):
            assert ws.cell(r, 2).alignment.wrap_text
            assert row_lines(ws, r) >= needed_lines(name, widths(ws)[1]), name
    out = tmp_path / "预算" / "经费预算.xlsx"
    charts = chart_xml(out)
    assert len(charts) == 2
    for xml in charts:
        assert 'c:barDir val="bar"' in xml  # horizontal bars: names read across, never slanted
        assert '<c:tickLblSkip val="1"/>' in xml  # every category labelled: 12 villages, 12 labels
        assert '<c:orientation val="maxMin"/>' in xml  # top-down in the table's order


def chart_xml(path: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]


# --- 错误清单 ----------------------------------------------------------------------------------------

def test_error_list_is_titled_bordered_and_chinese(tmp_path: Path) -> None:
    bad = write_xlsx(tmp_path / "张庄村花名册.xlsx", [
        ["姓名", "身份证号", "类别"],
        ["王一", make_id()[:-1] + ("0" if make_id()[-1] != "0" else "1"), "低保"],  # wrong check digit
        ["李二", "", "特困"],  # no ID
        ["赵三", make_id(seq="125"), "低宝户"],  # unknown category
    ])
    report = tmp_path / "报告"
    runner.invoke(app, ["validate", str(bad), "--report", str(report)])
    wb = openpyxl.load_workbook(report / "张庄村花名册.标注.xlsx")
    ws = wb.worksheets[0]
    assert ws.title == "错误清单"
    assert ws["A1"].value == "张庄村花名册 错误清单" and ws["A1"].font.b
    assert re.match(r"共 \d+ 处问题：错误 \d+ 处，警告 \d+ 处", ws["A2"].value)
    heads = [c.value for c in ws[3]]
    assert heads == ["级别", "工作表", "单元格", "行", "列", "问题", "说明", "建议"]
    assert ws.page_setup.orientation == "landscape"
    assert_office_print(ws, header_row=3)
    assert_chinese_only(ws)
    listed = [r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value]
    assert len(listed) >= 3
    titles = {P.kind(c).title for c in ("id-checksum", "id-missing", "category-unknown")}
    assert titles <= {ws.cell(r, 6).value for r in listed}
    for r in listed:
        for c in range(1, 9):
            border = ws.cell(r, c).border
            assert border.left.style and border.right.style and border.top.style and border.bottom.style
        for c in (6, 7, 8):  # wrapped, and the row tall enough for the text
            assert ws.cell(r, c).alignment.wrap_text
            assert row_lines(ws, r) >= needed_lines(ws.cell(r, c).value or "", widths(ws)[c - 1])


def test_error_list_without_problems_says_so(tmp_path: Path) -> None:
    report = tmp_path / "报告"
    runner.invoke(app, ["validate", SAMPLES[0], "--report", str(report)])
    (copy,) = report.glob("*.标注.xlsx")
    ws = openpyxl.load_workbook(copy).worksheets[0]
    assert ws["A1"].value.endswith("错误清单") and ws["A2"].value == "没有发现问题。"
    assert_office_print(ws, header_row=3)


# --- the roster template ----------------------------------------------------------------------------

def test_template_prints_readably_and_its_instructions_fit_one_page(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for args in ([], ["--campaign", "spring"]):
        target = tmp_path / f"模板{len(args)}.xlsx"
        result = runner.invoke(app, ["template", "-o", str(target), *args])
        assert result.exit_code == 0, result.output
        wb = openpyxl.load_workbook(target)
        ws = wb["花名册"]
        assert ws.page_setup.orientation == "landscape"
        assert_office_print(ws, header_row=2)
        assert_chinese_only(ws)
        help_ws = wb["填写说明"]
        assert int(help_ws.page_setup.paperSize) == 9 and help_ws.sheet_properties.pageSetUpPr.fitToPage
        assert int(help_ws.page_setup.fitToWidth or 1) == 1 and int(help_ws.page_setup.fitToHeight or 1) == 1
        for r in range(2, help_ws.max_row + 1):
            text = help_ws.cell(r, 2).value or ""
            assert help_ws.cell(r, 2).alignment.wrap_text
            assert row_lines(help_ws, r) >= needed_lines(text, widths(help_ws)[1]), text
        warning = next(help_ws.cell(r, 2) for r in range(2, help_ws.max_row + 1)
                       if "文本" in (help_ws.cell(r, 2).value or ""))
        assert warning.font.b  # the warning that cannot be undone stands out
        assert_chinese_only(help_ws)


def test_template_title_follows_the_campaign_or_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)

    def title(*args: str) -> str:
        target = tmp_path / f"t{len(list(tmp_path.iterdir()))}.xlsx"  # a template never replaces a file
        result = runner.invoke(app, ["template", "-o", str(target), *args])
        assert result.exit_code == 0, result.output
        return str(openpyxl.load_workbook(target)["花名册"]["A1"].value)

    assert title() == "＿＿＿村（社区）走访慰问对象花名册"  # no festival assumed
    assert title("--campaign", "spring") == "＿＿＿村（社区）城关镇2027年春节走访慰问对象花名册"
    assert title("--title", "城关镇2027年端午慰问") == "＿＿＿村（社区）城关镇2027年端午慰问对象花名册"
    assert title("--campaign", "spring", "--title", "城关镇2027年中秋慰问名单") == "城关镇2027年中秋慰问名单"


def test_template_output_gets_xlsx_and_refuses_other_types(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "模板")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "模板.xlsx").is_file() and not (tmp_path / "模板").exists()
    assert "模板.xlsx" in result.stdout
    assert runner.invoke(app, ["template", "-o", str(tmp_path / "A.XLSX")]).exit_code == 0
    assert (tmp_path / "A.XLSX").is_file()
    refused = runner.invoke(app, ["template", "-o", str(tmp_path / "模板.xls")])
    assert refused.exit_code == 2 and "xlsx" in refused.stderr and "模板" in refused.stderr
    assert not (tmp_path / "模板.xls").exists()
    folder = tmp_path / "发给各村"
    folder.mkdir()
    assert runner.invoke(app, ["template", "-o", str(folder)]).exit_code == 0
    assert (folder / "花名册模板.xlsx").is_file()


# --- the other books --------------------------------------------------------------------------------

def test_sample_rosters_print_on_a4(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(gen), "--households", "30", "--villages", "3", "--seed", "5"])
    for path in sorted(gen.glob("*.xlsx")):
        ws = openpyxl.load_workbook(path).worksheets[0]
        assert ws.page_setup.orientation == "landscape"
        assert_office_print(ws, header_row=2)


def test_duplicates_and_changes_books_print_on_a4(tmp_path: Path) -> None:
    from weiwen.changes import Change, ChangeKind, Listed
    from weiwen.sheets.changes_book import write_changes_book

    a = write_xlsx(tmp_path / "甲村.xlsx", [["姓名", "身份证号"], ["王一", make_id()]])
    b = write_xlsx(tmp_path / "乙村.xlsx", [["姓名", "身份证号"], ["王一", make_id()]])
    out = tmp_path / "重复核查.xlsx"
    runner.invoke(app, ["check-duplicates", str(a), str(b), "-o", str(out)])
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert_office_print(ws, header_row=2)
    reason_col = [c.value for c in ws[2]].index("原因") + 1
    assert ws.cell(3, reason_col).alignment.wrap_text

    listed = Listed(key="k", code="张庄村/001", village="张庄村", name="欧阳明月", id_masked="110101********1234",
                    standards="dibao", categories="低保", total_fen=110000,
                    standard_names="伤残军人、参战涉核、在乡老复员军人")
    change = Change(kind=ChangeKind.DROPPED, village="张庄村", name="欧阳明月", id_masked="110101********1234",
                    before=listed, after=None, reasons=("排除：异议成立（第 1 号：2026-12-02 匿名来电提出“家中有小轿车”；"
                                                        "李四于 2026-12-03 认定：经入户核实属实）",))
    book = tmp_path / "变更清单.xlsx"
    write_changes_book(book, [change] * 30, title="城关镇2027年春节走访慰问", before_label="第 1 版",
                       after_label="第 2 版")
    ws = openpyxl.load_workbook(book)["变更清单"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    assert_office_print(ws, header_row=header)


def test_audit_sample_header_shows_whole(tmp_path: Path) -> None:
    from weiwen.audit import HEADER_ROW, HEADS
    from weiwen.model.payment import PaymentRow
    from weiwen.sheets.audit_book import write_sample

    row = PaymentRow(code="张庄村/001", village="张庄村", household_no="001", head_name="欧阳明月", id_number=make_id(),
                     bank_card="", standards="低保家庭", cash=Decimal("1100.00"), goods_value=Decimal("0.00"),
                     total=Decimal("1100.00"), phone="13800000000")
    out = tmp_path / "抽查名单.xlsx"
    write_sample(out, [row] * 40, "城关镇2027年春节走访慰问", "抽样方法：按村(社区)分层，每村随机抽取 10%。")
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert [c.value for c in ws[HEADER_ROW + 1]][:len(HEADS)] == HEADS
    assert_office_print(ws, header_row=HEADER_ROW + 1)
    for j, h in enumerate(HEADS):  # every header whole: on one line, or its row tall enough
        assert row_lines(ws, HEADER_ROW + 1) >= needed_lines(h, widths(ws)[j]), h


def test_payment_book_prints_but_keeps_the_bank_layout(tmp_path: Path) -> None:
    from weiwen.model.bank import PayLine, shipped_layouts
    from weiwen.sheets.payment_book import write_payment_book

    lines = [PayLine(code=f"城关镇东关社区居民委员会/{i:03d}", village="城关镇东关社区居民委员会", name="欧阳明月",
                     account=f"62284801019726{i:05d}", bank="农商银行", amount=Decimal("1100.00"),
                     id_number=make_id(seq=f"{i % 1000:03d}")) for i in range(1, 80)]
    for name, layout in shipped_layouts().items():
        out = tmp_path / f"{name}.xlsx"
        write_payment_book(out, lines, layout, title="城关镇2027年春节走访慰问", batch="第1批")
        wb = openpyxl.load_workbook(out)
        bank = wb[layout.sheet]
        assert [c.value for c in bank[1]] == [c.header for c in layout.columns]
        for row in bank.iter_rows(min_row=1):
            for cell in row:
                assert cell.data_type == "s" and cell.number_format == "@", (name, cell.coordinate)
        assert_office_print(bank, header_row=1)
        check = wb["对账清单"]
        assert_office_print(check, header_row=2)
        code_width = widths(check)[[c.value for c in check[2]].index("户编码")]
        assert code_width >= max(len(x.code) * 2 for x in lines) - 12  # the 户编码 is not cut
        control = wb["控制数"]
        assert int(control.page_setup.paperSize) == 9 and control.sheet_properties.pageSetUpPr.fitToPage
