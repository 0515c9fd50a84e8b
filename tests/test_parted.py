"""A large .xlsx sheet read in parts (weiwen.read.parted) gives exactly what reading it whole gives:
every cell with its type, the merged ranges, hidden rows, unsaved formulas and error values.

The parts are forced on small workbooks by lowering the size limits; the million-row case is
measured by benchmarks/bench_allocate.py."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY, make_id, write_xlsx
from weiwen import load_rosters
from weiwen.read import parted
from weiwen.read.sheet_xml import merged_ranges
from weiwen.read.workbook import read_roster_file

HEADER = ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"]


def roster(n: int) -> list[list[object]]:
    rows: list[list[object]] = [["城关镇张庄村花名册"], HEADER]
    for i in range(n):
        rows.append(["张庄村", str(i // 2 + 1), f"王{i}", make_id(seq=f"{i % 900 + 100}"),
                     "户主" if i % 2 == 0 else "配偶", "低保", 2])
    return rows


def read_whole(m: pytest.MonkeyPatch) -> None:
    """Every sheet read whole by calamine, as before weiwen.read.parted."""
    m.setattr(parted, "SMALL_BYTES", 0)
    m.setattr(parted, "part_count", lambda sheet, shared: 1)


def whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    with monkeypatch.context() as m:
        read_whole(m)
        return sheets_of(path)


def cut_into(m: pytest.MonkeyPatch, parts: int, piece: int) -> None:
    """Cut every sheet into ``parts`` parts, looking for a place to cut every ``piece`` bytes."""
    m.setattr(parted, "SMALL_BYTES", 0)
    m.setattr(parted, "part_count", lambda sheet, shared: parts)
    m.setattr(parted, "PIECE", piece)


def sheets_of(path: Path) -> list[tuple[object, ...]]:
    res = read_roster_file(path)
    return [(s.name, s.rows, s.merged, s.marks) for s in res.sheets] + [tuple(p.code for p in res.problems)]


PART_FILE = re.compile(r"part[0-9]+\.xlsx$")


class PartWatch:
    """The part workbooks a read in parts writes, as the standard library sees them (zipfile.ZipFile is
    replaced by a subclass that notes them): how many parts each read made (0: it fell back to reading
    the sheet whole), which part files were closed, and, when ``full_disk_at`` is set, the write into a
    part's sheet that fails as on a full disk."""

    def __init__(self) -> None:
        self.made: list[int] = []
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.open_at_cleanup: list[list[str]] = []  # parts still open when their folder was removed
        self.full_disk_at: int | None = None
        self.sheet_writes = 0


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> PartWatch:
    seen = PartWatch()
    real_read = parted.read_in_parts

    def counting_read(*args: object) -> parted.PartedSheet | None:
        seen.made.append(0)
        got = real_read(*args)  # type: ignore[arg-type]
        if got is None:
            seen.made[-1] = 0
        return got

    class Stream:
        def __init__(self, stream: object) -> None:
            self.stream = stream

        def write(self, data: bytes) -> int:
            seen.sheet_writes += 1
            if seen.sheet_writes == seen.full_disk_at:
                raise OSError(28, "No space left on device")
            return self.stream.write(data)  # type: ignore[attr-defined, no-any-return]

        def __getattr__(self, name: str) -> object:
            return getattr(self.stream, name)

    class WatchedZipFile(zipfile.ZipFile):
        def __init__(self, file: object, mode: str = "r", *args: object, **kwargs: object) -> None:
            super().__init__(file, mode, *args, **kwargs)  # type: ignore[arg-type]
            self.is_part = mode == "w" and isinstance(file, (str, Path)) and bool(PART_FILE.search(str(file)))
            if self.is_part:
                seen.made[-1] += 1
                seen.opened.append(str(file))

        def open(self, name: object, mode: str = "r", *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            stream = super().open(name, mode, *args, **kwargs)  # type: ignore[arg-type]
            if self.is_part and mode == "w" and isinstance(name, str) and name.startswith("xl/worksheets/"):
                return Stream(stream)
            return stream

        def close(self) -> None:
            if getattr(self, "is_part", False) and str(self.filename) not in seen.closed:
                seen.closed.append(str(self.filename))
            super().close()

    class WatchedFolder(tempfile.TemporaryDirectory):  # type: ignore[type-arg]
        def cleanup(self) -> None:  # the parts' folder is removed: every part must be closed by now
            seen.open_at_cleanup.append(sorted(set(seen.opened) - set(seen.closed)))
            super().cleanup()

    monkeypatch.setattr(parted, "read_in_parts", counting_read)
    monkeypatch.setattr(zipfile, "ZipFile", WatchedZipFile)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", WatchedFolder)
    return seen


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch, watch: PartWatch) -> list[int]:
    """Every sheet is cut into as many as 12 parts; the list records how many parts each read
    made (0: it fell back to reading the sheet whole)."""
    cut_into(monkeypatch, 12, 200)
    return watch.made


