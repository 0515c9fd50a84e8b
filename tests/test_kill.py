"""SIGKILL at random moments of ``weiwen allocate``, ``weiwen run`` and ``weiwen ledger record`` (#19).

Each trial starts the real command in a subprocess (``python -m weiwen …``) and kills it with
SIGKILL at one of these moments, chosen by a seeded random generator:

- ``delay``: a random delay within the duration of an uninterrupted run (measured);
- ``event``: the k-th change seen by polling the output folder (a file or folder appearing,
  being renamed or removed);
- ``step``: just before the N-th file-system step (rename, unlink, rmdir), through
  tests/killed_weiwen.py, which wraps the command from outside; ``switch`` counts only the
  renames that move the finished set into place, where a random delay almost never lands.

After each kill: allocate's folder holds the complete old or the complete new set, byte for byte
(a switch killed half way is finished by the next reader or run, and then is the new set), with
the user's own files untouched; run's 最新结果.txt points at a complete folder; the ledger passes
``PRAGMA integrity_check`` and holds each file's records completely or not at all.  Re-runs
succeed, give the bytes of an uninterrupted run and leave no temporary file or staging folder.

The seed is new on every run (``WEIWEN_KILL_SEED`` sets it) and is printed in every assertion
message; ``WEIWEN_KILL_TRIALS`` sets the kills per command (CI: 1).  The long run (docs/hostile.md)::

    WEIWEN_KILL_TRIALS=200 python -m pytest -s tests/test_kill.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_id
from tests.test_ledger import HEADER
from weiwen.app.run import latest_folder
from weiwen.cli import app
from weiwen.core.atomic import TMP_NAME
from weiwen.core.output_set import settle
from weiwen.ledger.store import KEY_ENV, Ledger

runner = CliRunner()
ROOT = Path(__file__).parent.parent
ROSTERS = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
KILLED = Path(__file__).with_name("killed_weiwen.py")
SEED = int(os.environ.get("WEIWEN_KILL_SEED") or int.from_bytes(os.urandom(4), "big"))
TRIALS = int(os.environ.get("WEIWEN_KILL_TRIALS") or 1)
SWITCH = r"写出中/.* -> (?!.*\.weiwen)"  # a rename out of the staging folder into the user's folder
STATE = ".weiwen"
MINE = {"我的说明.txt": b"\xe6\x88\x91", "我的/记录.txt": b"keep"}  # the user's own files in the output folder
HANG = 180  # seconds: only to fail rather than hang
SWITCH_RENAMES = 7  # files of set B (set A has 6)
LONG = TRIALS >= 100  # the long run: every step once, then at random


def sweep(steps: int, *, switch: bool) -> list[tuple[str, int]]:
    """In the long run, the kill points tried first: before every file-system step, before every
    rename of the switch."""
    if not LONG:
        return []
    return [("step", n) for n in range(1, steps + 1)] + [("switch", j) for j in range(1, SWITCH_RENAMES + 1) if switch]


def where(command: str, trial: int, how: str) -> str:
    return f"WEIWEN_KILL_SEED={SEED} {command} trial {trial} (kill at {how})"


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WEIWEN_LEDGER")}


def tree(folder: Path) -> frozenset[str]:
    """Every path under ``folder`` (what polling sees change)."""
    found = set()
    for top, dirs, files in os.walk(folder):
        found.update(os.path.join(top, n) for n in (*dirs, *files))
    return frozenset(found)


class Trial:
    """One subprocess, killed at the moment ``how`` says (or left to finish when it ends first)."""

    def __init__(self, rng: random.Random, typical: float, steps: int, events: int, *, switch: bool,
                 sweep: list[tuple[str, int]]) -> None:
        modes = ["delay", "event", "step", *(["switch"] if switch else [])]
        self.mode = rng.choice(modes)
        self.delay = rng.uniform(0, typical)
        self.k = rng.randint(1, events)
        self.n = rng.randint(1, steps)
        self.j = rng.randint(1, SWITCH_RENAMES)
        if sweep:  # the long run first kills at every step once
            self.mode, point = sweep.pop(0)
            self.n = self.j = point

    @property
    def how(self) -> str:
        return {"delay": f"delay {self.delay:.3f} s", "event": f"event {self.k}", "step": f"step {self.n}",
                "switch": f"switch rename {self.j}"}[self.mode]

    def run(self, args: list[str], cwd: Path, watch: Path, label: str) -> tuple[bool, float]:
        """(killed, seconds); a run that ended before its kill must have succeeded."""
        counted = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115 - removed below
        counted.close()
        if self.mode in ("step", "switch"):
            point = str(self.n) if self.mode == "step" else f"{self.j}:{SWITCH}"
            cmd = [sys.executable, str(KILLED), point, counted.name, *args]
        else:
            cmd = [sys.executable, "-m", "weiwen", *args]
        err = tempfile.TemporaryFile()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=err)
        try:
            if self.mode == "delay":
                try:
                    proc.wait(timeout=self.delay)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
            elif self.mode == "event":
                last, seen = tree(watch), 0
                while proc.poll() is None:
                    now = tree(watch)
                    if now != last:
                        last, seen = now, seen + 1
                        if seen >= self.k:
                            proc.send_signal(signal.SIGKILL)
                            break
                    time.sleep(0.0005)
            proc.wait(timeout=HANG)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.unlink(counted.name)
        err.seek(0)
        said = err.read().decode("utf-8", "replace")
        err.close()
        killed = proc.returncode == -signal.SIGKILL
        assert killed or proc.returncode == 0, f"{label}: exit {proc.returncode}: {said}"
        return killed, time.monotonic() - started


def report(command: str, modes: Counter[str], states: Counter[str], started: float, held: str) -> None:
    """One line for docs/hostile.md's figures (shown with pytest -s)."""
    killed = TRIALS - modes["finished first"]
    print(f"\n{command}: seed {SEED}, {TRIALS} trials, {killed} killed; kill points {dict(sorted(modes.items()))}; "
          f"states after the kill {dict(sorted(states.items()))}; {held}; {time.monotonic() - started:.0f} s")


