"""weiwen allocate end to end: the county plan to the yuan, exclusions, the sheets, privacy."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import struct
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen import load_rosters
from weiwen.cli import app

runner = CliRunner()
ROOT = Path(__file__).parent.parent

# The county plan in DOMAIN.md: (roster category, persons, standard code, cash + goods per person)
COUNTY = [
    ("重点优抚对象", 3726, "youfu", 100), ("城市低保", 7500, "urban-dibao", 100),
    ("农村低保", 10572, "rural-dibao", 100), ("农村五保", 4171, "wubao", 100), ("孤儿", 267, "orphan", 100),
    ("40%定救", 37, "dingjiu-40", 100), ("一次性定救", 220, "dingjiu-once", 100), ("麻风病人", 49, "leprosy", 100),
    ("红军失散人员", 83, "veterans", 400), ("百岁老人", 138, "centenarian", 500),
    ("敬老院集中供养五保", 196, "nursing-home", 100),
]


def county_roster(path: Path) -> Path:
    """One person per row and household; 25 persons in each of three categories marked for 点上慰问."""
    lines = ["姓名,身份证号,类别,点上慰问"]
    n = 0
    start = date(1930, 1, 1)
    for category, count, _code, _amount in COUNTY:
        for k in range(count):
            birth = (start + timedelta(days=n // 900)).strftime("%Y%m%d")
            marked = "是" if category in ("重点优抚对象", "城市低保", "农村低保") and k < 25 else ""
            lines.append(f"对象{n},{make_id('410526', birth, f'{n % 900:03d}')},{category},{marked}")
            n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_county_plan_reproduces_2813500_line_by_line(tmp_path: Path) -> None:
    roster = county_roster(tmp_path / "county.csv")
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "county", "-o", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_standard = doc["by_standard"]
    for _category, count, code, amount in COUNTY:
        line = by_standard[code]
        assert line["households"] == count, code
        assert Decimal(line["total"]) == count * amount, code
    assert Decimal(by_standard["leaders-visit"]["total"]) == Decimal(37500)
    assert by_standard["leaders-visit"]["households"] == 75
    assert Decimal(doc["total"]) == Decimal("2813500.00")
    assert Decimal(doc["total"]) - Decimal(37500) == Decimal("2776000.00")  # 面上慰问
    assert by_standard["nursing-home"]["cash"] == "0.00"  # gift only


SPRING_PEOPLE = [
    ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "联系电话", "银行卡号", "上年已慰问"],
    ["张庄村", "1", "王建国", make_id(seq="111"), "户主", "低保、三属", 3, "13800138000", "6228480402564890018", ""],
    ["张庄村", "1", "李秀英", make_id(seq="112"), "配偶", "", 3, "", "", ""],
    ["张庄村", "1", "王小明", make_id(birth="20100101", seq="113"), "儿子", "", 3, "", "", ""],
    ["张庄村", "2", "赵强", make_id(seq="211"), "户主", "三属、现役军人家属", 2, "13900139000", "", ""],
    ["张庄村", "3", "=HYPERLINK(\"http://x\")", make_id(seq="311"), "户主", "低保边缘", 1, "", "", ""],
    ["李家湾村", "1", "孙丽", make_id(seq="411"), "户主", "低保", 1, "", "", "是"],
    ["李家湾村", "2", "周涛", make_id(seq="511"), "户主", "困难家庭", 1, "", "", ""],
    ["李家湾村", "3", "吴军", make_id(seq="611"), "户主", "", 1, "", "", ""],
    ["李家湾村", "4", "郑芳", "110101199003071234", "户主", "低保", 1, "", "", ""],
]
# By hand, spring.yaml: 王建国户 低保 3 人 1100 + 物资 180 = 1280 (三属 960 未享受)；赵强户 三属 960 + 军属 300 = 1260；
# “=HYPERLINK” 户 低保边缘 400 + 大米 100 = 500；周涛户 困难家庭 600 + 物资 190 = 790；
# 孙丽 上年已慰问 → 排除；吴军 无类别 → 不符合；郑芳 身份证号错 → 行有错误。合计 3830。
SPRING_TOTAL = Decimal("3830.00")


@pytest.fixture
def spring_out(tmp_path: Path) -> tuple[Path, dict]:
    roster = write_xlsx(tmp_path / "花名册.xlsx", SPRING_PEOPLE)
    out = tmp_path / "out"
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(out), "--json"])
    assert result.exit_code == 1, result.output  # the roster has an error row
    return out, json.loads(result.stdout)


def test_hand_computed_households(spring_out: tuple[Path, dict]) -> None:
    out, doc = spring_out
    assert Decimal(doc["total"]) == SPRING_TOTAL
    assert doc["households"] == 4
    kinds = sorted((x["kind"], x["name"]) for x in doc["excluded"])
    assert kinds == [("不符合条件", "吴军"), ("排除", "孙丽"), ("行有错误", "郑芳")]
    ws = openpyxl.load_workbook(out / "慰问明细.xlsx")["慰问明细"]
    by_head = {ws.cell(r, 4).value: r for r in range(3, ws.max_row + 1)}
    total_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(2, c).value == "合计（元）")
    assert ws.cell(by_head["王建国"], total_col).value == 1280
    assert ws.cell(by_head["赵强"], total_col).value == 1260
    lost_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(2, c).value == "未享受标准")
    assert "三属" in ws.cell(by_head["王建国"], lost_col).value


def test_json_csv_and_sheets_agree(spring_out: tuple[Path, dict]) -> None:
    out, doc = spring_out
    with (out / "allocation.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(Decimal(r["合计"]) for r in rows) == Decimal(doc["total"])
    assert len(rows) == doc["households"]
    wb = openpyxl.load_workbook(out / "慰问明细.xlsx")
    detail = wb["慰问明细"]
    total_col = next(c for c in range(1, detail.max_column + 1) if detail.cell(2, c).value == "合计（元）")
    values = [detail.cell(r, total_col).value for r in range(3, detail.max_row)]
    assert detail.cell(detail.max_row, 1).value == "合计"
    assert Decimal(str(sum(values))) == Decimal(str(detail.cell(detail.max_row, total_col).value)) == Decimal(doc["total"])
    assert wb.sheetnames == ["慰问明细", "签领表-张庄村", "签领表-李家湾村", "汇总", "未纳入"]
    assert openpyxl.load_workbook(out / "公示名单.xlsx").sheetnames == ["张庄村", "李家湾村"]  # a sheet per village
    sign = wb["签领表-张庄村"]
    texts = [c.value for row in sign.iter_rows() for c in row if isinstance(c.value, str)]
    assert "壹仟壹佰元整" in texts  # 王建国户 cash 1100 in capitals


def test_totals_rows_are_ruled_like_the_table(spring_out: tuple[Path, dict]) -> None:
    # A printed sign sheet is signed and filed: its totals line is boxed across the whole table,
    # the empty cells included (they take the row's format).
    out, _ = spring_out
    wb = openpyxl.load_workbook(out / "慰问明细.xlsx")
    for ws in (wb["签领表-张庄村"], wb["慰问明细"], openpyxl.load_workbook(out / "公示名单.xlsx")["张庄村"]):
        last = next(r for r in range(ws.max_row, 0, -1) if ws.cell(r, 1).value == "合计")
        row_style = ws.row_dimensions[last]
        for col in range(1, ws.max_column + 1):
            cell = ws.cell(last, col)
            border = cell.border if cell.has_style else row_style.border
            assert border.top.style == border.bottom.style == "thin", (ws.title, cell.coordinate)


def public_heads(book: Path) -> list[tuple[str, str]]:
    """(name, ID) of every household on the public list, village after village, as posted."""
    return [(row[1], row[2]) for ws in openpyxl.load_workbook(book)
            for row in ws.iter_rows(min_row=4, values_only=True) if str(row[0]).isdigit()]


def test_public_list_leaks_nothing(spring_out: tuple[Path, dict]) -> None:
    out, _ = spring_out
    wb = openpyxl.load_workbook(out / "公示名单.xlsx")
    text = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert not re.search(r"\d{17}[\dX]", text)
    assert "13800138000" not in text and "6228480402564890018" not in text
    assert "王*国" in text and "赵*" in text
    # Each head's ID as the first 6 and the last 4 digits, nothing more; by hand from SPRING_PEOPLE.
    assert public_heads(out / "公示名单.xlsx") == [
        ("王*国", "110101********1110"), ("赵*", "110101********2113"), ("=********************)", "110101********3116"),
        ("周*", "110101********5111")]
    for person in SPRING_PEOPLE[1:]:
        assert person[3] not in text  # no full ID, of a head or anyone else


def test_no_formula_no_link_and_stable_bytes(spring_out: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = spring_out
    xml = ""
    for name in ("慰问明细.xlsx", "公示名单.xlsx", "审批表.xlsx"):
        with zipfile.ZipFile(out / name) as zf:
            xml += "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml and "<hyperlink" not in xml
    assert '<t>=HYPERLINK("http://x")</t>' in xml  # the name is there, as text
    roster = tmp_path / "花名册.xlsx"  # the very file spring_out used
    again = tmp_path / "again"
    runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(again)])
    for name in ("慰问明细.xlsx", "公示名单.xlsx", "审批表.xlsx"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    assert (again / "allocation.csv").read_bytes() == (out / "allocation.csv").read_bytes()


def test_csv_guards_against_injection(spring_out: tuple[Path, dict]) -> None:
    out, _ = spring_out
    text = (out / "allocation.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text


def test_strict_refuses(tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(tmp_path / "o"),
                                 "--strict"])
    assert result.exit_code == 1 and not (tmp_path / "o").exists()


def test_samples_from_the_readme(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))
    result = runner.invoke(app, ["allocate", *files, "--campaign", "spring", "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert Decimal(doc["total"]) == Decimal(doc["cash"]) + Decimal(doc["goods_value"]) > 0
    assert sum(Decimal(v["total"]) for v in doc["by_village"].values()) == Decimal(doc["total"])


def test_missing_campaign_is_a_usage_error(tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE[:2])
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "nosuch", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "spring" in result.stderr


def test_output_may_not_be_a_file_or_overwrite_an_input(tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "慰问明细.xlsx", SPRING_PEOPLE[:2])
    before = roster.read_bytes()
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "覆盖输入文件" in result.stderr
    assert roster.read_bytes() == before
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(roster)])
    assert result.exit_code == 2 and "是一个文件" in result.stderr


def test_objection_upheld_removes_the_household_without_refill(tmp_path: Path) -> None:
    """exclusions.ids (举报属实取消): the whole household leaves, its slot stays empty."""
    rules = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8").replace(
        "  ids: []", f"  ids: [{SPRING_PEOPLE[2][3]}]")  # 李秀英, a member of 王建国's household
    path = tmp_path / "objection.yaml"
    path.write_text(rules, encoding="utf-8")
    roster = write_xlsx(tmp_path / "r.xlsx", SPRING_PEOPLE)
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(path), "-o", str(tmp_path / "o"), "--json"])
    doc = json.loads(result.stdout)
    assert Decimal(doc["total"]) == SPRING_TOTAL - Decimal(1280)
    removed = [x for x in doc["excluded"] if x["name"] == "王建国"]
    assert removed and removed[0]["reason"] == "举报属实取消" and removed[0]["kind"] == "排除"


def test_many_villages_get_one_sign_sheet_workbook_each(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(gen), "--households", "120", "--villages", "60",
                        "--seed", "4", "--single-file"])
    out = tmp_path / "out"
    result = runner.invoke(app, ["allocate", str(gen / "花名册.xlsx"), "-c", "spring", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    files = sorted((out / "签领表").glob("*.xlsx"))
    assert len(files) == len(doc["by_village"]) > 50
    assert not any(n.startswith("签领表") for n in openpyxl.load_workbook(out / "慰问明细.xlsx").sheetnames)
    total = Decimal(0)
    for f in files:
        ws = openpyxl.load_workbook(f)["签领表"]
        last = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "合计")
        total += Decimal(str(ws.cell(last, 6).value))
    assert total == Decimal(doc["cash"])  # the sign sheets pay out exactly the cash decided
    public = sorted((out / "公示名单").glob("*.xlsx"))  # and a public list per village, beside them
    assert [f.name for f in public] == [f.name for f in files] and not (out / "公示名单.xlsx").exists()
    posted = Decimal(0)
    for f in public:
        ws = openpyxl.load_workbook(f)["公示名单"]
        posted += Decimal(str(next(r[5] for r in ws.iter_rows(values_only=True) if r[0] == "合计")))
    assert posted == Decimal(doc["total"])
    with (out / "allocation.csv").open(encoding="utf-8-sig", newline="") as fh:  # written by the second process
        rows = list(csv.DictReader(fh))
    assert len(rows) == doc["households"] and sum(Decimal(r["合计"]) for r in rows) == Decimal(doc["total"])


def test_second_process_started_early_writes_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large rosters start the sign-sheet process before reading; the files are the same bytes.

    Which rosters count as large is a tuning choice: here the command is made to start the
    process before reading whatever the rosters' size, and must write exactly what it writes
    when it starts none."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    gen = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(gen), "--households", "120", "--villages", "60",
                        "--seed", "4", "--single-file"])
    args = ["allocate", str(gen / "花名册.xlsx"), "-c", "spring", "--json", "-o"]
    late = runner.invoke(app, [*args, str(tmp_path / "late")])
    given_work: list[str] = []

    class Helper(ProcessPoolExecutor):
        def submit(self, fn, /, *a, **k):  # type: ignore[no-untyped-def, override]
            given_work.append(fn.__name__)
            return super().submit(fn, *a, **k)

    @contextlib.contextmanager
    def always_early(rosters):  # type: ignore[no-untyped-def]
        with Helper(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool

    monkeypatch.setattr("weiwen.app.pipeline.second_process", always_early)
    early = runner.invoke(app, [*args, str(tmp_path / "early")])
    assert late.exit_code == early.exit_code == 0
    # The sign sheets and the CSV went to the process started before reading, then the public lists
    # in shares (those it had not started when this process was done were written here).
    assert given_work[0] == "_village_files_and_csv" and set(given_work[1:]) == {"public_share"}
    names = sorted(p.relative_to(tmp_path / "late") for p in (tmp_path / "late").rglob("*") if p.is_file())
    assert len(names) > 60
    assert names == sorted(p.relative_to(tmp_path / "early") for p in (tmp_path / "early").rglob("*") if p.is_file())
    for name in names:
        assert (tmp_path / "early" / name).read_bytes() == (tmp_path / "late" / name).read_bytes(), name


STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _central_directory(blob: bytes) -> tuple[list[bytearray], int]:
    """The central-directory records of a zip archive (no zip64) and the offset they start at."""
    end = blob.rindex(b"PK\x05\x06")
    size, offset = struct.unpack("<II", blob[end + 12:end + 20])
    records, k = [], offset
    while k < offset + size:
        name, extra, comment = struct.unpack("<HHH", blob[k + 28:k + 34])
        records.append(bytearray(blob[k:k + 46 + name + extra + comment]))
        k += 46 + name + extra + comment
    return records, offset


def restamped(src: Path, dst: Path, stamp: str) -> Path:
    """``src`` as the writer would have written it at another moment: the same bytes up to
    docProps/core.xml (the writer puts it and app.xml last), then those entries again with the
    document times set to ``stamp``, and a central directory to match."""
    data = src.read_bytes()
    with zipfile.ZipFile(src) as z:
        infos = z.infolist()
        at = next(k for k, i in enumerate(infos) if i.filename == "docProps/core.xml")
        tail = [(i.filename, z.read(i)) for i in infos[at:]]
    start = infos[at].header_offset
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in tail:
            if name == "docProps/core.xml":
                body = STAMP.sub(stamp.encode(), body)
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body)
    mini = buf.getvalue()
    head_records, _ = _central_directory(data)
    tail_records, tail_end = _central_directory(mini)
    for r in tail_records:  # the entries now start where core.xml started
        r[42:46] = struct.pack("<I", struct.unpack("<I", r[42:46])[0] + start)
    records = head_records[:at] + tail_records
    directory = b"".join(records)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(records), len(records), len(directory),
                                          start + tail_end, 0)
    dst.write_bytes(data[:start] + mini[:tail_end] + directory + end)
    return dst


def test_timestamp_fix_rewrites_only_the_tail(tmp_path: Path) -> None:
    """Workbooks written at different times become byte-identical; the sheets before core.xml are
    left as the writer compressed them (that is what keeps a prefecture's workbook fast)."""
    import rustpy_xlsxwriter as rx

    from weiwen.sheets.xlsx import normalize_xlsx

    rows = [{"姓名": f"张{i}", "金额": i * 1.5} for i in range(500)]
    first = tmp_path / "a.xlsx"
    rx.FastExcel(str(first)).sheet("表", rows).save()
    with zipfile.ZipFile(first) as z:
        core_at = z.getinfo("docProps/core.xml").header_offset
        assert len(STAMP.findall(z.read("docProps/core.xml"))) == 2  # the writer's clock, created and modified
    later = restamped(first, tmp_path / "b.xlsx", "2031-05-06T07:08:09Z")  # the same workbook, another moment
    with zipfile.ZipFile(later) as z:
        assert z.testzip() is None and b"2031-05-06T07:08:09Z" in z.read("docProps/core.xml")
    assert first.read_bytes() != later.read_bytes()
    head = first.read_bytes()[:core_at]
    assert later.read_bytes()[:core_at] == head
    normalize_xlsx(first)
    normalize_xlsx(later)
    with zipfile.ZipFile(first) as z:
        assert z.testzip() is None
        assert STAMP.findall(z.read("docProps/core.xml")) == [b"2000-01-01T00:00:00Z"] * 2
        assert [i.filename for i in z.infolist()][-2:] == ["docProps/core.xml", "docProps/app.xml"]
    assert first.read_bytes()[:core_at] == head
    assert openpyxl.load_workbook(first)["表"]["A3"].value == "张1"
    normalize_xlsx(later)  # a second time changes nothing
    assert later.read_bytes() == first.read_bytes()


CSV_PLAN = """\
campaign:
  name: 零头测试
  code: csv-test
  reference_date: 2027-01-20
standards:
  - code: fen
    name: 五分
    when: {category: 低保}
    cash: 0.05
  - code: odd
    name: 角分
    when: {category: 特困}
    cash: 1234.56
  - code: round
    name: 整数加物资
    when: {category: 三属}
    cash: 1100
    goods: [{item: 火柴, unit: 盒, quantity: 4, unit_value: 0.1}]
"""


def test_csv_amounts_to_the_fen_and_guarded_names(tmp_path: Path) -> None:
    """allocation.csv as a bank reads it: yuan with two decimals, exactly; text a spreadsheet would run
    (= + - @ in front) gets an apostrophe, other text and the ID stay as typed."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(CSV_PLAN, encoding="utf-8")
    people = [("=1+1", "低保"), ("+86", "特困"), ("-3", "三属"), ("@x", "低保"), ("a=b", "特困"), ("张三", "三属")]
    ids = [make_id(seq=f"{k + 1:03d}") for k in range(len(people))]
    lines = ["户号,姓名,身份证号,类别"] + [f"{k + 1},{name},{ids[k]},{cat}" for k, (name, cat) in enumerate(people)]
    roster = tmp_path / "r.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(plan), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "o" / "allocation.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["身份证号"]: r for r in csv.DictReader(fh)}
    got = [(rows[i]["户主姓名"], rows[i]["现金"], rows[i]["物资折价"], rows[i]["合计"]) for i in ids]
    assert got == [("'=1+1", "0.05", "0.00", "0.05"), ("'+86", "1234.56", "0.00", "1234.56"),
                   ("'-3", "1100.00", "0.40", "1100.40"), ("'@x", "0.05", "0.00", "0.05"),
                   ("a=b", "1234.56", "0.00", "1234.56"), ("张三", "1100.00", "0.40", "1100.40")]


def one_household_each(path: Path, names: list[str], villages: list[str] | None = None) -> Path:
    """A roster of one-person 低保 households, one per name (730 each under spring.yaml)."""
    villages = (villages or []) + ["张庄村"] * len(names)
    rows: list[list[object]] = [["村(社区)", "户号", "姓名", "身份证号", "类别"]]
    rows += [[villages[k], str(k + 1), name, make_id(seq=f"{k + 1:03d}"), "低保"] for k, name in enumerate(names)]
    return write_xlsx(path, rows)


def test_csv_quotes_fields_exactly_as_the_csv_module(tmp_path: Path) -> None:
    """allocation.csv is what Python's csv module writes (minimal quoting, CRLF), so any CSV reader
    gets back the names as typed: commas and quotes in a name or a village included."""
    names = ["王,一", '"李"二', '张""三', 'a,"b"', "赵四"]
    roster = one_household_each(tmp_path / "r.xlsx", names, villages=["东,村"])
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "o" / "allocation.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8")[1:]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(rows)
    assert again.getvalue() == text
    assert [(r[1], r[3]) for r in rows[1:]] == [("东,村", "王,一"), ("张庄村", '"李"二'), ("张庄村", '张""三'),
                                                ("张庄村", 'a,"b"'), ("张庄村", "赵四")]
    assert '"""李""二"' in text and ",赵四," in text  # quoted only where needed


def reference_mask_name(name: str) -> str:
    """The rule for posted names, one name at a time: 张*三, 李*, 王."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def posted_names(tmp_path: Path, names: list[str]) -> list[str]:
    out = tmp_path / "o"
    result = runner.invoke(app, ["allocate", str(one_household_each(tmp_path / "r.xlsx", names)),
                                 "--campaign", "spring", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return [name for name, _ in public_heads(out / "公示名单.xlsx")]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="张三丰李𠮷", min_size=1, max_size=6), min_size=1, max_size=8))
def test_posted_names_follow_the_rule_for_every_name(tmp_path_factory: pytest.TempPathFactory,
                                                     names: list[str]) -> None:
    assert posted_names(tmp_path_factory.mktemp("mask"), names) == [reference_mask_name(n) for n in names]


def test_posted_names_by_hand(tmp_path: Path) -> None:
    names = ["张三丰", "李四", "王", "阿卜杜·热合曼", "𠮷田"]  # 𠮷 is one character, outside the BMP
    assert posted_names(tmp_path, names) == ["张*丰", "李*", "王", "阿*****曼", "𠮷*"]


def test_one_row_per_household_roster(tmp_path: Path) -> None:
    """A 低保 list as systems export it: 户主姓名, 身份证号码, 保障人数 — no member rows, no 姓名 column.
    By hand, spring.yaml 低保 by household size: 1 人 550, 2 人 900, 3 人及以上 1100, plus goods 180 each."""
    lines = ["序号,户主姓名,身份证号码,保障人数,类别,家庭住址"]
    lines += [f"{k + 1},王{k},{make_id(seq=f'{700 + k:03d}')},{k + 1},城市低保,城关镇{k}号" for k in range(3)]
    roster = tmp_path / "低保名单.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["households"] == 3 and Decimal(doc["total"]) == Decimal(550 + 900 + 1100 + 3 * 180)
    trace = runner.invoke(app, ["explain", make_id(seq="701"), str(roster), "--campaign", "spring"])
    assert trace.exit_code == 0 and "王1" in trace.stdout and "合计 1080.00 元" in trace.stdout
    assert "nan" not in trace.stdout  # no relation column: nothing shown, not pandas' NaN
    intake = load_rosters([roster])
    assert [i.code for i in intake.infos if i.code == "household-rows"] == ["household-rows"]
    assert intake.frame["household_size"].tolist() == [1, 2, 3]

    both = tmp_path / "两列.csv"  # 家庭人口 is the household size; 保障人数 only stands in when it is missing
    both.write_text("姓名,身份证号,家庭人口,保障人数,类别\n"
                    f"王一,{make_id(seq='801')},4,2,低保\n", encoding="utf-8")
    intake = load_rosters([both])
    assert intake.frame["household_size"].tolist() == [4] and not intake.errors

    members = tmp_path / "成员.csv"  # members carrying only their head's ID are not read as heads
    members.write_text(f"姓名,户主身份证号,类别\n王一,{make_id(seq='901')},低保\n王二,{make_id(seq='901')},低保\n",
                       encoding="utf-8")
    assert [e.code for e in load_rosters([members]).errors] == ["header-not-found"]


STREET_PLAN = """\
campaign:
  name: 东关街道2027年春节走访慰问
  code: street-2027
  reference_date: 2027-01-20
standards:
  - code: elderly
    name: 高龄老人
    per: person
    when: {age: {gte: 80}}
    tiers:
      by: age
      steps:
        - {min: 80, max: 89, cash: 200}
        - {min: 90, max: 99, cash: 500}
        - {min: 100, cash: 1000}
  - code: worker
    name: 困难职工
    when:
      all:
        - {category: 困难职工}
        - {column: 家庭人均收入, lt: 1290}
    cash: 800
    goods:
      - {item: 大米, unit: 袋, quantity: 1, unit_value: 120}
combination:
  mode: all
cap: 1500
"""


def test_a_plan_written_outside_the_repository(tmp_path: Path) -> None:
    """A street office's plan (not one of the examples): age tiers per person, an income threshold,
    everything paid, a cap.  By hand, at 2027-01-20:
    户1 张大爷 87 岁 200 + 王奶奶 91 岁 500 = 700；
    户2 李奶奶 101 岁 1000 + 李明 困难职工 收入 1000 < 1290：800 + 大米 120 = 1920，封顶 1500（先减现金 420）；
    户3 赵刚 收入“1,300元”不低于 1290：不符合；户4 钱老 明天才满 80 岁：不符合；户5 孙老 今天满 80 岁：200。
    合计 2400 = 现金 2280 + 物资 120。"""
    plan = tmp_path / "street.yaml"
    plan.write_text(STREET_PLAN, encoding="utf-8")
    people = [("1", "张大爷", "19400101", "户主", "", ""), ("1", "王奶奶", "19350601", "配偶", "", ""),
              ("2", "李奶奶", "19250301", "户主", "", ""), ("2", "李明", "19700101", "儿子", "困难职工", "1000"),
              ("3", "赵刚", "19800101", "户主", "困难职工", '"1,300元"'), ("4", "钱老", "19470121", "户主", "", ""),
              ("5", "孙老", "19470120", "户主", "", "")]
    lines = ["社区,户号,姓名,身份证号,与户主关系,类别,家庭人均收入"]
    lines += [f"东关社区,{no},{name},{make_id('110101', birth, f'{k:03d}')},{rel},{cat},{income}"
              for k, (no, name, birth, rel, cat, income) in enumerate(people)]
    roster = tmp_path / "街道名单.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["allocate", str(roster), "--rules", str(plan), "-o", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["households"], doc["total"], doc["cash"], doc["goods_value"]) == (3, "2400.00", "2280.00", "120.00")
    assert {k: v["total"] for k, v in doc["by_standard"].items()} == {"elderly": "1900.00", "worker": "920.00",
                                                                     "_cap": "-420.00"}
    assert sorted(x["name"] for x in doc["excluded"]) == ["赵刚", "钱老"]


def test_left_out_sheet_names_files_from_their_common_folder(tmp_path: Path) -> None:
    """未纳入 shows each input relative to the folder all inputs share: two villages' 花名册.xlsx in their
    own folders stay apart, and a long path does not fill the column."""
    deep = tmp_path / "2027年春节走访慰问" / "各村上报花名册"
    for village in ("张庄村", "李庄村"):
        (deep / village).mkdir(parents=True)
    first = write_xlsx(deep / "张庄村" / "花名册.xlsx", SPRING_PEOPLE[:9])
    second = write_xlsx(deep / "李庄村" / "花名册.xlsx",
                        [SPRING_PEOPLE[0], ["李庄村", "1", "无类别", make_id(seq="921"), "户主", "", 1, "", "", ""]])
    out = tmp_path / "o"
    result = runner.invoke(app, ["allocate", str(first), str(second), "--campaign", "spring", "-o", str(out)])
    assert result.exit_code == 0, result.output
    import python_calamine as calamine

    rows = calamine.CalamineWorkbook.from_path(str(out / "慰问明细.xlsx")).get_sheet_by_name("未纳入").to_python()
    assert rows[-1][0] == f"共 {len(rows) - 3} 条"  # after the title, the header and the rows
    files = {r[1] for r in rows[2:-1]}
    assert files == {"张庄村/花名册.xlsx", "李庄村/花名册.xlsx"}


def left_out_files(out: Path) -> set[str]:
    import python_calamine as calamine

    rows = calamine.CalamineWorkbook.from_path(str(out / "慰问明细.xlsx")).get_sheet_by_name("未纳入").to_python()
    return {r[1] for r in rows[2:-1]}  # the last row counts them


def test_left_out_sheet_names_one_file_by_its_name_and_mixed_paths_as_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / "各村上报" / "张庄村"
    deep.mkdir(parents=True)
    first = write_xlsx(deep / "花名册.xlsx", SPRING_PEOPLE[:9])
    result = runner.invoke(app, ["allocate", str(first), "--campaign", "spring", "-o", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert left_out_files(tmp_path / "one") == {"花名册.xlsx"}  # one input: its name alone

    # One input written relative to the working folder, one absolute: no common folder to cut, shown as given.
    monkeypatch.chdir(tmp_path / "各村上报")
    (tmp_path / "李庄村").mkdir()
    second = write_xlsx(tmp_path / "李庄村" / "名单.xlsx",
                        [SPRING_PEOPLE[0], ["李庄村", "1", "无类别", make_id(seq="921"), "户主", "", 1, "", "", ""]])
    result = runner.invoke(app, ["allocate", "张庄村/花名册.xlsx", str(second), "--campaign", "spring",
                                 "-o", str(tmp_path / "mixed")])
    assert result.exit_code == 0, result.output
    assert left_out_files(tmp_path / "mixed") == {"张庄村/花名册.xlsx", str(second)}