def test_parts_give_the_same_cells_merges_and_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     in_parts: list[int]) -> None:
    rows = roster(40)
    rows[10][6] = 3.5
    rows[11][2] = True
    rows[12][3] = 110101199003071234  # an ID Excel turned into a number
    rows[13][4] = datetime(2026, 1, 5)
    rows.insert(20, [])  # an empty row between parts
    rows[30].append("备注写到了第八列")  # one row wider than the rest
    p = write_xlsx(tmp_path / "r.xlsx", rows, merged=["A1:G1", "B3:B4", "B39:B40"], hidden_rows=[7, 33],
                   formulas={"G25": "=1+1"},
                   extra_sheets={"说明": [["填表说明"], ["", "", "右移的表"]], "村2": roster(5)})
    expected = whole(p, monkeypatch)
    got = sheets_of(p)
    assert got == expected
    assert in_parts[0] >= 10 and in_parts[2] >= 2  # the sheets with rows enough to cut were cut
    _, cells, merged, marks = got[0]
    assert sorted(merged) == [(0, 0, 0, 6), (2, 1, 3, 1), (38, 1, 39, 1)]  # type: ignore[call-overload]
    assert marks.hidden_rows == [6, 32] and marks.no_value == [(24, 6)]
    assert cells[12][3] == 1.101011990030712e17 and cells[13][4] == date(2026, 1, 5)  # as Excel keeps them
    assert len({len(r) for r in cells}) == 1  # as wide as the widest row, like a whole read


def test_a_roster_in_parts_gives_the_same_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    in_parts: list[int]) -> None:
    rows = roster(30)
    rows[5][3] = "11010119900307"  # too short: an error at its row
    p = write_xlsx(tmp_path / "r.xlsx", rows, hidden_rows=[9])
    got = load_rosters([p], today=TODAY)
    with monkeypatch.context() as m:
        m.setattr(parted, "SPLIT_BYTES", 1 << 62)
        expected = load_rosters([p], today=TODAY)
    assert in_parts and in_parts[0] >= 5
    assert got.frame.equals(expected.frame)
    assert [(e.row, e.cell, e.code) for e in got.errors] == [(e.row, e.cell, e.code) for e in expected.errors]
    assert {e.code for e in got.errors} >= {"row-hidden", "id-length"}


def rewrite_sheet(src: Path, dst: Path, change) -> Path:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(info.filename, data)
    return dst


def test_rows_without_numbers_are_never_cut_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 in_parts: list[int]) -> None:
    # Some writers leave out a row's number; a part starting with such a row could not be placed.
    src = write_xlsx(tmp_path / "r.xlsx", roster(20))
    p = rewrite_sheet(src, tmp_path / "norow.xlsx", lambda x: re.sub(rb'(<row\b[^>]*?) r="[0-9]+"', rb"\1", x))
    assert b'<row r="' not in zipfile.ZipFile(p).read("xl/worksheets/sheet1.xml")
    assert sheets_of(p) == whole(p, monkeypatch)
    assert in_parts == [1]  # read in parts, but only one: never cut


