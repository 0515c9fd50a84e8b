"""The fuzzing harness in the test suite: the seed corpus replayed, and a short coverage-guided run.

tests/fuzz/fuzz_readers.py is the harness (atheris + libFuzzer); tests/fuzz/corpus/ its seeds, which
include every input fuzzing found that once broke weiwen (``found-*``).  Here every corpus file is
read with each suffix (.xlsx, .xls, .csv) through the reader and the intake, and a short run of the
fuzzer itself (1,000 executions, about 10 s) starts from the corpus.  The long run (100,000
executions and more) is a manual step: docs/hostile.md, 覆盖率引导的模糊测试.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.fuzz_readers import CORPUS, SUFFIXES, Leak, Reader, fuzz_suffix, natural_suffix
from weiwen.core import problems as P

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent / "fuzz_readers.py"
SEEDS = sorted(CORPUS.iterdir())


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_the_corpus_is_small_and_varied() -> None:
    kinds = {natural_suffix(p.read_bytes()) for p in SEEDS}
    assert kinds == set(SUFFIXES)
    assert 30 <= len(SEEDS) <= 80
    assert sum(p.stat().st_size for p in SEEDS) <= 1_000_000


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_corpus_file_is_read_without_a_finding(reader: Reader, suffix: str) -> None:
    """Any exception out of the reader or the intake, or a full number in a problem, fails here."""
    said = {p.name: reader.check(p.read_bytes(), suffix) for p in SEEDS}
    known = {k.code for k in P.all_kinds()}
    assert {p.code for problems in said.values() for p in problems} <= known  # type: ignore[attr-defined]
    # A damaged file is never read as a roster without a word: each corpus file says something.
    assert not [name for name, problems in said.items() if not problems]


def test_the_harness_catches_a_full_number(reader: Reader) -> None:
    """The leak check itself can fail: a problem carrying 11 digits raises Leak."""
    class Loud:
        code, message, hint, value, sheet, column = "x", "电话 13800138000", "", None, None, None

    with pytest.raises(Leak):
        reader.leak_check([Loud()])


def test_the_suffix_follows_the_content() -> None:
    assert natural_suffix(b"PK\x03\x04rest") == ".xlsx"
    assert natural_suffix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest") == ".xls"
    assert natural_suffix("姓名,身份证号\n".encode()) == ".csv"
    chosen = [fuzz_suffix(p.read_bytes()) == natural_suffix(p.read_bytes()) for p in SEEDS]
    assert any(chosen) and not all(chosen)


def _memory_cap() -> None:
    """At most 4 GB of address space for the fuzzer: an input that makes a reader take all memory fails
    the run instead of the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, 4_000_000_000))


def test_a_short_coverage_guided_run_finds_nothing(tmp_path: Path) -> None:
    """1,000 executions of the fuzzer from the corpus (its new inputs go to a scratch folder): exit 0,
    no crash, timeout or leak saved.  A finding fails with libFuzzer's report and the input's path."""
    work, found = tmp_path / "work", tmp_path / "found"
    work.mkdir()
    found.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": "0", "RUST_BACKTRACE": "0"}  # the same run each time
    done = subprocess.run([sys.executable, str(HARNESS), str(work), str(CORPUS), "-runs=1000", "-seed=2027",
                           "-timeout=30", "-rss_limit_mb=3000", f"-artifact_prefix={found}/"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, preexec_fn=_memory_cap)
    assert done.returncode == 0 and not list(found.iterdir()), done.stderr[-4000:]
    assert "Done 1000 runs" in done.stderr
