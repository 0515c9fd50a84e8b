"""Hostile and damaged rosters at volume: no crash, no abort, no full ID or phone in any message.

tests/hostile.py makes the cases from the sample rosters and a seed (2,000 per run here: crafted
containers and sheets, CSV edge cases, byte mutations); a child process reads them 50 files at a
time through the library, as ``weiwen validate`` does, so that a native abort (the process killed
by a reader) fails this test with the batch it died in instead of killing the test run.  A sample
of the crafted files also goes through the real command line.  The long run: docs/hostile.md.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import cases
from weiwen.core import problems as P

ROOT = Path(__file__).parent.parent
SEED = int(os.environ.get("WEIWEN_HOSTILE_SEED", "2027"))
COUNT = int(os.environ.get("WEIWEN_HOSTILE_CASES", "2000"))
WEIWEN = Path(sys.executable).parent / "weiwen"
LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{11,18}[0-9Xx]?(?![0-9])")
EXPECTED = {  # crafted case -> a problem it must be reported with
    "far-cell.xlsx": "sheet-too-large",
    "far-row.xlsx": "sheet-too-large",
    "no-sheet-part.xlsx": "file-corrupt",
    "no-workbook-part.xlsx": "file-unsupported",
    "html.xls": "file-is-html",
    "encrypted-flag.xlsx": "file-corrupt",
    "empty.xlsx": "file-empty",
    "huge-cell.xlsx": "cell-too-long",
    "shifted.csv": "sex-invalid",
    "error-values.xlsx": "rows-skipped-footer",  # #GETTING_DATA below the footer: the sheet is read, not refused
    "zip-lying-sheet.xlsx": "file-corrupt",
    "zip-lying-sheet-crc.xlsx": "file-corrupt",
    "zip-lying-strings.xlsx": "file-corrupt",
    "ole-fat-loop.xls": "file-corrupt",
    "ole-fat-self.xls": "file-corrupt",
    "ole-dir-loop.xls": "file-corrupt",
    "ole-minifat-loop.xls": "file-corrupt",
    "ole-difat-loop.xls": "file-corrupt",
    "ole-past-end.xls": "file-corrupt",
    "xls-password.xls": "file-encrypted",
}
PEAK_KB = 1 << 20  # 1 GB: the run's peak memory, children included (a lying zip member alone took 2.1 GB)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, object]], list[int]]:
    """Every case's line, by name; and the peak memory lines (one, at the end)."""
    folder = tmp_path_factory.mktemp("hostile")
    done = subprocess.run([sys.executable, "-m", "tests.hostile", str(SEED), str(COUNT), str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    started = [line["start"] for line in lines if "start" in line]
    assert done.returncode == 0, (f"the reader died (exit {done.returncode}) in the batch {started[-1] if started else '?'}"
                                  f" (seed {SEED}):\n{done.stderr[-3000:]}")
    peak = [line["peak_kb"] for line in lines if "peak_kb" in line]
    return {line["name"]: line for line in lines if "name" in line}, peak


@pytest.fixture(scope="module")
def read(run: tuple[dict[str, dict[str, object]], list[int]]) -> dict[str, dict[str, object]]:
    return run[0]


def test_every_case_is_read_to_the_end(read: dict[str, dict[str, object]]) -> None:
    assert len(read) == COUNT


def test_the_run_stays_within_the_memory_budget(run: tuple[dict[str, dict[str, object]], list[int]]) -> None:
    """Peak RSS of the reading process and of every child it waited for (each legacy .xls is read in
    one), as getrusage reports it: zip bombs whose headers lie, OLE chains that loop, among them."""
    (peak,) = run[1]
    assert 0 < peak <= PEAK_KB


def test_error_values_calamine_does_not_know_are_read_as_error_cells(read: dict[str, dict[str, object]]) -> None:
    assert "file-corrupt" not in read["error-values.xlsx"]["codes"]  # type: ignore[operator]


def test_every_problem_is_one_of_the_catalogue(read: dict[str, dict[str, object]]) -> None:
    known = {k.code for k in P.all_kinds()}
    unknown = {(name, code) for name, r in read.items() for code in r["codes"] if code not in known}  # type: ignore[attr-defined]
    assert not unknown


def test_no_message_carries_a_full_number(read: dict[str, dict[str, object]]) -> None:
    leaked = {name: m for name, r in read.items() for m in r["said"] if LONG_NUMBER.search(m)}  # type: ignore[attr-defined]
    assert not leaked, list(leaked.items())[:3]


def test_crafted_files_are_named_for_what_they_are(read: dict[str, dict[str, object]]) -> None:
    wrong = {name: read[name]["codes"] for name, code in EXPECTED.items() if code not in read[name]["codes"]}  # type: ignore[operator]
    assert not wrong


def test_damaged_files_are_not_read_as_rosters(read: dict[str, dict[str, object]]) -> None:
    """Most mutants break the zip: each must say so, not pass as a roster with fewer people."""
    mutants = [r for name, r in read.items() if name.startswith("mutant-")]
    silent = [r["name"] for r in mutants if not r["codes"]]
    assert len(silent) < len(mutants) // 10, silent[:10]


@pytest.mark.parametrize("name", ["far-cell.xlsx", "no-sheet-part.xlsx", "big-field.csv", "whole-merge.xlsx",
                                  "encrypted-flag.xlsx", "shifted.csv", "ole-dir-loop.xls", "zip-lying-sheet.xlsx"])
def test_the_command_line_says_it_in_chinese(name: str, tmp_path: Path) -> None:
    data = dict(cases(SEED, 40))[name]
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run([str(WEIWEN), "validate", str(path), "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "内部错误" not in done.stderr + done.stdout
    assert not LONG_NUMBER.search(done.stdout + done.stderr)
    assert path.read_bytes() == data  # the input is never changed


@pytest.mark.parametrize("command", ["allocate", "check-duplicates"])
def test_allocate_and_check_duplicates_on_a_folder_of_hostile_rosters(command: str, tmp_path: Path) -> None:
    """The other two commands that read rosters, through the real command line, on 40 cases beside a
    sound roster: a documented exit code, no traceback, no full number; allocate writes nothing when
    a roster cannot be read (no partial output set), and changes no input."""
    inputs = tmp_path / "花名册"
    inputs.mkdir()
    made = dict(cases(SEED + 1, 40))
    for name, data in made.items():
        (inputs / name).write_bytes(data)
    sound = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))[0]
    (inputs / sound.name).write_bytes(sound.read_bytes())
    out = tmp_path / "结果"
    args = [str(WEIWEN), command, *sorted(str(p) for p in inputs.iterdir())]
    if command == "allocate":
        args += ["--campaign", "spring", "-o", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=ROOT)
    said = done.stdout + done.stderr
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in said and "内部错误" not in said
    assert not LONG_NUMBER.search(said)
    if command == "allocate":  # some of the crafted files cannot be read at all: nothing is written
        assert done.returncode == 2, done.stdout[-2000:]
        written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
        assert not written, written[:5]
    assert all((inputs / name).read_bytes() == data for name, data in made.items())
