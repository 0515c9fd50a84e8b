"""Bounded resources per input (#19): what a container declares is checked before any reader
follows it, and a legacy .xls is read in a child process under a memory and time budget.

The crafted files come from tests/hostile.py (the same ones the 2,000-case run reads); the
figures measured before and after are in docs/hostile.md."""

from __future__ import annotations

import io
from collections.abc import Callable
import os
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import TODAY, make_id, write_xlsx
from tests.hostile import SAMPLES, SHEET, XLS, crafted_ole, lying_zip
from weiwen import load_rosters
from weiwen.read import budget, parted, workbook
from weiwen.read.ole import OleDamaged, check_ole
from weiwen.read.sheet_xml import ExtentWatch, SheetTooLarge, calamine_errors
from weiwen.read.sniff import MemberLies, check_member
from weiwen.read.workbook import read_roster_file

FIXTURES = Path(__file__).parent / "fixtures"
OLE = dict(crafted_ole(XLS.read_bytes()))


def problems(path: Path) -> list[tuple[str, str]]:
    return [(p.code, p.message) for p in read_roster_file(path).problems]


@pytest.mark.parametrize("name,reason", [
    ("ole-fat-loop.xls", "数据流的扇区链成环"),
    ("ole-fat-self.xls", "数据流的扇区链成环"),
    ("ole-dir-loop.xls", "目录的扇区链成环"),
    ("ole-minifat-loop.xls", "迷你分配表的扇区链成环"),
    ("ole-difat-loop.xls", "分配表扇区"),
    ("ole-past-end.xls", "指向文件末尾之后"),
])
def test_an_ole_file_whose_chains_lie_is_damaged_before_any_reader(name: str, reason: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(OLE[name])
    with pytest.raises(OleDamaged, match=reason):
        check_ole(path)
    got = problems(path)
    assert [code for code, _ in got] == ["file-corrupt"]
    assert reason in got[0][1]


@pytest.mark.parametrize("name", ["golden.xls", "hidden.xls"])
def test_genuine_xls_files_pass_the_ole_check(name: str) -> None:
    facts = check_ole(FIXTURES / name)
    assert facts.workbook and not facts.encrypted


def test_an_xls_with_a_password_record_is_encrypted(tmp_path: Path) -> None:
    """The XOR obfuscation of old Excel versions: calamine read the cells as if there were no password."""
    path = tmp_path / "xls-password.xls"
    path.write_bytes(OLE["xls-password.xls"])
    assert check_ole(path).encrypted
    assert [code for code, _ in problems(path)] == ["file-encrypted"]


@pytest.mark.parametrize("member,good_crc", [(SHEET, False), (SHEET, True), ("xl/sharedStrings.xml", False)])
def test_a_zip_member_larger_than_declared_is_refused_before_it_is_inflated(member: str, good_crc: bool,
                                                                           tmp_path: Path) -> None:
    path = tmp_path / "lying.xlsx"
    path.write_bytes(lying_zip(SAMPLES[0].read_bytes(), member, real=64 << 20, good_crc=good_crc))
    got = problems(path)
    assert [code for code, _ in got] == ["file-corrupt"]
    assert f"压缩包条目 {member} 解压后超过声明的 1024 字节" in got[0][1]


def test_check_member_passes_honest_members_and_shows_what_it_inflated(tmp_path: Path) -> None:
    data = b"<row>" * 300_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.xml", data)
        z.writestr("b.xml", b"x", compress_type=zipfile.ZIP_STORED)
    seen: list[bytes] = []
    with zipfile.ZipFile(buf) as z:
        for info in z.infolist():
            check_member(buf, info, seen.append)
    assert b"".join(seen) == data + b"x"
    assert max(len(b) for b in seen) <= 1 << 20  # inflated a block at a time


def test_check_member_refuses_a_stored_member_longer_than_declared() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.xml", b"y" * 5000)
    with zipfile.ZipFile(buf) as z:
        info = z.infolist()[0]
    info.file_size = 100
    with pytest.raises(MemberLies):
        check_member(buf, info)


def roster(n: int) -> list[list[object]]:
    rows: list[list[object]] = [["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]]
    for i in range(n):
        rows.append(["张庄村", str(i + 1), f"王{i}", make_id(seq=f"{i % 900 + 100}"), "户主", "低保", 1])
    return rows


def far_but_narrow(path: Path, last_row: int) -> Path:
    """A roster with a cell in column AZ and one more row at ``last_row``: within ZZ, but a grid of
    ``last_row`` x 52 cells."""
    write_xlsx(path, roster(40))
    return edit_sheet(path, lambda xml: xml.replace(
        b"</sheetData>", f'<row r="{last_row}"><c r="AZ{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'
                         "</sheetData>".encode()))


def edit_sheet(path: Path, edit: Callable[[bytes], bytes]) -> Path:
    """``path`` with its sheet's XML changed by ``edit`` (every other member as it was)."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i)) for i in z.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, edit(data) if info.filename == SHEET else data)
    path.write_bytes(out.getvalue())
    return path


def test_a_sheet_read_in_parts_is_bounded_in_rows_times_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only cells beyond ZZ were refused in parts: AZ1048576 made calamine lay out 54 million cells
    per part; now rows x columns is bounded as for a sheet read in one part."""
    path = far_but_narrow(tmp_path / "far.xlsx", 1_048_576)
    monkeypatch.setattr(parted, "SMALL_BYTES", 0)
    monkeypatch.setattr(parted, "part_count", lambda sheet, shared: 2)
    monkeypatch.setattr(parted, "PIECE", 2048)
    monkeypatch.setattr("weiwen.read.sheet_xml.MAX_GRID_CELLS", 1_000_000)  # a bound this file passes 50 times
    got = read_roster_file(path).problems
    assert [p.code for p in got] == ["sheet-too-large"]
    assert "1048576 行" in got[0].message


def test_a_sheet_calamine_reads_whole_is_bounded_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet of 16-48 MB of XML (one part: calamine reads it from the file) had no grid check."""
    path = far_but_narrow(tmp_path / "far.xlsx", 1_048_576)
    monkeypatch.setattr(parted, "SMALL_BYTES", 0)
    monkeypatch.setattr(parted, "part_count", lambda sheet, shared: 1)
    monkeypatch.setattr("weiwen.read.sheet_xml.MAX_GRID_CELLS", 1_000_000)
    assert [p.code for p in read_roster_file(path).problems] == ["sheet-too-large"]


def test_a_far_row_in_the_middle_of_a_piece_is_found() -> None:
    watch = ExtentWatch()
    with pytest.raises(SheetTooLarge, match="9999999 行"):
        watch.feed(b'<row r="2"><c r="A9999999"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>')


def test_a_narrow_tall_sheet_passes_the_watch() -> None:
    watch = ExtentWatch()
    watch.feed(b'<row r="1000000"><c r="Z1000000" t="n"><v>1</v></c></row>')
    assert (watch.rows, watch.cols) == (1_000_000, 26)
    with pytest.raises(SheetTooLarge):
        watch.feed(b'<row r="1000001"><c r="ZZ1000001" t="n"><v>1</v></c></row>')


def test_an_error_value_calamine_does_not_know_is_reported_at_its_cell(tmp_path: Path) -> None:
    """#GETTING_DATA (and #SPILL!, #CALC! …) made calamine refuse the whole sheet as damaged."""
    def errors(xml: bytes) -> bytes:
        xml = xml.replace(b'<c r="F3" t="inlineStr"><is><t>\xe4\xbd\x8e\xe4\xbf\x9d</t></is></c>',
                          b'<c r="F3" t="e"><v>#GETTING_DATA</v></c>')
        assert b"#GETTING_DATA" in xml
        return xml.replace(b'<c r="F4" t="inlineStr"><is><t>\xe4\xbd\x8e\xe4\xbf\x9d</t></is></c>',
                           b'<c r="F4" t="e"><v>#SPILL!</v></c>')

    path = edit_sheet(write_xlsx(tmp_path / "r.xlsx", roster(3)), errors)
    intake = load_rosters([path], today=TODAY)
    got = {(e.row, e.cell, e.code, e.value) for e in intake.errors if e.code == "cell-error-value"}
    assert got == {(3, "F3", "cell-error-value", "#GETTING_DATA"), (4, "F4", "cell-error-value", "#SPILL!")}
    assert "file-corrupt" not in {e.code for e in intake.errors}


def test_calamine_errors_leaves_known_errors_and_text_alone() -> None:
    xml = (b'<c r="A1" t="e"><v>#N/A</v></c><c r="B1" t="str"><f>X()</f><v>#SPILL!</v></c>'
           b'<c r="C1" t="e"><v>#CALC!</v></c>')
    assert calamine_errors(xml) == xml.replace(b"<v>#CALC!</v>", b"<v>#N/A</v>")
    assert calamine_errors(b'<c r="A1"><v>1</v></c>') == b'<c r="A1"><v>1</v></c>'


def test_a_symlink_loop_is_reported_as_such(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").symlink_to(tmp_path / "b.xlsx")
    (tmp_path / "b.xlsx").symlink_to(tmp_path / "a.xlsx")
    got = problems(tmp_path / "a.xlsx")
    assert [code for code, _ in got] == ["file-unreadable"]
    assert "符号链接绕成了圈" in got[0][1]


def test_a_dangling_symlink_is_still_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").symlink_to(tmp_path / "gone.xlsx")
    assert [code for code, _ in problems(tmp_path / "a.xlsx")] == ["file-not-found"]


def test_an_xls_read_in_the_child_is_read_as_in_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert budget.available()
    calls: list[int] = []
    real = budget.run

    def counted(*args: object) -> object:
        calls.append(os.getpid())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(budget, "run", counted)
    child = read_roster_file(FIXTURES / "golden.xls")
    monkeypatch.setattr(budget, "available", lambda: False)
    here = read_roster_file(FIXTURES / "golden.xls")
    assert len(calls) == 1
    assert [(s.name, s.rows, s.merged, s.marks) for s in child.sheets] == \
        [(s.name, s.rows, s.merged, s.marks) for s in here.sheets]
    assert child.problems == here.problems and child.format == here.format


def test_an_xls_that_outgrows_the_memory_budget_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backstop alone (the OLE check switched off): a looping directory chain grew calamine to
    2.2 GB before it aborted the whole process; in the child it is file-over-budget."""
    path = tmp_path / "ole-dir-loop.xls"
    path.write_bytes(OLE["ole-dir-loop.xls"])
    monkeypatch.setattr(workbook, "check_ole", lambda p: type("F", (), {"encrypted": False})())
    monkeypatch.setattr(budget, "MEMORY_BYTES", 256 << 20)
    got = read_roster_file(path).problems
    assert [p.code for p in got] == ["file-over-budget"]
    assert "内存上限（256 MB）" in got[0].message


def test_an_xls_that_outlasts_the_time_budget_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    def forever(path: Path) -> object:
        time.sleep(3600)
        raise AssertionError("not reached")

    monkeypatch.setattr(workbook, "sniff", forever)  # in the child: a reader that never ends
    monkeypatch.setattr(budget, "SECONDS", 0.5)
    got = read_roster_file(FIXTURES / "golden.xls").problems
    assert [p.code for p in got] == ["file-over-budget"]
    assert "时间上限（0.5 秒）" in got[0].message
