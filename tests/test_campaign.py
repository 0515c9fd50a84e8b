"""A campaign from the list to the bank's last return file, end to end, on SQLite and PostgreSQL.

allocate --ledger (version 1) → publish → objection add / decide → allocate (version 2, a change
list) → approve (sign sheets) → payment file (a bank batch) → the bank's return file (two lines
failed) → payment import (a re-payment batch) → the second return → ledger verify; and every
refusal on the way, with its exit code and a Chinese message that says what to do next.

Every figure is computed from the files the run wrote (allocation.csv, the batch workbooks), never
written down from a guess.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from tests.test_ledger import ledger_url, postgres_url  # noqa: F401  (fixtures: SQLite and a real PostgreSQL)
from weiwen.cli import app
from weiwen.core.ids import mask_digits, mask_id
from weiwen.core.problems import kind
from weiwen.ledger.schema import batch_lines, batches, log, records, versions
from weiwen.ledger.store import Ledger

ROOT = Path(__file__).resolve().parent.parent
ROSTERS = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
RULES = ROOT / "rules" / "spring.yaml"
CAMPAIGN = "spring-2027"
BANK = "农商银行"
OUT = "核定结果"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MASKED_ID = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")
RETURN_HEAD = ["账号", "户名", "金额", "处理结果", "失败原因"]  # the 农商银行 layout's return columns
MONEY = r"([0-9,]+\.[0-9]{2})"
RECONCILED = re.compile(rf"对账（审批版本的现金合计 {MONEY} 元）= 已到账 {MONEY} \+ 待银行处理 {MONEY} \+ 失败未补发 "
                        rf"{MONEY} \+ 尚未代发 {MONEY} \+ 无卡号 {MONEY} 元，(相符|不相符)")

runner = CliRunner()
SQLITE_ONLY = pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)  # backend-independent: one is enough


# --- running weiwen ----------------------------------------------------------------------------------

def cli(*args: object, code: int = 0) -> Result:
    """``weiwen ARGS`` in this process; the exit code must be ``code``.  A wide terminal, so that the
    tables Rich prints keep one row on one line."""
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "400"})
    assert result.exit_code == code, (f"weiwen {' '.join(map(str, args))}: exit {result.exit_code}, "
                                      f"wanted {code}\n{result.output}")
    assert "Traceback" not in result.output and "程序内部错误" not in result.output
    return result


def allocate(ledger: str, *extra: object, out: str = OUT, rosters: list[Path] = ROSTERS, code: int = 0) -> Result:
    return cli("allocate", *rosters, "--rules", RULES, "-o", out, "--ledger", ledger, *extra, code=code)


@pytest.fixture
def ledger(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """An initialised, empty ledger (every table of an earlier test dropped on PostgreSQL); the
    working folder is the test's tmp_path."""
    if ledger_url.startswith("postgresql"):
        engine = sa.create_engine(ledger_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            found = sa.MetaData()
            found.reflect(conn)
            found.drop_all(conn)
        engine.dispose()
    monkeypatch.setenv("WEIWEN_OPERATOR", "张三")
    cli("ledger", "init", "--ledger", ledger_url)
    return ledger_url


# --- reading what weiwen wrote -------------------------------------------------------------------------

def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def yuan(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def cash_of(rows: list[dict[str, str]]) -> Decimal:
    return sum((yuan(r["现金"]) for r in rows), Decimal("0.00"))


def sheets(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def values(path: Path) -> list[str]:
    """Every non-empty cell of every sheet, as text."""
    return [str(v) for rows in sheets(path).values() for row in rows for v in row if v is not None]


def after_header(rows: list[tuple[object, ...]], first: str = "序号") -> list[tuple[object, ...]]:
    """The rows below the header row that starts with ``first``."""
    at = next(i for i, r in enumerate(rows) if r and r[0] == first)
    return [r for r in rows[at + 1:] if any(v is not None for v in r)]


def bank_lines(book: Path) -> list[dict[str, str]]:
    """The bank sheet (代发明细) of a batch workbook, as header -> cell."""
    rows = sheets(book)["代发明细"]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]  # type: ignore[arg-type]


def control(book: Path) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in sheets(book)["控制数"] if r[0] is not None and r[1] is not None}


def write_return(path: Path, rows: list[list[object]], head: list[str] = RETURN_HEAD) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "回盘"
    ws.append(head)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def bank_says(book: Path, failed: frozenset[str] | set[str] = frozenset()) -> list[list[object]]:
    """The bank's answer to a batch: every line paid, except the accounts in ``failed``."""
    return [[x["账号"], x["户名"], x["金额"], "失败" if x["账号"] in failed else "成功",
             "账户已销户" if x["账号"] in failed else ""] for x in bank_lines(book)]


def reconciled(output: str) -> dict[str, Decimal | str]:
    m = RECONCILED.search(output)
    assert m, output
    keys = ("total", "paid", "pending", "failed", "unsent", "no_card")
    return {**{k: yuan(v) for k, v in zip(keys, m.groups()[:6], strict=True)}, "verdict": m.group(7)}


def table_rows(output: str) -> list[list[str]]:
    """The rows of the tables Rich printed: the cells of each line drawn with │."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.count("│") >= 3]


@contextlib.contextmanager
def connected(url: str) -> Iterator[sa.Connection]:
    """A connection to the ledger at ``url`` (its engine disposed afterwards)."""
    engine = Ledger.open(url).engine
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def count(url: str, table: sa.Table, *where: object) -> int:
    with connected(url) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0)


def line_states(url: str) -> list[tuple[int, str, str]]:
    """(batch, account hash, status) of every batch line."""
    with connected(url) as conn:
        return [(int(r.number), str(r.account), str(r.status)) for r in conn.execute(
            sa.select(batches.c.number, batch_lines.c.account, batch_lines.c.status).join(batches)
            .order_by(batches.c.number, batch_lines.c.id))]


def version_numbers(url: str) -> list[tuple[int, bool]]:
    """(number, approved) of every version of the campaign."""
    with connected(url) as conn:
        return [(int(r.number), bool(r.approved_at)) for r in conn.execute(
            sa.select(versions.c.number, versions.c.approved_at).where(versions.c.campaign == CAMPAIGN)
            .order_by(versions.c.number))]


def manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def no_full_id_or_account(path: Path, accounts: set[str]) -> None:
    for v in values(path):
        assert not FULL_ID.search(v), f"{path.name}: a full ID in “{v}”"
        assert not any(a in v for a in accounts), f"{path.name}: a full account in “{v}”"


def approved_list(ledger: str) -> Path:
    """Version 1 of the samples, approved; its folder."""
    allocate(ledger)
    cli("approve", OUT, "--org", "镇民政办", "--by", "王五", "--ledger", ledger)
    return Path(OUT)


def object_to(ledger: str, id_number: str, *, upheld: bool | None = True) -> None:
    """An objection to the household of ``id_number``; decided when ``upheld`` is not None."""
    out = cli("objection", "add", id_number, "-c", CAMPAIGN, "--reason", "家中有小轿车", "--raised-by", "匿名来电",
              "--date", "2026-12-02", "--ledger", ledger).output
    number = re.search(r"已登记异议第 ([0-9]+) 号", out)
    assert number, out
    if upheld is not None:
        cli("objection", "decide", number.group(1), "--upheld" if upheld else "--rejected", "--note", "经入户核实属实",
            "--date", "2026-12-03", "--by", "李四", "--ledger", ledger)


# --- the whole walk ----------------------------------------------------------------------------------

def test_the_whole_campaign_from_list_to_last_return(ledger: str) -> None:
    folder = Path(OUT)

    # allocate: version 1, every output but no sign sheet, titles with （第1版）.
    out = allocate(ledger).output
    assert "这是第 1 版名单（首次核定）" in out and "签领表在审批后生成：weiwen approve" in out
    for name in ("慰问明细.xlsx", "allocation.csv", "persons.csv", "summary.json", "decision.arrow",
                 "manifest.json"):
        assert (folder / name).is_file(), name
    assert not [p for p in folder.rglob("*") if "签领表" in p.name]
    book = sheets(folder / "慰问明细.xlsx")
    assert not [s for s in book if s.startswith("签领表")]
    for sheet in ("慰问明细", "汇总"):
        assert "（第1版）" in str(book[sheet][0][0]), sheet
    for sheet in sheets(folder / "公示名单.xlsx").values():
        assert "（第1版）" in str(sheet[0][0])
    m = manifest(folder)
    assert (m["活动"], m["版本"]) == (CAMPAIGN, 1)
    for name, digest in m["输出"].items():  # type: ignore[union-attr]
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    first = csv_rows(folder / "allocation.csv")

    # The same decision again: the same version.
    assert "核定结果与第 1 版相同，版本号不变" in allocate(ledger).output
    assert version_numbers(ledger) == [(1, False)]

    # publish, then an objection to the first household, upheld.
    assert "第 1 版名单已登记为公示版本" in cli("publish", OUT, "--ledger", ledger).output
    target = first[0]
    out = cli("objection", "add", target["身份证号"], "-c", CAMPAIGN, "--reason", "家中有小轿车", "--raised-by",
              "匿名来电", "--date", "2026-12-02", "--ledger", ledger).output
    assert "异议第 1 号" in out and mask_id(target["身份证号"]) in out and target["身份证号"] not in out
    out = cli("objection", "decide", 1, "--upheld", "--note", "经入户核实属实", "--date", "2026-12-03", "--by", "李四",
              "--ledger", ledger).output
    assert "认定为成立" in out and "weiwen allocate --ledger" in out

    # allocate again: version 2 without that household, and a change list naming exactly it.
    out = allocate(ledger).output
    assert "这是第 2 版名单" in out and "新增 0 户，取消 1 户，变更 0 户" in out
    second = csv_rows(folder / "allocation.csv")
    assert [r["身份证号"] for r in second] == [r["身份证号"] for r in first if r is not target]
    assert manifest(folder)["版本"] == 2
    assert "（第2版）" in str(sheets(folder / "慰问明细.xlsx")["慰问明细"][0][0])
    changes = folder / "变更清单（第2版与第1版）.xlsx"
    [row] = after_header(sheets(changes)["变更清单"])
    assert row[1:5] == ("取消", target["村(社区)"], target["户主姓名"], mask_id(target["身份证号"]))
    assert row[6] == float(yuan(target["合计"]))
    assert "异议成立" in str(row[9]) and "家中有小轿车" in str(row[9]) and "经入户核实属实" in str(row[9])
    assert "李四" in str(row[9])

    # approve: the households and persons in the ledger, and the sign sheets of version 2.
    cash = cash_of(second)
    total = sum((yuan(r["合计"]) for r in second), Decimal("0.00"))
    persons = csv_rows(folder / "persons.csv")
    out = cli("approve", OUT, "--org", "镇民政办", "--by", "王五", "--ledger", ledger).output
    assert (f"已审批活动 {CAMPAIGN} 的第 2 版：{len(second)} 户，合计 {total:,.2f} 元（其中现金 {cash:,.2f} 元）；"
            f"已记入台账 {len(second)} 户、{len(persons)} 人") in out
    assert "weiwen payment file" in out
    assert count(ledger, records, records.c.status == "active") == len(second)
    with connected(ledger) as conn:
        made = [(r.number, r.made_by, r.posted_by or "", r.approved_by or "") for r in conn.execute(
            sa.select(versions).order_by(versions.c.number))]
    assert made == [(1, "张三", "张三", ""), (2, "张三", "", "王五")]  # WEIWEN_OPERATOR, and --by
    # allocate once more after approval: the same version, the same files (still fit for payment).
    approved_files = manifest(folder)["输出"]
    assert "核定结果与第 2 版相同，版本号不变" in allocate(ledger).output
    assert manifest(folder)["输出"] == approved_files
    signs = folder / "签领表（第2版）"
    villages = sorted({r["村(社区)"] for r in second})
    assert sorted(p.stem.split("-", 1)[1] for p in signs.glob("*.xlsx")) == villages
    accounts = {r["银行卡号"] for r in second if r["银行卡号"]}
    for path in signs.glob("*.xlsx"):
        village = path.stem.split("-", 1)[1]
        rows = sheets(path)["签领表"]
        assert "（第2版）" in str(rows[0][0]) and village in str(rows[1][0])
        listed = after_header(rows)
        assert listed[-1][4] == "（以下空白）"
        heads, totals = listed[:-2], listed[-2]
        here = [r for r in second if r["村(社区)"] == village]
        # 签领表 shows each head's ID masked (first 6 and last 4): the intended form, never the full ID.
        assert sorted((r[1], r[2]) for r in heads) == sorted((r["户主姓名"], mask_id(r["身份证号"])) for r in here)
        assert all(MASKED_ID.match(str(r[2])) for r in heads)
        assert sum(Decimal(str(r[5])) for r in heads) == cash_of(here) == Decimal(str(totals[5]))
        assert totals[:2] == ("合计", f"{len(here)} 户")
        no_full_id_or_account(path, accounts)
    no_full_id_or_account(changes, accounts | {target["银行卡号"]})

    # payment file: every cell of the bank sheet is text; the control totals are the approved cash.
    out = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger).output
    batch1 = folder / "代发文件" / f"第1批-{BANK}.xlsx"
    assert batch1.is_file()
    payable = [r for r in second if yuan(r["现金"]) > 0 and r["银行卡号"]]
    no_card = cash_of([r for r in second if not r["银行卡号"]])
    wb = openpyxl.load_workbook(batch1)
    cells = [c for row in wb["代发明细"].iter_rows() for c in row]
    assert cells and all(c.data_type == "s" and c.number_format == "@" for c in cells)
    wb.close()
    lines = bank_lines(batch1)
    assert {(x["账号"], yuan(x["金额"])) for x in lines} == {(r["银行卡号"], yuan(r["现金"])) for r in payable}
    assert len(lines) == len(payable)
    facts = control(batch1)
    assert facts["笔数"] == str(len(payable)) and facts["批次"] == "第1批" and facts["银行"] == BANK
    assert yuan(facts["合计金额（元）"]) + no_card == cash == sum(yuan(x["金额"]) for x in lines) + no_card
    assert f"控制数：{len(payable)} 笔，合计 {cash - no_card:,.2f} 元" in out
    for sheet, rows in sheets(batch1).items():  # this bank's layout has no ID column; only its sheet has accounts
        text = [str(v) for r in rows for v in r if v is not None]
        assert not any(FULL_ID.search(v) for v in text), sheet
        if sheet != "代发明细":
            assert not any(a in v for v in text for a in accounts), sheet
    office = after_header(sheets(batch1)["对账清单"])
    office = office[:[r[0] for r in office].index("合计")]
    assert [str(r[4]) for r in office] == [mask_digits(x["账号"]) for x in lines]

    # The bank's return: two lines failed.
    failed = {lines[3]["账号"], lines[-2]["账号"]}
    failed_sum = sum(yuan(x["金额"]) for x in lines if x["账号"] in failed)
    first_return = write_return(Path("回盘1.xlsx"), bank_says(batch1, failed))
    result = cli("payment", "import", OUT, first_return, "--bank", BANK, "--ledger", ledger, code=1)
    assert (f"成功 {len(lines) - 2} 笔 {cash - no_card - failed_sum:,.2f} 元；失败 2 笔 {failed_sum:,.2f} 元；"
            "金额不符 0 笔；未回盘 0 笔") in result.output
    report = folder / "代发文件" / "第1批-回盘核对.xlsx"
    assert report.is_file()
    book = sheets(report)
    assert {str(r[4]) for r in after_header(book["失败清单"])} == {mask_digits(a) for a in failed}
    assert any("相符" in str(v) for r in book["核对汇总"] for v in r)
    no_full_id_or_account(report, accounts)
    repay = folder / "代发文件" / f"第2批（补发）-{BANK}.xlsx"
    assert {(x["账号"], yuan(x["金额"])) for x in bank_lines(repay)} == {
        (x["账号"], yuan(x["金额"])) for x in lines if x["账号"] in failed}
    assert control(repay)["笔数"] == "2" and yuan(control(repay)["合计金额（元）"]) == failed_sum
    rec = reconciled(result.output)
    assert rec["verdict"] == "相符" and rec["total"] == cash
    assert (rec["paid"], rec["pending"], rec["failed"], rec["unsent"], rec["no_card"]) == (
        cash - no_card - failed_sum, failed_sum, 0, 0, no_card)
    assert rec["paid"] + rec["pending"] + rec["no_card"] == cash  # to the cent

    # payment file again: nobody twice, no new batch.
    out = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger).output
    assert "没有需要代发的户" in out
    assert sorted({b for b, _, _ in line_states(ledger)}) == [1, 2]

    # The second return: the re-payment all paid.
    second_return = write_return(Path("回盘2.xlsx"), bank_says(repay))
    result = cli("payment", "import", OUT, second_return, "--bank", BANK, "--ledger", ledger, code=0)
    assert "第 2 批回盘：成功 2 笔" in result.output
    rec = reconciled(result.output)
    assert rec["verdict"] == "相符" and (rec["paid"], rec["pending"], rec["failed"]) == (cash - no_card, 0, 0)
    no_full_id_or_account(folder / "代发文件" / "第2批-回盘核对.xlsx", accounts)
    assert not (folder / "代发文件" / f"第3批（补发）-{BANK}.xlsx").exists()

    out = cli("ledger", "verify", "--ledger", ledger).output
    assert "台账日志完好" in out


# --- refusals before approval ---------------------------------------------------------------------------

def test_approve_waits_for_every_objection_to_be_decided(ledger: str) -> None:
    allocate(ledger)
    cli("publish", OUT, "--ledger", ledger)
    target = csv_rows(Path(OUT) / "allocation.csv")[5]
    object_to(ledger, target["身份证号"], upheld=None)
    entries = count(ledger, log)
    err = cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger, code=2).stderr
    assert "还有 1 条异议没有认定" in err
    assert "weiwen objection decide" in err and "weiwen allocate --ledger" in err
    assert count(ledger, log) == entries and count(ledger, records) == 0
    assert version_numbers(ledger) == [(1, False)]
    assert not [p for p in Path(OUT).iterdir() if "签领表" in p.name]


def test_approve_refuses_a_version_made_before_an_objection_was_decided(ledger: str) -> None:
    allocate(ledger)
    cli("publish", OUT, "--ledger", ledger)
    object_to(ledger, csv_rows(Path(OUT) / "allocation.csv")[5]["身份证号"], upheld=True)
    entries = count(ledger, log)
    err = cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger, code=2).stderr
    assert "异议认定或查重认定有了变化" in err and "重新运行 weiwen allocate --ledger" in err
    assert count(ledger, log) == entries and count(ledger, records) == 0
    # Re-running allocate, as told, makes version 2, which can be approved.
    assert "这是第 2 版名单" in allocate(ledger).output
    cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger)
    assert version_numbers(ledger) == [(1, False), (2, True)]


def test_a_list_edited_after_allocate_can_be_neither_approved_nor_paid(ledger: str) -> None:
    allocate(ledger)
    path = Path(OUT) / "allocation.csv"
    original = path.read_bytes()
    rows = csv_rows(path)
    edited = original.replace(f",{rows[0]['现金']},".encode(), b",9999.00,", 1)
    assert edited != original
    path.write_bytes(edited)
    entries = count(ledger, log)
    err = cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger, code=2).stderr
    assert "allocation.csv（生成后被改动过）" in err and "重新运行 weiwen allocate --ledger" in err
    assert count(ledger, log) == entries and count(ledger, records) == 0
    path.write_bytes(original)
    cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger)
    path.write_bytes(edited)  # after approval: no bank file from it either
    err = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger, code=2).stderr
    assert "生成后被改动过" in err and "重新运行 weiwen allocate --ledger" in err
    assert count(ledger, batches) == 0 and not (Path(OUT) / "代发文件").exists()


def test_only_the_latest_version_can_be_approved(ledger: str) -> None:
    allocate(ledger, out="第一次")
    assert "这是第 2 版名单" in allocate(ledger, out="第二次", rosters=ROSTERS[:2]).output
    entries = count(ledger, log)
    err = cli("approve", "第一次", "--org", "镇民政办", "--ledger", ledger, code=2).stderr
    assert "是第 1 版" in err and "最新版本是第 2 版" in err and "只能审批最新版本" in err
    assert count(ledger, log) == entries and count(ledger, records) == 0
    cli("approve", "第二次", "--org", "镇民政办", "--ledger", ledger)
    assert version_numbers(ledger) == [(1, False), (2, True)]


def test_no_bank_file_before_approval(ledger: str) -> None:
    allocate(ledger)
    entries = count(ledger, log)
    err = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger, code=2).stderr
    assert "还没有审批" in err and "weiwen approve" in err
    assert count(ledger, log) == entries and count(ledger, batches) == 0
    assert not (Path(OUT) / "代发文件").exists()


@SQLITE_ONLY
def test_a_refusal_through_the_real_entry_point(ledger: str) -> None:
    """``python -m weiwen`` (what the console script runs): exit 2, the Chinese message on stderr,
    nothing on stdout, no traceback, nothing written."""
    allocate(ledger)
    entries = count(ledger, log)
    done = subprocess.run([sys.executable, "-m", "weiwen", "payment", "file", OUT, "--bank", BANK, "--ledger", ledger],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert "还没有审批" in done.stderr and "weiwen approve" in done.stderr and "Traceback" not in done.stderr
    assert count(ledger, log) == entries and not (Path(OUT) / "代发文件").exists()


# --- after approval: a new version needs a reason, and replaces the approved one ----------------------------

def test_a_changed_list_after_approval_needs_a_reason_and_replaces_the_ledger_records(ledger: str) -> None:
    folder = approved_list(ledger)
    v1 = csv_rows(folder / "allocation.csv")
    before = {p: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    entries = count(ledger, log)
    err = allocate(ledger, rosters=ROSTERS[:2], code=2).stderr
    assert "第 1 版名单已经审批" in err and "--reason" in err and "第 2 版" in err
    assert count(ledger, log) == entries and version_numbers(ledger) == [(1, True)]
    assert {p: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before  # nothing written

    out = allocate(ledger, "--reason", "张庄村花名册退回重报", rosters=ROSTERS[:2]).output
    assert "这是第 2 版名单（张庄村花名册退回重报）" in out
    v2 = csv_rows(folder / "allocation.csv")
    assert 0 < len(v2) < len(v1)
    cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger)
    rows = table_rows(cli("ledger", "list", "--campaign", CAMPAIGN, "--ledger", ledger).output)
    status = Counter(r[7] for r in rows if len(r) == 9 and r[0].isdigit())
    assert status == {"作废：被第 2 版名单取代": len(v1), "有效": len(v2)}
    active = {r[5] for r in rows if len(r) == 9 and r[7] == "有效"}
    assert active == {mask_id(r["身份证号"]) for r in v2}
    assert cli("ledger", "verify", "--ledger", ledger).exit_code == 0


def test_approving_a_new_version_voids_bank_lines_still_waiting_from_the_old_one(ledger: str) -> None:
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    old = bank_lines(folder / "代发文件" / f"第1批-{BANK}.xlsx")
    target = csv_rows(folder / "allocation.csv")[2]
    object_to(ledger, target["身份证号"], upheld=True)
    allocate(ledger, "--reason", "异议第1号成立，取消1户")
    cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger)
    states = line_states(ledger)
    assert [s for _, _, s in states] == ["void"] * len(old)
    with connected(ledger) as conn:
        messages = {r.message for r in conn.execute(sa.select(batch_lines.c.message))}
    assert messages == {"第 2 版审批后作废，不得上传"}
    # The next batch pays version 2's households: the void lines are sent again, the removed one is not.
    out = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger).output
    new = bank_lines(folder / "代发文件" / f"第2批-{BANK}.xlsx")
    v2 = csv_rows(folder / "allocation.csv")
    assert {x["账号"] for x in new} == {r["银行卡号"] for r in v2 if yuan(r["现金"]) > 0 and r["银行卡号"]}
    assert target["银行卡号"] not in {x["账号"] for x in new}
    assert {x["账号"] for x in new} == {x["账号"] for x in old} - {target["银行卡号"]}
    assert "第 2 批代发文件" in out


# --- the bank's files -------------------------------------------------------------------------------

def test_a_bad_return_file_marks_nothing_and_a_correct_one_still_imports(ledger: str) -> None:
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    batch = folder / "代发文件" / f"第1批-{BANK}.xlsx"
    answer = bank_says(batch)
    accounts = {str(r[0]) for r in answer}
    entries, states = count(ledger, log), line_states(ledger)

    # An account a spreadsheet turned into a number (Excel row 4), a status the layout does not know (row 7).
    bad = [list(r) for r in answer]
    bad[2][0] = float(bad[2][0])
    bad[5][3] = "处理中"
    result = cli("payment", "import", OUT, write_return(Path("回盘-另存.xlsx"), bad), "--bank", BANK,
                 "--ledger", ledger, code=1)
    assert "回盘文件有 2 处问题，没有记入台账" in result.stderr and "银行的原始回盘文件重新导入" in result.stderr
    found = {(r[2], r[3], r[4]) for r in table_rows(result.stderr) if len(r) == 7}
    assert found == {("4", "账号", kind("bank-return-account-numeric").title),
                     ("7", "处理结果", kind("bank-return-status-unknown").title)}  # codes are for --json only
    assert "处理中" in result.stderr
    assert not any(a in result.output for a in accounts)

    # A column missing: the header row is named.
    cut = [r[:3] + r[4:] for r in answer]
    head = RETURN_HEAD[:3] + RETURN_HEAD[4:]
    result = cli("payment", "import", OUT, write_return(Path("回盘-缺列.xlsx"), cut, head), "--bank", BANK,
                 "--ledger", ledger, code=1)
    found = {(r[2], r[3], r[4]) for r in table_rows(result.stderr) if len(r) == 7}
    assert found == {("1", "处理结果", kind("bank-return-header-missing").title)}
    assert "缺少列“处理结果”" in result.stderr

    # Nothing marked, nothing written.
    assert count(ledger, log) == entries and line_states(ledger) == states
    assert {s for _, _, s in states} == {"pending"}
    assert sorted(p.name for p in (folder / "代发文件").iterdir()) == [batch.name]

    result = cli("payment", "import", OUT, write_return(Path("回盘.xlsx"), answer), "--bank", BANK,
                 "--ledger", ledger, code=0)
    assert reconciled(result.output)["verdict"] == "相符"
    assert {s for _, _, s in line_states(ledger)} == {"paid"}


def test_the_bank_file_twice_is_one_batch(ledger: str) -> None:
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    first = (folder / "代发文件" / f"第1批-{BANK}.xlsx").read_bytes()
    n = len(bank_lines(folder / "代发文件" / f"第1批-{BANK}.xlsx"))
    out = cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger).output
    assert f"{n} 户已到账或已在之前的批次中等待银行处理，不再列入" in out and "没有需要代发的户" in out
    assert count(ledger, batches) == 1 and count(ledger, batch_lines) == n
    assert sorted(p.name for p in (folder / "代发文件").iterdir()) == [f"第1批-{BANK}.xlsx"]
    assert (folder / "代发文件" / f"第1批-{BANK}.xlsx").read_bytes() == first


def first_return_with_two_failures(ledger: str) -> tuple[Path, Path, Path]:
    """An approved list, its first batch, the bank's return with two lines failed, imported: the
    folder, that return file and the re-payment batch."""
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    batch1 = folder / "代发文件" / f"第1批-{BANK}.xlsx"
    lines = bank_lines(batch1)
    back = write_return(Path("回盘1.xlsx"), bank_says(batch1, {lines[0]["账号"], lines[1]["账号"]}))
    cli("payment", "import", OUT, back, "--bank", BANK, "--ledger", ledger, code=1)
    repay = folder / "代发文件" / f"第2批（补发）-{BANK}.xlsx"
    assert len(bank_lines(repay)) == 2
    return folder, back, repay


@SQLITE_ONLY  # the logic is the same on both backends (both checked when it was found)
def test_the_same_return_file_imported_twice_pays_nobody_twice(ledger: str) -> None:
    """The clerk imports 回盘1.xlsx a second time (a double click): batch 2 (the re-payment, not yet
    at the bank) must stay as it is, and no third batch may send the same two households again."""
    folder, back, _repay = first_return_with_two_failures(ledger)
    states = line_states(ledger)
    cli("payment", "import", OUT, back, "--bank", BANK, "--ledger", ledger, code=2)
    assert count(ledger, batches) == 2, "a third batch sends the two households of batch 2 again"
    assert line_states(ledger) == states, "batch 2 was marked from batch 1's return file"
    assert not (folder / "代发文件" / f"第3批（补发）-{BANK}.xlsx").exists()


@SQLITE_ONLY  # the logic is the same on both backends (both checked when it was found)
def test_an_earlier_batch_s_return_imported_again_pays_nobody_twice(ledger: str) -> None:
    """Batch 2 re-paid the two failed households; 回盘1.xlsx imported again for batch 1 must not
    make a batch 3 that pays them a second time."""
    folder, back, repay = first_return_with_two_failures(ledger)
    cli("payment", "import", OUT, write_return(Path("回盘2.xlsx"), bank_says(repay)), "--bank", BANK,
        "--ledger", ledger, code=0)
    cli("payment", "import", OUT, back, "--bank", BANK, "--batch", "1", "--ledger", ledger, code=2)
    assert count(ledger, batches) == 2, "a third batch re-pays households batch 2 already paid"
    assert not (folder / "代发文件" / f"第3批（补发）-{BANK}.xlsx").exists()


@SQLITE_ONLY  # the logic is the same on both backends (both checked when it was found)
def test_a_reversed_objection_restores_the_ledger_records(ledger: str) -> None:
    """v1 approved; an objection upheld (v2 approved); on review rejected (v3, the same list as v1):
    approving v3 must leave exactly v3's households active in the ledger."""
    folder = approved_list(ledger)
    v1 = csv_rows(folder / "allocation.csv")
    target = v1[4]
    object_to(ledger, target["身份证号"], upheld=True)
    allocate(ledger, "--reason", "异议第1号成立")
    cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger)
    assert count(ledger, records, records.c.status == "active") == len(v1) - 1
    cli("objection", "decide", 1, "--rejected", "--note", "复核后不属实", "--date", "2026-12-05", "--ledger", ledger)
    assert "这是第 3 版名单" in allocate(ledger, "--reason", "异议第1号复核不成立").output
    v3 = csv_rows(folder / "allocation.csv")
    assert [r["身份证号"] for r in v3] == [r["身份证号"] for r in v1]
    out = cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger).output
    assert version_numbers(ledger) == [(1, True), (2, True), (3, True)]
    assert f"已记入台账 {len(v3)} 户" in out, out
    rows = table_rows(cli("ledger", "list", "--campaign", CAMPAIGN, "--ledger", ledger).output)
    active = sorted(r[5] for r in rows if len(r) == 9 and r[7] == "有效")
    assert active == sorted(mask_id(r["身份证号"]) for r in v3), out


