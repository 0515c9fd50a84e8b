"""Shared helpers: build real workbooks in a temporary folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import openpyxl
from hypothesis import settings
import pytest

from weiwen.core.ids import check_digit

TODAY = date(2026, 11, 23)

# No test may pass or fail by how fast the machine is: Hypothesis's per-example deadline (200 ms by
# default) is a timing assertion, and a loaded CI machine trips it.  Every test keeps its own
# max_examples; only the deadline is lifted.
settings.register_profile("weiwen", deadline=None)
settings.load_profile("weiwen")


def make_id(region: str = "110101", birth: str = "19900307", seq: str = "123") -> str:
    body = region + birth + seq
    return body + check_digit(body)


def id_ending_in_x(region: str = "110101", birth: str = "19850101") -> str:
    for n in range(1000):
        body = f"{region}{birth}{n:03d}"
        if check_digit(body) == "X":
            return body + "X"
    raise AssertionError("no sequence gives X")


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, sheet: str = "花名册",
               merged: Sequence[str] = (), extra_sheets: dict[str, Sequence[Sequence[object]]] | None = None,
               hidden: Sequence[str] = (), hidden_rows: Sequence[int] = (),
               formulas: dict[str, str] | None = None) -> Path:
    """A workbook whose cells hold exactly the Python values given (numbers stay numbers).

    ``hidden_rows`` are Excel row numbers to hide; ``formulas`` puts real formulas in cells
    ({"F3": "=VLOOKUP(...)"}), saved as openpyxl saves them: with no calculated result."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(list(r))
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that merely looks like a formula, as typed with a leading '
    for rng in merged:
        ws.merge_cells(rng)
    for r in hidden_rows:
        ws.row_dimensions[r].hidden = True
    for ref, formula in (formulas or {}).items():
        ws[ref] = formula
    for name, srows in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for r in srows:
            other.append(list(r))
        if name in hidden:
            other.sheet_state = "hidden"
    wb.save(path)
    return path


@pytest.fixture
def today() -> date:
    return TODAY


ROOT = Path(__file__).parent.parent


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder with the samples and the bundled rules, as an office keeps them (the cwd)."""
    work = tmp_path / "weiwen"
    shutil.copytree(ROOT / "samples", work / "samples")
    shutil.copytree(ROOT / "rules", work / "rules")
    monkeypatch.chdir(work)
    yield work
