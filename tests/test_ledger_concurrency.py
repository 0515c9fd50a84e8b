"""Several processes recording at the same moment, on SQLite and on a real PostgreSQL (issue #19,
HAZARDS G4 and row 56): however they interleave, the ledger ends with exactly one set of rows and
every process ends with a documented exit code — never 4 (a unique violation on the run key, SQLSTATE
23505, is the run "already recorded").

The processes are forked from the test (so they start at once, with weiwen already imported) and
wait at a barrier, then each runs ``weiwen ledger record`` on the same allocation.  Nothing here
measures time.  ``WEIWEN_LEDGER_TRIALS`` sets how many trials (default 5; the figures in
docs/hostile.md are from 60 trials of 2–8 processes)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from typer.testing import CliRunner

from tests import ledger_server, test_ledger
from tests.conftest import make_id
from tests.test_ledger_v2 import write_allocation
from weiwen.cli import app
from weiwen.ledger.schema import runs
from weiwen.ledger.store import KEY_ENV, Ledger

# tests/test_ledger.py's fresh ledger on SQLite and on PostgreSQL, on the server this module shares
# with the other ledger test modules (tests/ledger_server.py).
ledger_url = test_ledger.ledger_url


@pytest.fixture
def postgres_url() -> str:
    return ledger_server.shared_url()


TRIALS = int(os.environ.get("WEIWEN_LEDGER_TRIALS", "5"))
DOCUMENTED = {0, 1, 3}  # ledger record: recorded or already recorded / conflicts / ledger busy
CAMPAIGN = "spring-2027"
runner = CliRunner()


def _record(barrier: multiprocessing.synchronize.Barrier, args: list[str], out: str) -> None:  # pragma: no cover
    """In the forked child: wait for the others, run ``weiwen ledger record``, exit with its code."""
    from weiwen.cli import app

    code = 4
    with open(out, "w", encoding="utf-8") as fh:
        sys.stdout = sys.stderr = fh  # type: ignore[assignment]
        try:
            barrier.wait(timeout=60)
            app(args=args, prog_name="weiwen")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 4
        except BaseException as exc:  # noqa: BLE001 - anything else is a failure the parent sees
            print(f"{exc.__class__.__name__}: {exc}", file=fh)
        fh.flush()
    os._exit(code)


def run_at_once(args: list[str], n: int, folder: Path) -> list[tuple[int, str]]:
    """``weiwen ARGS`` in ``n`` processes started together: each one's exit code and output."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(n)
    outs = [str(folder / f"out-{k}.txt") for k in range(n)]
    procs = [ctx.Process(target=_record, args=(barrier, args, outs[k])) for k in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    return [(int(p.exitcode if p.exitcode is not None else -1), Path(o).read_text(encoding="utf-8"))
            for p, o in zip(procs, outs, strict=True)]


def households(trial: int, n: int) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """``n`` households of two persons each, different in every trial."""
    return [(str(k), f"户主{k}", make_id(seq=f"{(trial * 40 + k) % 1000:03d}", birth=f"19{60 + trial % 30}0101"),
             [(f"成员{k}", make_id(seq=f"{(trial * 40 + k) % 1000:03d}", birth=f"19{60 + trial % 30}0202"))])
            for k in range(1, n + 1)]


def active_rows(ledger: Ledger, campaign: str) -> tuple[int, int, int, int]:
    """(runs, active records, active persons, persons with more than one active row) of ``campaign``."""
    with ledger.engine.connect() as conn:
        q = conn.exec_driver_sql
        return (q(f"SELECT count(*) FROM runs WHERE campaign='{campaign}'").scalar(),
                q(f"SELECT count(*) FROM records WHERE status='active' AND campaign='{campaign}'").scalar(),
                q(f"SELECT count(*) FROM persons WHERE status='active' AND campaign='{campaign}'").scalar(),
                q("SELECT count(*) FROM (SELECT person FROM persons WHERE status='active' "
                  "GROUP BY campaign, person HAVING count(*) > 1) d").scalar())


def test_processes_recording_the_same_file_at_once_record_it_once(ledger_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(ledger_url)
    ledger.engine.dispose()  # no connection of this process is carried into the forked ones
    for trial in range(TRIALS):
        n = 2 + trial % 7 if TRIALS > 5 else 4  # the long run: 2..8 processes; CI: 4
        campaign = f"{CAMPAIGN}-{trial}"
        csv = write_allocation(tmp_path / f"t{trial}", households(trial, 6))
        ran = run_at_once(["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", campaign,
                           "--ledger", ledger_url], n, tmp_path / f"t{trial}")
        assert all(code in DOCUMENTED for code, _ in ran), ran
        assert "Traceback" not in "".join(out for _, out in ran)
        recorded = [out for code, out in ran if code == 0 and "已记入 6 户、12 人" in out]
        again = [out for code, out in ran if code == 0 and "已经记过账" in out]
        assert len(recorded) == 1, ran  # one process recorded it; every other one found it recorded
        assert len(recorded) + len(again) + sum(code == 3 for code, _ in ran) == n, ran
        assert active_rows(ledger, campaign) == (1, 6, 12, 0)
        ledger.engine.dispose()


def test_a_unique_violation_on_the_run_key_is_tried_again(ledger_url: str, tmp_path: Path) -> None:
    """A real unique violation (PostgreSQL 23505; SQLite's UNIQUE constraint) on the run's key: the
    transaction is rolled back and tried again, and the run is recorded once."""
    ledger = Ledger.create(ledger_url)
    csv = write_allocation(tmp_path / "a", households(0, 6))
    runs_written: list[str] = []

    @event.listens_for(ledger.engine, "before_cursor_execute")
    def twice(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO RUNS"):
            runs_written.append(statement)
            if len(runs_written) == 1:
                cursor.execute(statement, parameters)  # the same run, first: the real insert now violates its key

    result = ledger.record(csv, "镇民政办", CAMPAIGN)
    assert len(runs_written) == 2  # the first attempt failed at its run, the second recorded it
    assert (result.new, result.persons, result.already_recorded) == (6, 12, False)
    assert active_rows(ledger, CAMPAIGN) == (1, 6, 12, 0)


def test_a_run_another_office_recorded_first_is_already_recorded(postgres_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #19: another office's run with the same key committed between this run's look for it and
    its insert (PostgreSQL reports 23505): exit code 0 and the re-record's message, not exit code 4."""
    url = postgres_url
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    monkeypatch.setenv(KEY_ENV, "ab" * 32)
    Ledger.create(url)
    csv = write_allocation(tmp_path / "a", households(1, 6))
    other: list[str] = []

    def office_b_first(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not other and "FROM runs" in statement and "run_key" in statement:
            key = next(v for v in parameters.values() if isinstance(v, str) and len(v) == 64)
            other.append(key)
            with engine.begin() as b:  # the other office, which does not wait for this run's lock
                b.execute(runs.insert().values(run_key=key, campaign=CAMPAIGN, org="县总工会", source="allocation.csv",
                                               recorded_at="2027-01-20T09:30:00+08:00", households=0))

    event.listen(sa.engine.Engine, "after_cursor_execute", office_b_first)
    try:
        result = runner.invoke(app, ["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", CAMPAIGN,
                                     "--ledger", url])
    finally:
        event.remove(sa.engine.Engine, "after_cursor_execute", office_b_first)
        engine.dispose()
    assert len(other) == 1
    assert result.exit_code == 0, result.output
    assert "这个文件已经记过账了" in result.stdout
    assert active_rows(Ledger.open(url), CAMPAIGN)[:2] == (1, 0)  # the other office's run, and nothing added