# --- what the messages tell a clerk ------------------------------------------------------------------------

@SQLITE_ONLY
def test_a_return_file_problem_says_what_to_do_about_it(ledger: str) -> None:
    """An unknown status text is not fixed by "the bank's original file": the hint (ask the bank,
    add the text to the layout's returns) must reach the clerk."""
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    answer = bank_says(folder / "代发文件" / f"第1批-{BANK}.xlsx")
    answer[0][3] = "处理中"
    err = cli("payment", "import", OUT, write_return(Path("回盘.xlsx"), answer), "--bank", BANK, "--ledger", ledger,
              code=1).stderr
    assert "returns 的 success 或 failure" in err, err


@SQLITE_ONLY
def test_approving_a_new_version_says_which_bank_files_are_void(ledger: str) -> None:
    """The clerk holds 第1批-农商银行.xlsx; after version 2 is approved it must not be uploaded:
    approve has to say so."""
    folder = approved_list(ledger)
    cli("payment", "file", OUT, "--bank", BANK, "--ledger", ledger)
    object_to(ledger, csv_rows(folder / "allocation.csv")[2]["身份证号"], upheld=True)
    allocate(ledger, "--reason", "异议第1号成立，取消1户")
    out = cli("approve", OUT, "--org", "镇民政办", "--ledger", ledger).output
    assert {s for _, _, s in line_states(ledger)} == {"void"}
    assert "作废" in out and "不得再上传" in out, out


