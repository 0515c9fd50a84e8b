"""What fuzzing found (tests/fuzz/fuzz_readers.py), one regression test each; the inputs are in the
corpus as ``found-*`` files, so the fuzzer starts from them too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from weiwen.core import problems as P
from weiwen.read.workbook import read_roster_file

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]


def test_an_id_with_letters_typed_into_it_is_masked(tmp_path: Path) -> None:
    """A CSV row shifted by an unquoted comma put ``110101199003071Nd4`` (an ID whose last digits were
    typed as letters) in 性别: the mask wanted no letter beside the digits, and 15 digits were shown."""
    path = tmp_path / "花名册.csv"
    path.write_bytes((CORPUS / "found-letter-in-id.csv").read_bytes())
    from weiwen.roster.intake import load_rosters

    said = [p.message for p in load_rosters([path], jobs=1).problems if p.code == "sex-invalid"]
    assert said and "110101*****3071Nd4" in said[0] and "110101199003071" not in said[0]


def test_numbers_run_together_are_masked() -> None:
    """Two numbers with nothing between them (21 digits and more) were not masked at all."""
    p = P.make("sex-invalid", file="x.csv", value="11010119900307123413800138000")
    assert "110101199003071234" not in p.message and "13800138000" not in p.message
    assert p.value is not None and "1990030712" not in p.value


def test_a_sheet_that_fails_its_crc_is_corrupt_not_laid_out() -> None:
    """A flipped bit in a deflated sheet: Python's zipfile stops at the CRC, and weiwen used to hand the
    sheet to calamine whole, past the extent check; calamine (which checks no CRC) asked for 512 GB and
    the process aborted.  Read in a child process, so that a regression fails here instead of killing
    the test run."""
    code = ("import json, sys; from pathlib import Path; from weiwen.read.workbook import read_roster_file; "
            "print(json.dumps([p.code for p in read_roster_file(Path(sys.argv[1])).problems]))")
    done = subprocess.run([sys.executable, "-c", code, str(CORPUS / "found-crc-far-cell.xlsx")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["file-corrupt"]


def test_the_crc_check_does_not_refuse_a_sound_workbook() -> None:
    res = read_roster_file(CORPUS / "sample-1.xlsx")
    assert res.readable and res.sheets and len(res.sheets[0].rows) > 50


def test_a_damaged_xls_prints_nothing_on_stdout(tmp_path: Path) -> None:
    """xlrd wrote its remarks on a damaged .xls ("WARNING *** file size (10254) not 512 + multiple of
    sector size") to stdout, in the middle of ``weiwen validate --json``.  The real command, in a child
    process: its stdout is the JSON document and nothing else."""
    path = tmp_path / "花名册.xls"
    path.write_bytes((CORPUS / "found-xlrd-warning.xls").read_bytes())
    done = subprocess.run([sys.executable, "-m", "weiwen", "validate", "--json", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (1, 2), done.stderr[-2000:]
    doc = json.loads(done.stdout)  # fails on any line before the document
    assert doc["files"] and "WARNING" not in done.stdout


RUNAWAYS = Path(__file__).parent / "runaways"


@pytest.mark.parametrize("name,code", [("calamine-137gb.xls", "file-over-budget"), ("calamine-4gb.xls", "file-corrupt"),
                                       ("wide-16135-columns.xls", "sheet-too-large")])
def test_the_runaway_xls_files_fuzzing_found_are_bounded(name: str, code: str) -> None:
    """Damaged .xls files on which calamine lays a grid out as written: 137 GB asked for (the process
    aborted), or 258 x 16,135 cells from 6.6 KB.  Read in the budgeted child (weiwen.read.budget), or
    refused by the .xls column limit; in a subprocess here too, so that a regression fails this test
    instead of killing the run."""
    code_text = ("import json, sys; from pathlib import Path; from weiwen.read.workbook import read_roster_file; "
                 "print(json.dumps([p.code for p in read_roster_file(Path(sys.argv[1])).problems]))")
    done = subprocess.run([sys.executable, "-c", code_text, str(RUNAWAYS / name)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [code]