def files_of(folder: Path, *, skip: Callable[[str], bool] = lambda name: False) -> dict[str, str]:
    """Each file's SHA-256 (compared, they compare the bytes)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(folder.rglob("*")) if p.is_file() and not skip(p.relative_to(folder).as_posix())}


def temporary(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if TMP_NAME.fullmatch(p.name))


# --- allocate ----------------------------------------------------------------------------------------

def outside_state(name: str) -> bool:
    """Not part of the output set: weiwen's hidden state, the user's files, leftover temporary files."""
    return name.split("/")[0] == STATE or name in MINE or TMP_NAME.fullmatch(name.rsplit("/", 1)[-1]) is not None


Sets = dict[str, tuple[list[str], dict[str, str], Path]]


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Sets:
    """Two output sets from uninterrupted runs: A (three villages) and B (two villages and a
    comparison with A, a file A has not): the arguments, the bytes and the folder."""
    base = tmp_path_factory.mktemp("sets")
    a = ["allocate", *map(str, ROSTERS), "--campaign", "spring"]
    result = runner.invoke(app, [*a, "-o", str(base / "A")])
    assert result.exit_code == 0, result.output
    shutil.copy(base / "A" / "allocation.csv", base / "上次.csv")
    b = ["allocate", *map(str, ROSTERS[:2]), "--campaign", "spring", "--compare-with", str(base / "上次.csv")]
    result = runner.invoke(app, [*b, "-o", str(base / "B")])
    assert result.exit_code == 0, result.output
    out = {name: (args, files_of(base / name, skip=outside_state), base / name) for name, args in (("A", a), ("B", b))}
    assert set(out["B"][1]) - set(out["A"][1]) == {"与上次名单对比.xlsx"}
    assert out["A"][1]["慰问明细.xlsx"] != out["B"][1]["慰问明细.xlsx"]
    return out


def allocate_in(out: Path, args: list[str], label: str) -> None:
    """An uninterrupted allocate into ``out``: it succeeds and leaves exactly the set's bytes, no
    temporary file, no staging, no journal."""
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, f"{label}: {result.output}"
    assert sorted(p.name for p in (out / STATE).iterdir()) == ["输出清单.json", "锁"], label
    assert temporary(out) == [], label


def test_allocate_killed_at_random_leaves_all_old_or_all_new(tmp_path: Path, sets: Sets) -> None:
    rng = random.Random(f"{SEED}-allocate")
    out = tmp_path / "结果"
    shutil.copytree(sets["A"][2], out)  # as allocate left it (.weiwen included)
    for name, data in MINE.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    # Temporary files an older weiwen left when it was killed: the next run removes them.
    for stale in (out / ".慰问明细.xlsx.k2j4x9ab.tmp", out / "我的" / ".公示名单.xlsx.0a1b2c3d.tmp"):
        stale.write_bytes(b"PK\x03\x04 half")
        os.utime(stale, (time.time() - 60, time.time() - 60))
    planted = temporary(out)
    current, typical, states, modes = "A", 2.5, Counter(), Counter()
    points, started = sweep(20, switch=True), time.monotonic()
    for trial in range(1, TRIALS + 1):
        new = "B" if current == "A" else "A"
        t = Trial(rng, typical, steps=20, events=20, switch=True, sweep=points)
        label = where("allocate", trial, t.how)
        killed, took = t.run([*sets[new][0], "-o", str(out)], tmp_path, out, label)
        if not killed:
            typical = max(typical, took)
        modes[t.mode if killed else "finished first"] += 1
        seen = files_of(out, skip=outside_state)
        assert {n: (out / n).read_bytes() for n in MINE} == MINE, label
        left = [n for n in temporary(out) if not n.startswith(f"{STATE}/")]
        assert set(left) <= set(planted), label  # nothing temporary outside the hidden folder
        if (out / STATE / "提交.json").is_file():  # killed while renaming the finished set into place
            state = ("switching: none renamed yet" if seen == sets[current][1] else
                     "switching: all renamed" if seen == sets[new][1] else "switching: half renamed")
            if rng.random() < 0.5:
                settle(out)  # as a reader of the set does (publish, approve, payment, ledger record)
                assert files_of(out, skip=outside_state) == sets[new][1], label
            current = new
        elif seen == sets[current][1]:
            state = "old"
        else:
            assert seen == sets[new][1], (f"{label}: a mixed set: "
                                          f"{sorted(n for n in seen if sets[new][1].get(n) != seen[n])} not new, "
                                          f"{sorted(n for n in seen if sets[current][1].get(n) != seen[n])} not old")
            state, current = "new", new
        states[state] += 1
        # The next run (sometimes right away, always after a half-done switch) finishes what was
        # left and writes its own set exactly.
        if state.startswith("switching") or rng.random() < 0.3 or trial == TRIALS:
            again = rng.choice("AB")
            allocate_in(out, sets[again][0], f"{label}, then a run of {again}")
            assert files_of(out, skip=outside_state) == sets[again][1], label
            current = again
            planted = []
    assert {n: (out / n).read_bytes() for n in MINE} == MINE
    report("allocate", modes, states, started, "0 mixed sets")


def test_allocate_killed_mid_switch_is_finished_by_the_next_run(tmp_path: Path, sets: Sets) -> None:
    """The one state a kill can leave that is neither set: killed between two renames of the switch
    (B's comparison already moved in, the rest still A's).  The next allocate finishes the switch
    first — so it knows B's comparison belongs to the set — and then writes its own: A again,
    without B's comparison."""
    out = tmp_path / "结果"
    shutil.copytree(sets["A"][2], out)
    proc = subprocess.run([sys.executable, str(KILLED), f"2:{SWITCH}", str(tmp_path / "n"), *sets["B"][0], "-o", str(out)],
                          env=env(), capture_output=True, check=False, timeout=HANG)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode("utf-8", "replace")
    seen = files_of(out, skip=outside_state)
    moved = sorted(n for n in seen if seen[n] == sets["B"][1].get(n) != sets["A"][1].get(n))
    assert len(moved) == 1 and (out / STATE / "提交.json").is_file()
    allocate_in(out, sets["A"][0], "run after the kill")
    assert files_of(out, skip=outside_state) == sets["A"][1]  # 与上次名单对比.xlsx went with B