def test_rows_out_of_order_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          in_parts: list[int]) -> None:
    src = write_xlsx(tmp_path / "r.xlsx", roster(20))

    def swap(xml: bytes) -> bytes:  # the last ten rows written before the others
        rows = re.findall(rb"<row\b.*?</row>", xml, flags=re.DOTALL)
        head, tail = xml.split(rows[0], 1)[0], xml.split(rows[-1], 1)[1]
        return head + b"".join(rows[-10:] + rows[:-10]) + tail

    p = rewrite_sheet(src, tmp_path / "swapped.xlsx", swap)
    expected = whole(p, monkeypatch)
    assert sheets_of(p) == expected
    assert in_parts == [0]  # the parts overlapped: read whole instead
    assert expected[0][1][2][2] == "王0"  # type: ignore[index]


def test_merged_cells_written_before_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              in_parts: list[int]) -> None:
    # The schema puts <mergeCells> after the rows; a writer that puts it first is still read like calamine does.
    src = write_xlsx(tmp_path / "r.xlsx", roster(20), merged=["A1:G1", "B3:B4"])

    def move(xml: bytes) -> bytes:
        merges = re.search(rb"<mergeCells.*?</mergeCells>", xml, flags=re.DOTALL)
        assert merges is not None
        xml = xml.replace(merges.group(0), b"")
        return xml.replace(b"<sheetData>", merges.group(0) + b"<sheetData>")

    p = rewrite_sheet(src, tmp_path / "first.xlsx", move)
    expected = whole(p, monkeypatch)
    assert sorted(expected[0][2]) == [(0, 0, 0, 6), (2, 1, 3, 1)]  # type: ignore[call-overload]
    assert sheets_of(p) == expected
    assert in_parts[0] >= 2


def test_no_room_for_the_parts_falls_back_to_a_whole_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          in_parts: list[int]) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", roster(20), merged=["A1:G1"])
    expected = whole(p, monkeypatch)

    def no_room(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parted.tempfile, "TemporaryDirectory", no_room)
    assert sheets_of(p) == expected
    assert in_parts == [0]


