"""Bank batch payment: layouts, the payment workbook, the bank's return file, reconciliation, the report."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import check_digit
from weiwen.model.bank import BankLayout, PayLine, load_layout, load_layout_text, shipped_layouts
from weiwen.read.bank_return import ReturnRow, read_bank_return
from weiwen.reconcile import reconcile
from weiwen.sheets.payment_book import write_payment_book
from weiwen.sheets.return_book import write_return_report

ID_BODY = "11010119900307123"
ID = ID_BODY + check_digit(ID_BODY)  # 18 characters
ID_X = next(f"11010119850101{n:03d}X" for n in range(1000) if check_digit(f"11010119850101{n:03d}") == "X")
CARD = "6222020200112233445"  # 19 digits
CARD2 = "6217000010012345678"
PASSBOOK = "10100200300400"  # 14 digits
FULL_NUMBER = re.compile(r"[0-9]{12,}")
LAYOUTS = ["nongshang", "youchu"]


def lines() -> list[PayLine]:
    return [
        PayLine(code="H0001", village="张家村", name="张三", account=CARD, bank="农商银行城关支行", amount=Decimal("1100.00"),
                id_number=ID, phone="13800138000"),
        PayLine(code="H0002", village="李家湾村", name="阿卜杜·热合曼", account=CARD2, bank="", amount=Decimal("550.5"),
                id_number=ID_X),
        PayLine(code="H0003", village="城关镇东关社区居民委员会", name="𠮷田", account=PASSBOOK, bank="",
                amount=Decimal("960"), id_number=ID, memo="春节慰问金"),
    ]


def bank_sheet(path: Path, layout: BankLayout) -> list[list[openpyxl.cell.cell.Cell]]:
    wb = openpyxl.load_workbook(path)
    return [list(r) for r in wb[layout.sheet].iter_rows()]


# --- layouts ------------------------------------------------------------------------------------------

def test_shipped_layouts_load_by_name_and_by_file_name(tmp_path: Path) -> None:
    shipped = shipped_layouts()
    assert set(shipped) == {"农商银行", "邮储银行"}
    ns = load_layout("农商银行")
    assert ns == load_layout("nongshang") == shipped["农商银行"]
    assert [c.header for c in ns.columns] == ["序号", "户名", "账号", "金额", "摘要"]
    yc = load_layout("youchu")
    assert [c.header for c in yc.columns] == ["账号", "户名", "身份证号", "金额", "用途"]
    assert yc.fields() == ("account", "name", "id_number", "amount", "memo")
    assert "成功" in yc.returns.success and "失败" in yc.returns.failure
    own = tmp_path / "本行.yaml"
    src = Path(__file__).parent.parent / "src" / "weiwen" / "data" / "banks" / "youchu.yaml"
    own.write_text(src.read_text(encoding="utf-8").replace("name: 邮储银行", "name: 某县邮储"), encoding="utf-8")
    assert load_layout(str(own)).name == "某县邮储"


def test_shipped_yaml_says_it_is_an_example() -> None:
    folder = Path(__file__).parent.parent / "src" / "weiwen" / "data" / "banks"
    for f in sorted(folder.glob("*.yaml")):
        assert "示例" in f.read_text(encoding="utf-8").splitlines()[0], f.name


def test_a_bad_layout_is_refused_naming_file_line_and_fault(tmp_path: Path) -> None:
    bad = tmp_path / "坏格式.yaml"
    bad.write_text(
        "name: 某银行\n"                      # 1
        "sheet: 代发明细\n"                   # 2
        "columns:\n"                          # 3
        "  - {field: seq, header: 序号}\n"    # 4
        "  - {field: name, header: 户名}\n"   # 5
        "  - {field: bank, header: 户名}\n"   # 6: duplicate header
        "  - {field: amount, header: 金额}\n"  # 7 (no account column at all)
        "colour: red\n"                       # 8: unknown key
        "returns:\n"                          # 9
        "  account: 账号\n"                   # 10
        "  name: 户名\n"                      # 11
        "  amount: 金额\n"                    # 12
        "  status: 状态\n"                    # 13
        "  success: [成功]\n"                 # 14
        "  failure: [失败, 成功]\n",          # 15: in both lists
        encoding="utf-8")
    with pytest.raises(WeiwenError) as e:
        load_layout(str(bad))
    msg = e.value.message
    assert e.value.code == "bank-layout-invalid"
    assert str(bad) in msg
    assert "第 8 行：不认识的键“colour”" in msg
    assert "第 6 行：列名“户名”重复" in msg
    assert "account（账号）" in msg and "第 3 行" in msg
    assert "第 15 行：状态“成功”既在 success 中又在 failure 中" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("name: a\nname: b\n", "第 2 行：键“name”重复"),
    ("name: 某银行\nsheet: 代发明细\ncolumns:\n  - {field: acount, header: 账号}\n", "第 4 行：columns 第 1 项的 field"),
    ("name: 某银行\nsheet: 代发明细\ncolumns: [{field: name, header: 户名}, {field: account, header: 账号},"
     " {field: amount, header: 金额}]\n", "最外层：缺少必需的键“returns”"),
    ("name: [unclosed\n", "第 1 行：方括号没有配对"),
])
def test_layout_faults_name_their_line(text: str, expected: str) -> None:
    with pytest.raises(WeiwenError) as e:
        load_layout_text(text, "银行.yaml")
    assert expected in e.value.message and "银行.yaml" in e.value.message
    assert e.value.code == "bank-layout-invalid"


def test_an_unknown_layout_name_lists_the_shipped_ones() -> None:
    with pytest.raises(WeiwenError) as e:
        load_layout("中国银行")
    assert e.value.code == "bank-layout-not-found"
    assert "农商银行" in e.value.message and "邮储银行" in e.value.message


# --- the payment workbook -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", LAYOUTS)
def test_payment_book_is_all_text_with_exact_numbers(tmp_path: Path, key: str) -> None:
    layout = load_layout(key)
    out = tmp_path / "代发.xlsx"
    totals = write_payment_book(out, lines(), layout, title="2026年春节慰问金", batch="CJ-01")
    assert totals.count == 3 and totals.total == Decimal("2610.50")
    rows = bank_sheet(out, layout)
    assert [c.value for c in rows[0]] == [c.header for c in layout.columns]
    assert len(rows) == 4
    for row in rows:
        assert len(row) == len(layout.columns)
        for cell in row:
            assert cell.data_type == "s" and isinstance(cell.value, str), cell.coordinate
            assert cell.number_format == "@", cell.coordinate
    col = {c.field: j for j, c in enumerate(layout.columns)}
    assert [r[col["account"]].value for r in rows[1:]] == [CARD, CARD2, PASSBOOK]
    assert [r[col["amount"]].value for r in rows[1:]] == ["1100.00", "550.50", "960.00"]
    assert [r[col["name"]].value for r in rows[1:]] == ["张三", "阿卜杜·热合曼", "𠮷田"]
    assert [r[col["memo"]].value for r in rows[1:]] == ["2026年春节慰问金", "2026年春节慰问金", "春节慰问金"]
    if "id_number" in col:
        assert [r[col["id_number"]].value for r in rows[1:]] == [ID, ID_X, ID]
    if "seq" in col:
        assert [r[col["seq"]].value for r in rows[1:]] == ["1", "2", "3"]

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [layout.sheet, "控制数", "对账清单"]
    control = {r[0].value: r[1].value for r in wb["控制数"].iter_rows(max_row=6)}
    assert control["批次"] == "CJ-01" and control["笔数"] == "3" and control["合计金额（元）"] == "2610.50"
    assert all(c.data_type == "s" for r in wb["控制数"].iter_rows() for c in r if c.value is not None)
    assert "科学计数法" in " ".join(str(c.value) for r in wb["控制数"].iter_rows() for c in r if c.value)
    check = wb["对账清单"]
    texts = [c.value for r in check.iter_rows() for c in r if isinstance(c.value, str)]
    assert not any(FULL_NUMBER.search(t) for t in texts), "对账清单 shows a full account"
    assert "622************3445" in texts and "2610.50" in texts
    # A4, one page wide (portrait when the columns fit across it, as here), the header row on every page.
    assert check.page_setup.paperSize == 9 and check.sheet_properties.pageSetUpPr.fitToPage
    assert check.print_title_rows == "$2:$2"


def test_payment_book_is_byte_identical_for_the_same_lines(tmp_path: Path) -> None:
    layout = load_layout("农商银行")
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_payment_book(a, lines(), layout, title="春节", batch="1")
    write_payment_book(b, lines(), layout, title="春节", batch="1")
    assert a.read_bytes() == b.read_bytes()


def test_payment_book_refuses_every_unpayable_line_masked(tmp_path: Path) -> None:
    layout = load_layout("邮储银行")
    good = lines()[0]
    bad = [
        good,
        PayLine(code="H0002", village="李家湾村", name="李四", account="", bank="", amount=Decimal("100"), id_number=ID),
        PayLine(code="H0003", village="王庄村", name="王五", account="6222 0202 0011 2233 999", bank="",
                amount=Decimal("100"), id_number=ID),
        PayLine(code="H0004", village="王庄村", name="赵六", account="6217000099990000111", bank="",
                amount=Decimal("0"), id_number=ID),
        PayLine(code="H0005", village="王庄村", name="钱七", account=CARD, bank="", amount=Decimal("-5"), id_number=""),
        PayLine(code="H0006", village="王庄村", name="孙八", account="6217000099990000222", bank="",
                amount=Decimal("10.005"), id_number=ID),
    ]
    out = tmp_path / "代发.xlsx"
    with pytest.raises(WeiwenError) as e:
        write_payment_book(out, bad, layout, title="春节", batch="CJ-02")
    msg = e.value.message
    assert e.value.code == "payment-lines-invalid"
    assert "5 笔无法代发" in msg
    for expected in ("第 2 笔（户编码 H0002，李家湾村）：没有账号", "第 3 笔（户编码 H0003，王庄村）：账号“622",
                     "第 4 笔（户编码 H0004，王庄村）：金额不是正数", "与第 1 笔相同", "没有身份证号", "金额超过两位小数"):
        assert expected in msg, expected
    assert not FULL_NUMBER.search(msg.replace(" ", "")), msg
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --- the bank's return file ---------------------------------------------------------------------------

def return_table(layout: BankLayout, records: Sequence[Sequence[object]], *, title: bool = True) -> list[list[object]]:
    r = layout.returns
    head: list[object] = [r.account, r.name, r.amount, r.status, r.message]
    top: list[list[object]] = [["某银行代发回盘文件"]] if title else []
    return [*top, head, *[list(rec) for rec in records]]


def write_return_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "回盘"
    for row in rows:
        ws.append(list(row))
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula
    wb.save(path)
    return path


def write_return_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else str(v) for v in row] for row in rows])
    return path


def good_records(layout: BankLayout) -> list[list[object]]:
    ok, ko = layout.returns.success[-1], layout.returns.failure[0]
    return [[CARD, "张三", "1100.00", ok, ""],
            [CARD2, "阿卜杜·热合曼", "550.50", ko, "户名与账号不符"],
            [PASSBOOK, "𠮷田", "960.00", ok, None]]


@pytest.mark.parametrize("key", LAYOUTS)
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_return_file_is_read(tmp_path: Path, key: str, kind: str) -> None:
    layout = load_layout(key)
    rows = return_table(layout, [*good_records(layout), [None, "合计", "2610.50", None, None]])
    path = (write_return_xlsx if kind == "xlsx" else write_return_csv)(tmp_path / f"回盘.{kind}", rows)
    got = read_bank_return(path, layout)
    assert got.ok, [p.message for p in got.problems]
    assert got.rows == [
        ReturnRow(row=3, account=CARD, name="张三", amount=Decimal("1100.00"), paid=True, message=""),
        ReturnRow(row=4, account=CARD2, name="阿卜杜·热合曼", amount=Decimal("550.50"), paid=False, message="户名与账号不符"),
        ReturnRow(row=5, account=PASSBOOK, name="𠮷田", amount=Decimal("960.00"), paid=True, message=""),
    ]
    assert [(p.code, p.row) for p in got.problems] == [("bank-return-footer-skipped", 6)]
    assert got.sheet == ("回盘" if kind == "xlsx" else None)


def test_return_amounts_as_numbers_and_guarded_accounts_are_read(tmp_path: Path) -> None:
    layout = load_layout("农商银行")
    rows = return_table(layout, [["'" + CARD, "张三", 1100, "成功", ""], ['="' + CARD2 + '"', "李四", 550.5, "成功", ""],
                                 [PASSBOOK, "王五", "1,234.50元", "失败", "账户已销户"]], title=False)
    got = read_bank_return(write_return_xlsx(tmp_path / "回盘.xlsx", rows), layout)
    assert got.ok, [p.message for p in got.problems]
    assert [(r.account, r.amount, r.paid) for r in got.rows] == [
        (CARD, Decimal("1100.00"), True), (CARD2, Decimal("550.50"), True), (PASSBOOK, Decimal("1234.50"), False)]


def codes(got: object) -> list[tuple[str, int | None, str | None]]:
    return [(p.code, p.row, p.column) for p in got.problems]  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", LAYOUTS)
def test_every_row_problem_is_reported_together(tmp_path: Path, key: str) -> None:
    layout = load_layout(key)
    r = layout.returns
    ok, ko = r.success[0], r.failure[0]
    rows = return_table(layout, [
        [float(CARD), "张三", "1100.00", ok, ""],               # 3: account stored as a number
        [CARD2, "李四", "550.50", "处理中", ""],                # 4: status neither success nor failure
        [PASSBOOK, "王五", "abc", ok, ""],                      # 5: amount not a number
        ["6217000011112222333", "赵六", "10.005", ok, ""],      # 6: three decimals
        [CARD2, "李四", "550.50", ko, "重复"],                  # 7: account again
        ["6222-0202-0011", "孙七", "1.00", ok, ""],             # 8: not digits
        [None, "周八", "1.00", ok, ""],                         # 9: no account, not a footer
    ])
    got = read_bank_return(write_return_xlsx(tmp_path / "回盘.xlsx", rows), layout)
    assert not got.ok
    assert codes(got) == [
        ("bank-return-account-numeric", 3, r.account),
        ("bank-return-status-unknown", 4, r.status),
        ("bank-return-amount-invalid", 5, r.amount),
        ("bank-return-amount-invalid", 6, r.amount),
        ("bank-return-duplicate-account", 7, r.account),
        ("bank-return-account-invalid", 8, r.account),
        ("bank-return-account-invalid", 9, r.account),
    ]
    assert all(p.sheet == "回盘" and p.file == str(tmp_path / "回盘.xlsx") for p in got.problems)
    by_code = {p.code: p for p in got.problems}
    assert "原始回盘文件" in by_code["bank-return-account-numeric"].hint
    assert "15 位" in by_code["bank-return-account-numeric"].message
    assert "未知的处理状态“处理中”" in by_code["bank-return-status-unknown"].message
    assert "第 4 行已有" in by_code["bank-return-duplicate-account"].message
    for p in got.problems:
        assert not FULL_NUMBER.search(p.message + (p.value or "")), p.message
    assert got.rows == []  # a row with a problem is never passed on


def test_account_saved_by_a_spreadsheet_into_a_csv_is_numeric(tmp_path: Path) -> None:
    layout = load_layout("邮储银行")
    rows = return_table(layout, [["6.22202E+18", "张三", "1100.00", "成功", ""],
                                 ["6222020200112233445.0", "李四", "1.00", "成功", ""]], title=False)
    got = read_bank_return(write_return_csv(tmp_path / "回盘.csv", rows), layout)
    assert codes(got) == [("bank-return-account-numeric", 2, "账号"), ("bank-return-account-numeric", 3, "账号")]
    assert all(p.sheet is None for p in got.problems)


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_missing_column_is_reported_with_the_columns_found(tmp_path: Path, kind: str) -> None:
    layout = load_layout("农商银行")
    rows = [["账号", "户名", "金额", "备注"], [CARD, "张三", "1100.00", ""]]
    path = (write_return_xlsx if kind == "xlsx" else write_return_csv)(tmp_path / f"回盘.{kind}", rows)
    got = read_bank_return(path, layout)
    assert codes(got) == [("bank-return-header-missing", 1, "处理结果")]
    assert "账号、户名、金额、备注" in got.problems[0].message
    assert got.rows == []


def test_no_header_empty_file_and_duplicate_header(tmp_path: Path) -> None:
    layout = load_layout("农商银行")
    got = read_bank_return(write_return_xlsx(tmp_path / "a.xlsx", [["姓名", "卡号"], ["张三", CARD]]), layout)
    assert codes(got) == [("bank-return-header-not-found", None, None)]
    got = read_bank_return(write_return_xlsx(tmp_path / "b.xlsx", return_table(layout, [])), layout)
    assert codes(got) == [("bank-return-empty", 2, None)]
    rows = [["账号", "户名", "金额", "处理结果", "账号"], [CARD, "张三", "1.00", "成功", CARD]]
    got = read_bank_return(write_return_xlsx(tmp_path / "c.xlsx", rows), layout)
    assert codes(got) == [("header-duplicate", 1, "账号")]


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"<html><body>login</body></html>"])
def test_an_unreadable_return_file_is_a_chinese_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "回盘.xlsx"
    path.write_bytes(content)
    with pytest.raises(WeiwenError) as e:
        read_bank_return(path, load_layout("农商银行"))
    assert e.value.code == "bank-return-unreadable"
    assert "无法读取回盘文件" in e.value.message and str(path) in e.value.message


# --- reconciliation -----------------------------------------------------------------------------------

def pay(code: str, account: str, amount: str) -> PayLine:
    return PayLine(code=code, village="张家村", name=f"户{code}", account=account, bank="", amount=Decimal(amount))


def ret(row: int, account: str, amount: str, paid: bool, message: str = "") -> ReturnRow:
    return ReturnRow(row=row, account=account, name="", amount=Decimal(amount), paid=paid, message=message)


def test_reconcile_by_account_to_the_cent() -> None:
    batch = [pay("H1", "1001", "1100.00"), pay("H2", "1002", "550.00"), pay("H3", "1003", "900.50"),
             pay("H4", "1004", "960.00"), pay("H5", "1005", "300.00")]
    back = [ret(2, "1001", "1100.00", True), ret(3, "1002", "550.00", False, "户名不符"),
            ret(4, "1003", "900.05", True),  # paid another amount
            ret(5, "1005", "300.00", True), ret(6, "9999", "42.00", True)]  # 1004 missing; 9999 unexpected
    rec = reconcile(batch, back)
    assert [m.line.code for m in rec.paid] == ["H1", "H5"]
    assert [(m.line.code, m.bank.message) for m in rec.failed] == [("H2", "户名不符")]
    assert [(m.line.code, m.difference) for m in rec.amount_mismatch] == [("H3", Decimal("-0.45"))]
    assert [line.code for line in rec.missing] == ["H4"]
    assert [r.account for r in rec.unexpected] == ["9999"]
    assert (rec.expected_count, rec.expected_sum) == (5, Decimal("3810.50"))
    assert (rec.paid_count, rec.paid_sum) == (2, Decimal("1400.00"))
    assert (rec.failed_count, rec.failed_sum) == (1, Decimal("550.00"))
    assert rec.missing_sum == Decimal("960.00") and rec.mismatch_sum == Decimal("900.50")
    assert rec.mismatch_bank_sum == Decimal("900.05") and rec.unexpected_sum == Decimal("42.00")
    assert not rec.balanced and not rec.clean


def test_reconcile_refuses_an_account_twice() -> None:
    with pytest.raises(WeiwenError) as e:
        reconcile([pay("H1", CARD, "1"), pay("H2", CARD, "2")], [])
    assert e.value.code == "reconcile-duplicate-account" and CARD not in e.value.message
    with pytest.raises(WeiwenError):
        reconcile([pay("H1", CARD, "1")], [ret(2, CARD, "1", True), ret(3, CARD, "1", True)])


cents = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) / 100)
fate = st.sampled_from(["paid", "failed", "mismatch", "missing"])


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(cents, fate, cents), max_size=40), st.lists(cents, max_size=5))
def test_outcomes_partition_the_batch_and_sums_match_to_the_cent(
        spec: list[tuple[Decimal, str, Decimal]], extra: list[Decimal]) -> None:
    batch = [pay(f"H{i}", f"{100000 + i}", str(amount)) for i, (amount, _, _) in enumerate(spec)]
    back = []
    for i, (amount, what, other) in enumerate(spec):
        if what == "paid":
            back.append(ret(i + 2, f"{100000 + i}", str(amount), True))
        elif what == "failed":
            back.append(ret(i + 2, f"{100000 + i}", str(other), False, "失败"))
        elif what == "mismatch":
            back.append(ret(i + 2, f"{100000 + i}", str(amount + other), True))
    back += [ret(1000 + k, f"9{k:08d}", str(a), True) for k, a in enumerate(extra)]
    rec = reconcile(batch, back)
    groups = [[m.line for m in rec.paid], [m.line for m in rec.failed], [m.line for m in rec.amount_mismatch],
              rec.missing]
    assert sorted(line.code for g in groups for line in g) == sorted(line.code for line in batch)
    assert sum(len(g) for g in groups) == rec.expected_count == len(batch)
    assert [len(g) for g in groups] == [sum(1 for _, w, _ in spec if w == k)
                                        for k in ("paid", "failed", "mismatch", "missing")]
    assert rec.paid_sum + rec.failed_sum + rec.mismatch_sum + rec.missing_sum == rec.expected_sum
    assert rec.expected_sum == sum((a for a, _, _ in spec), Decimal(0))
    assert rec.balanced == (not rec.amount_mismatch)
    assert len(rec.unexpected) == len(extra) and rec.unexpected_sum == sum(extra, Decimal(0))


# --- the report -----------------------------------------------------------------------------------------

def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_return_report_sheets_and_figures(tmp_path: Path) -> None:
    batch = lines()
    back = [ret(2, CARD, "1100.00", True), ret(3, CARD2, "550.50", False, "账户已冻结"), ret(4, "6200000000000000001", "5", True)]
    rec = reconcile(batch, back)
    out = tmp_path / "回盘核对.xlsx"
    write_return_report(out, rec, title="2026年春节慰问金", batch="CJ-01")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["核对汇总", "失败清单", "金额不符", "未回盘", "不在批次中"]
    summary = {r[0].value: [c.value for c in r[1:3]] for r in wb["核对汇总"].iter_rows(min_row=3, max_row=8)}
    assert summary == {"批次应发": ["3", "2610.50"], "成功": ["1", "1100.00"], "失败": ["1", "550.50"],
                       "金额不符": ["0", "0.00"], "未回盘": ["1", "960.00"], "不在批次中": ["1", "5.00"]}
    check = next([c.value for c in r] for r in wb["核对汇总"].iter_rows() if r[0].value == "成功＋失败＋未回盘")
    assert check[1:3] == ["3", "2610.50"] and check[3].startswith("相符")
    failed = [[c.value for c in r] for r in wb["失败清单"].iter_rows(min_row=3)]
    assert failed == [["1", "H0002", "李家湾村", "阿卜杜·热合曼", "621************5678", "550.50", "账户已冻结", "3"]]
    assert [[c.value for c in r] for r in wb["金额不符"].iter_rows(min_row=3)][0][0] == "（无）"
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                assert c.value is None or c.data_type == "s", (ws.title, c.coordinate)
                assert not (isinstance(c.value, str) and FULL_NUMBER.search(c.value)), (ws.title, c.coordinate)
    again = tmp_path / "again.xlsx"
    write_return_report(again, rec, title="2026年春节慰问金", batch="CJ-01")
    assert again.read_bytes() == out.read_bytes()


def test_hostile_names_and_messages_stay_text(tmp_path: Path) -> None:
    layout = load_layout("农商银行")
    rows = return_table(layout, [
        [CARD, "张三", "1100.00", "失败", "=1+2"],
        ["6299999999999999999", "=HYPERLINK(\"http://evil.example\",\"点我\")", "5.00", "成功", "=cmd|' /C calc'!A0"],
        ["6288888888888888888", "@SUM(A1)", "5.00", "失败", "\t=2"],
        [CARD2, "+李四", "1.00", "成功", "-2"],  # paid another amount
    ])
    got = read_bank_return(write_return_xlsx(tmp_path / "回盘.xlsx", rows), layout)
    assert got.ok, [p.message for p in got.problems]
    rec = reconcile(lines(), got.rows)
    out = tmp_path / "回盘核对.xlsx"
    write_return_report(out, rec, title="=1+1", batch="@x")
    xml = sheet_xml(out)
    assert "<f>" not in xml and "<f " not in xml
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if "hyperlink" in n.lower() or n.endswith(".rels") and
                    "hyperlink" in z.read(n).decode()]
    wb = openpyxl.load_workbook(out)
    values = {c.value for ws in wb.worksheets for r in ws.iter_rows() for c in r if isinstance(c.value, str)}
    assert {"=1+2", "@SUM(A1)", "=cmd|' /C calc'!A0", "-2", "=HYPERLINK(\"http://evil.example\",\"点我\")"} <= values
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                assert c.value is None or c.data_type == "s"