# --- run ----------------------------------------------------------------------------------------------



def complete(folder: Path, reference: dict[str, str], label: str) -> None:
    """A run folder with its manifest, every output listed with its digest, the bytes of an
    uninterrupted run."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    found = files_of(folder, skip=lambda n: n == "manifest.json")
    assert set(listed) == set(found), label
    assert all(listed[n].startswith(found[n]) for n in listed), label
    assert found == reference, label


def test_run_killed_at_random_keeps_the_latest_folder_complete(office: Path) -> None:
    rng = random.Random(f"{SEED}-run")
    root = office / "输出"
    first = runner.invoke(app, ["run", "spring", "--json"])
    assert first.exit_code == 0, first.output
    reference = files_of(Path(json.loads(first.stdout)["folder"]), skip=lambda n: n == "manifest.json")
    typical, states, modes = 3.0, Counter(), Counter()
    points, started = sweep(14, switch=False), time.monotonic()
    for trial in range(1, TRIALS + 1):
        before = latest_folder(root)
        t = Trial(rng, typical, steps=14, events=24, switch=False, sweep=points)
        label = where("run", trial, t.how)
        killed, took = t.run(["run", "spring"], office, root, label)
        if not killed:
            typical = max(typical, took)
        modes[t.mode if killed else "finished first"] += 1
        latest = latest_folder(root)
        assert latest is not None, label
        complete(latest, reference, label)
        for folder in root.iterdir():  # every dated folder a user sees is complete
            if folder.is_dir() and not folder.name.startswith("."):
                complete(folder, reference, label)
        states["previous" if latest == before else "new"] += 1
        if rng.random() < 0.3 or trial == TRIALS:
            again = runner.invoke(app, ["run", "spring", "--json"])
            assert again.exit_code == 0, f"{label}, then a run: {again.output}"
            assert latest_folder(root) == Path(json.loads(again.stdout)["folder"]).resolve(), label
            assert not list(root.glob(".*.partial")) and temporary(root) == [], label
            complete(latest_folder(root), reference, label)
    report("run", modes, states, started, "最新结果.txt always at a complete folder")


# --- ledger record ------------------------------------------------------------------------------------

HOUSEHOLDS = 1000  # a transaction long enough to be killed inside


def big_allocation_csv(path: Path) -> Path:
    lines = []
    for s in range(HOUSEHOLDS):
        pid = make_id(birth=f"19{60 + s // 1000}0307", seq=f"{s % 1000:03d}")
        lines.append(f"no:张庄村:{s},张庄村,{s},人{s},{pid},,dibao,500.00,0.00,500.00,,享受“低保”\r\n")
    path.write_text("\ufeff" + HEADER + "".join(lines), encoding="utf-8")
    return path


def ledger_counts(db: Path, campaign: str) -> tuple[str, int, int, int, int]:
    """(integrity_check, runs, records, persons, persons recorded twice) of a campaign, read with sqlite3 itself."""
    conn = sqlite3.connect(db)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        runs, records, persons, doubled = (conn.execute(sql, (campaign,)).fetchone()[0] for sql in (
            "SELECT count(*) FROM runs WHERE campaign = ?", "SELECT count(*) FROM records WHERE campaign = ?",
            "SELECT count(*) FROM persons WHERE campaign = ?",
            "SELECT count(*) FROM (SELECT person FROM persons WHERE campaign = ? GROUP BY person HAVING count(*) > 1)"))
    finally:
        conn.close()
    return check, runs, records, persons, doubled


def test_ledger_record_killed_at_random_records_all_or_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(f"{SEED}-ledger")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    Ledger.create(None)
    db = tmp_path / "weiwen-ledger.db"
    csv = big_allocation_csv(tmp_path / "allocation.csv")
    typical, states, modes, started = 2.0, Counter(), Counter(), time.monotonic()
    for trial in range(1, TRIALS + 1):
        campaign = f"spring-{trial}"  # each trial records the file afresh
        t = Trial(rng, typical, steps=1, events=6, switch=False, sweep=[])
        if t.mode == "step":  # SQLite renames nothing: kill late instead, where the transaction is
            t.mode, t.delay = "delay", rng.uniform(0.6 * typical, typical)
        label = where("ledger record", trial, t.how)
        killed, took = t.run(["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", campaign],
                             tmp_path, tmp_path, label)
        if not killed:
            typical = max(typical, took)
        modes[t.mode if killed else "finished first"] += 1
        check, runs, records, persons, doubled = ledger_counts(db, campaign)
        assert check == "ok" and doubled == 0, label
        assert (runs, records, persons) in ((0, 0, 0), (1, HOUSEHOLDS, HOUSEHOLDS)), \
            f"{label}: {runs} runs, {records} records, {persons} persons"
        verified = runner.invoke(app, ["ledger", "verify"])  # the hash-chained log: nothing half written
        assert verified.exit_code == 0, f"{label}: {verified.output}"
        states["recorded" if runs else "nothing"] += 1
        again = runner.invoke(app, ["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", campaign])
        assert again.exit_code == 0, f"{label}, then again: {again.output}"
        assert ("已经记过账了" in again.stdout) == bool(runs), label
        assert ledger_counts(db, campaign) == ("ok", 1, HOUSEHOLDS, HOUSEHOLDS, 0), label
    report("ledger record", modes, states, started, "integrity_check ok, 0 partial records, 0 duplicates")


def test_a_second_allocate_into_a_folder_being_written_exits_3(tmp_path: Path, sets: Sets) -> None:
    """Two writers never switch sets into one folder at once: the second exits 3 and changes nothing."""
    from filelock import FileLock

    out = tmp_path / "结果"
    shutil.copytree(sets["A"][2], out)
    before = files_of(out)
    with FileLock(str(out / STATE / "锁")):  # as an allocate writing there holds it
        result = runner.invoke(app, [*sets["B"][0], "-o", str(out)])
    assert result.exit_code == 3 and "另一个 weiwen 正在向文件夹" in result.stderr, result.output
    assert files_of(out) == before