def test_a_failure_half_way_closes_the_part_and_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           in_parts: list[int], watch: PartWatch) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", roster(30))
    expected = whole(p, monkeypatch)
    monkeypatch.setattr(parted.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    watch.full_disk_at = 6  # the sixth write into a part's sheet finds the disk full
    assert sheets_of(p) == expected
    assert in_parts == [0] and watch.sheet_writes == 6
    assert watch.opened and watch.open_at_cleanup == [[]]  # the half-written part was closed, not left to GC
    assert not list((tmp_path / "tmp").iterdir())


def test_a_broken_sheet_in_parts_is_reported_as_a_corrupt_file(tmp_path: Path, in_parts: list[int]) -> None:
    src = write_xlsx(tmp_path / "r.xlsx", roster(20))
    p = rewrite_sheet(src, tmp_path / "broken.xlsx", lambda x: x[:len(x) * 2 // 3])  # cut off mid-row
    res = read_roster_file(p)
    assert [q.code for q in res.problems] == ["file-corrupt"]
    assert in_parts == [0]
    assert not list(tmp_path.glob("weiwen-*"))


def test_part_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_parts: list[int]) -> None:
    monkeypatch.setattr(parted.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    p = write_xlsx(tmp_path / "r.xlsx", roster(30))
    assert len(sheets_of(p)[0][1]) == 32  # type: ignore[arg-type]
    assert in_parts[0] >= 5
    assert not list((tmp_path / "tmp").iterdir())


def test_a_small_sheet_is_read_in_memory_with_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    rows = roster(40)
    rows[12][3] = 110101199003071234
    rows.insert(20, [])
    rows[30].append("备注写到了第八列")
    p = write_xlsx(tmp_path / "r.xlsx", rows, merged=["A1:G1", "B3:B4"], hidden_rows=[7, 33], formulas={"G25": "=1+1"},
                   extra_sheets={"说明": [["填表说明"], ["", "", "右移的表"]], "村2": roster(5)})
    used: list[bool] = []
    real = parted.read_in_one_part

    def spy(*args: object) -> parted.PartedSheet | None:
        got = real(*args)  # type: ignore[arg-type]
        used.append(got is not None)
        return got

    monkeypatch.setattr(parted, "read_in_one_part", spy)
    got = sheets_of(p)
    assert used == [True, True, True]  # every sheet went the in-memory way
    assert got == whole(p, monkeypatch)
    _, _, merged, marks = got[0]
    assert sorted(merged) == [(0, 0, 0, 6), (2, 1, 3, 1)]  # type: ignore[call-overload]
    assert marks.hidden_rows == [6, 32] and marks.no_value == [(24, 6)]


def test_a_small_sheet_calamine_refuses_is_read_whole_and_reported(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "r.xlsx", roster(20))
    p = rewrite_sheet(src, tmp_path / "broken.xlsx", lambda x: x[:len(x) * 2 // 3])
    assert [q.code for q in read_roster_file(p).problems] == ["file-corrupt"]


def test_a_sheet_zipfile_cannot_inflate_is_read_by_calamine_with_a_warning(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A compression Python's zipfile does not implement (Deflate64, for one) where calamine read the cells.
    p = write_xlsx(tmp_path / "r.xlsx", roster(10))
    real_open = zipfile.ZipFile.open

    def no_deflate64(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object) -> object:
        if str(getattr(name, "filename", name)).startswith("xl/worksheets/sheet"):
            raise NotImplementedError("That compression method is not supported")
        return real_open(self, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", no_deflate64)
    intake = load_rosters([p], today=TODAY)
    assert intake.valid_rows == 10
    assert [w.code for w in intake.warnings] == ["marks-unchecked"]
    with monkeypatch.context() as m:  # a large sheet: the cutting thread stops quietly, the sheet is read whole
        cut_into(m, 3, 200)
        seen: list[object] = []
        m.setattr(threading, "excepthook", seen.append)
        assert load_rosters([p], today=TODAY).valid_rows == 10
        assert seen == []


def test_part_count_cuts_only_large_sheets_and_fewer_for_large_shared_strings() -> None:
    """What the part count must do, whatever the measured thresholds: a small sheet is read whole, a
    huge one in parts; a larger sheet never in fewer parts; a large shared-string table (parsed again
    for every part) never means more parts."""
    kb, gb = 1 << 10, 1 << 30
    assert parted.part_count(100 * kb, 0) == 1
    assert parted.part_count(4 * gb, 0) >= 2
    sizes = [k * (1 << 24) for k in range(1, 400)]  # 16 MB steps up to 6.2 GB
    counts = [parted.part_count(n, 0) for n in sizes]
    assert counts == sorted(counts)
    assert all(parted.part_count(n, n // 4) <= parted.part_count(n, 0) for n in sizes)


def test_merged_ranges_as_written() -> None:
    tail = (b'</sheetData><mergeCells count="3"><mergeCell ref="A1:G1"/><x:mergeCell ref=\'B3:B4\'/>'
            b'<mergeCell ref="C7"/></mergeCells><pageMargins left="0.7"/>')
    assert merged_ranges(tail) == [(0, 0, 0, 6), (2, 1, 3, 1), (6, 2, 6, 2)]


cell = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.booleans(), st.text(alphabet="张王李庄村 0123456789<>&\"'", max_size=6))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid=st.lists(st.lists(cell, max_size=6), min_size=1, max_size=25),
       parts=st.integers(2, 30), piece=st.integers(1, 3000))
def test_any_grid_reads_the_same_in_parts(tmp_path_factory: pytest.TempPathFactory, grid: list[list[object]],
                                          parts: int, piece: int) -> None:
    folder = tmp_path_factory.mktemp("grid")
    p = write_xlsx(folder / "g.xlsx", [["标题"], *grid])
    with pytest.MonkeyPatch.context() as m:
        read_whole(m)
        expected = sheets_of(p)
        m.undo()
        assert sheets_of(p) == expected  # small: read in memory as one part
        cut_into(m, parts, piece)
        assert sheets_of(p) == expected
    shutil.rmtree(folder)