# --- against last year's list ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def last_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """allocation.csv of a run of the samples without a ledger (shared: the tests only read it)."""
    out = tmp_path_factory.mktemp("last-year") / OUT
    cli("allocate", *ROSTERS, "--rules", RULES, "-o", out)
    return out / "allocation.csv"


def test_compare_with_last_year_lists_exactly_the_moved_and_the_missing_household(
        last_year: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = last_year.read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline="")))
    header, body = table[0], table[1:]
    v, n, i = header.index("村(社区)"), header.index("户主姓名"), header.index("身份证号")
    moved, removed = body[1], body[-1]
    home = moved[v]
    elsewhere = next(r[v] for r in body if r[v] != home)
    moved[v] = elsewhere  # last year this household was listed in another village
    body.remove(removed)  # and this one was not listed at all
    Path("去年").mkdir()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *body])
    Path("去年/allocation.csv").write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))

    cli("allocate", *ROSTERS, "--rules", RULES, "-o", "今年", "--compare-with", "去年/allocation.csv")
    book = Path("今年") / "与上次名单对比.xlsx"
    rows = sheets(book)["变更清单"]
    assert "上次名单（去年）" in str(rows[0][0]) and "本次名单" in str(rows[0][0])
    listed = sorted((str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[9])) for r in after_header(rows))
    [(_, village, name, masked, why)] = [r for r in listed if r[0] == "新增"]
    assert (village, name, masked) == (removed[v], removed[n], mask_id(removed[i]))
    assert why.startswith("新纳入，享受标准：")
    assert [r for r in listed if r[0] != "新增"] == [
        ("变更", home, moved[n], mask_id(moved[i]), f"村(社区)由 {elsewhere} 变为 {home}")]
    no_full_id_or_account(book, {r[header.index("银行卡号")] for r in table[1:] if r[header.index("银行卡号")]})
