"""The ledger against SQLite and a real PostgreSQL: idempotent, atomic, at most once, void keeps history."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tests import paused_weiwen
from tests.ledger_server import shared_url
from tests.conftest import make_id
from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.ledger.store import KEY_ENV, SCHEMA_VERSION, Ledger, meta, records

runner = CliRunner()
HEADER = "户编码,村(社区),户号,户主姓名,身份证号,银行卡号,享受标准,现金,物资折价,合计,联系电话,核定依据\r\n"


def allocation_csv(path: Path, seqs: range, village: str = "张庄村") -> Path:
    lines = [f"no:{village}:{s},{village},{s},人{s},{make_id(seq=f'{s:03d}')},,dibao,500.00,0.00,500.00,,享受“低保”\r\n"
             for s in seqs]
    path.write_text("\ufeff" + HEADER + "".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A throw-away PostgreSQL server on a unix socket (skipped only where none can be started),
    shared by every test module of the process (tests/ledger_server.py)."""
    return shared_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        monkeypatch.delenv(KEY_ENV, raising=False)
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a fresh ledger for every test: every table of every schema version
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    monkeypatch.setenv(KEY_ENV, "ab" * 32)
    return url


def count(ledger: Ledger, status: str = "active") -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(records).where(records.c.status == status)).scalar()


def test_record_is_idempotent_and_stores_no_full_id(ledger_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(ledger_url)
    csv = allocation_csv(tmp_path / "a.csv", range(1, 21))
    first = ledger.record(csv, "镇民政办", "spring-2027")
    again = ledger.record(csv, "镇民政办", "spring-2027")
    assert (first.new, first.conflicts) == (20, []) and again.already_recorded and again.new == 0
    assert count(ledger) == 20
    with ledger.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.select(records)) for v in row)
    assert make_id(seq="001") not in dump and "110101********" in dump


def test_another_office_cannot_pay_the_same_person_twice(ledger_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(ledger_url)
    ledger.record(allocation_csv(tmp_path / "a.csv", range(1, 11)), "镇民政办", "spring-2027")
    other = ledger.record(allocation_csv(tmp_path / "b.csv", range(6, 16)), "县总工会", "spring-2027")
    assert other.new == 5 and len(other.conflicts) == 5
    assert {c.held_by for c in other.conflicts} == {"镇民政办"}
    assert count(ledger) == 15
    next_year = ledger.record(allocation_csv(tmp_path / "c.csv", range(1, 11)), "镇民政办", "spring-2028")
    assert next_year.new == 10  # another period is another campaign


def fail_after(ledger: Ledger, statement: str, error: Callable[[], BaseException | None]) -> list[str]:
    """Once the database has carried out an SQL statement starting with ``statement`` (such as
    "INSERT INTO RECORDS"), raise ``error()`` (unless it is None); returns the list of the statements
    seen, to count them.  SQLAlchemy's public event hook on the ledger's engine: nothing of the
    ledger's own code is replaced."""
    seen: list[str] = []

    @event.listens_for(ledger.engine, "after_cursor_execute")
    def failing(conn, cursor, sql, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(sql)
        if sql.lstrip().upper().startswith(statement):
            exc = error()
            if exc is not None:
                raise exc

    return seen


def test_a_failed_run_leaves_the_ledger_as_it_was(ledger_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(ledger_url)
    ledger.record(allocation_csv(tmp_path / "a.csv", range(1, 6)), "镇民政办", "spring-2027")
    # The run's row and all twenty records are written inside the transaction, then it fails.
    seen = fail_after(ledger, "INSERT INTO RECORDS", lambda: RuntimeError("killed"))
    with pytest.raises(RuntimeError, match="killed"):
        ledger.record(allocation_csv(tmp_path / "b.csv", range(100, 120)), "镇民政办", "spring-2027")
    assert any(q.lstrip().upper().startswith("INSERT INTO RUNS") for q in seen)
    assert count(ledger) == 5
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM runs").scalar() == 1
    again = Ledger.open(ledger_url)  # a new process, as a re-run would be
    assert again.record(tmp_path / "b.csv", "镇民政办", "spring-2027").new == 20  # a re-run completes
    assert count(again) == 25


def test_void_keeps_history_and_frees_the_person(ledger_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(ledger_url)
    ledger.record(allocation_csv(tmp_path / "a.csv", range(1, 4)), "镇民政办", "spring-2027")
    assert ledger.void(make_id(seq="002").lower(), "spring-2027", "举报属实取消") == 1
    assert count(ledger) == 2 and count(ledger, "void") == 1
    voided = [r for r in ledger.rows("spring-2027") if r["status"] == "void"]
    assert voided[0]["void_reason"] == "举报属实取消" and voided[0]["voided_at"]
    again = ledger.record(allocation_csv(tmp_path / "b.csv", range(2, 3)), "镇民政办", "spring-2027")
    assert again.new == 1 and count(ledger) == 3 and count(ledger, "void") == 1


def test_two_concurrent_record_runs_give_one_record_per_person(ledger_url: str, tmp_path: Path) -> None:
    Ledger.create(ledger_url)
    a = allocation_csv(tmp_path / "a.csv", range(1, 301))
    b = allocation_csv(tmp_path / "b.csv", range(450, 150, -1))  # the other office's file runs the other way
    env = {**os.environ}
    procs = [subprocess.Popen([sys.executable, "-m", "weiwen", "ledger", "record", str(f), "--org", org,
                               "--campaign", "spring-2027", "--ledger", ledger_url], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f, org in ((a, "镇民政办"), (b, "县总工会"))]
    codes = [p.wait(timeout=120) for p in procs]
    assert sorted(codes) == [0, 1], [p.stderr.read().decode() for p in procs]  # the later run lists conflicts
    ledger = Ledger.open(ledger_url)
    assert count(ledger) == 450  # 1..450, each once: none lost, none twice
    with ledger.engine.connect() as conn:
        dup = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT person FROM records WHERE status='active' "
            "GROUP BY campaign, person HAVING count(*) > 1) d").scalar()
    assert dup == 0


def test_cli_round_trip_and_hashed_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert runner.invoke(app, ["ledger", "init"]).exit_code == 0
    assert oct((tmp_path / "weiwen-ledger.key").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "weiwen-ledger.db").stat().st_mode & 0o777) == "0o600"
    assert runner.invoke(app, ["ledger", "init"]).exit_code == 2  # never silently re-initialised
    csv = allocation_csv(tmp_path / "a.csv", range(1, 4))
    ok = runner.invoke(app, ["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", "spring-2027"])
    assert ok.exit_code == 0 and "已记入 3 户" in ok.stdout
    out = tmp_path / "hashed.csv"
    assert runner.invoke(app, ["ledger", "export", "-o", str(out)]).exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert len(text.splitlines()) == 4 and "人1" not in text and "110101" not in text
    void = runner.invoke(app, ["ledger", "void", make_id(seq="001"), "--campaign", "spring-2027", "--reason", "重复"])
    assert void.exit_code == 0
    listing = runner.invoke(app, ["ledger", "list"], env={"COLUMNS": "200"})
    assert "作废：重复" in listing.stdout and make_id(seq="001") not in listing.stdout


def test_wrong_key_and_missing_ledger_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    result = runner.invoke(app, ["ledger", "list"])
    assert result.exit_code == 2 and "ledger init" in result.stderr
    Ledger.create(None)
    monkeypatch.setenv(KEY_ENV, "cd" * 32)
    with pytest.raises(WeiwenError, match="密钥"):
        Ledger.open(None)


def test_allocate_and_check_duplicates_consult_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tests.conftest import write_xlsx

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    roster = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别"], ["王一", make_id(seq="001"), "低保"],
                                               ["李二", make_id(seq="002"), "低保"]])
    ledger = Ledger.create(None)
    ledger.record(allocation_csv(tmp_path / "paid.csv", range(1, 2)), "县总工会", "spring-2027")
    result = runner.invoke(app, ["allocate", str(roster), "-c", "spring", "-o", str(tmp_path / "o"), "--json",
                                 "--ledger", "sqlite:///weiwen-ledger.db"])
    doc = json.loads(result.stdout)
    assert doc["households"] == 1
    left = [x for x in doc["excluded"] if x["name"] == "王一"]
    assert left and "县总工会" in left[0]["reason"] and "spring-2027" in left[0]["reason"]
    dup = runner.invoke(app, ["check-duplicates", str(roster), "--ledger", "sqlite:///weiwen-ledger.db", "--json"])
    assert dup.exit_code == 1
    groups = json.loads(dup.stdout)["groups"]
    assert [(g["kind"], g["records"][0]["name"]) for g in groups] == [("ledger", "王一")]
    hashed = tmp_path / "union.csv"
    runner.invoke(app, ["ledger", "export", "-o", str(hashed)])
    against = runner.invoke(app, ["check-duplicates", str(roster), "--against", str(hashed), "--json"])
    reasons = [g["reason"] for g in json.loads(against.stdout)["groups"]]
    assert any("union.csv" in r for r in reasons)


def test_sigkill_during_record_leaves_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    Ledger.create(None)
    n = 300
    big = allocation_csv(tmp_path / "big.csv", range(1, n + 1))
    # Killed with every record written but the transaction not yet committed: none of it stays.
    proc, said = paused_weiwen.start("commit", ["ledger", "record", str(big), "--org", "镇民政办",
                                                "--campaign", "spring-2027"], tmp_path)
    assert said == f"commit {n}"
    paused_weiwen.kill(proc)
    ledger = Ledger.open(None)
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM runs").scalar() == 0
    assert count(ledger) == 0
    # Let go at the same moment instead: all of it stays, and recording the file again adds nobody.
    proc, said = paused_weiwen.start("commit", ["ledger", "record", str(big), "--org", "镇民政办",
                                                "--campaign", "spring-2027"], tmp_path)
    assert said == f"commit {n}"
    code, err = paused_weiwen.go_on(proc)
    assert code == 0, err
    assert count(ledger) == n
    again = ledger.record(big, "镇民政办", "spring-2027")
    assert again.already_recorded and again.new == 0 and count(ledger) == n


def test_a_ledger_from_a_newer_weiwen_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HAZARD 55: never read or write a ledger whose layout this version does not know."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    ledger = Ledger.create(None)
    with ledger.engine.begin() as conn:
        conn.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(WeiwenError) as refused:
        Ledger.open(None)
    assert refused.value.code == "ledger-schema-newer"
    result = runner.invoke(app, ["ledger", "list"])
    assert result.exit_code == 2 and "升级 weiwen" in result.stderr


def test_serialisation_failures_are_retried_a_bounded_number_of_times(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """HAZARD 56: 40001 and 40P01 are tried again (three attempts in all); any other failure is not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    ledger = Ledger.create(None)
    failures: list[str] = []

    def driver_error() -> BaseException | None:
        """What the database driver raises, with the SQLSTATE on it (as psycopg's errors carry it)."""
        if not failures:
            return None
        exc = ledger.engine.dialect.loaded_dbapi.OperationalError(f"sqlstate {failures[0]}")
        exc.sqlstate = failures.pop(0)
        return exc

    seen = fail_after(ledger, "INSERT INTO RECORDS", driver_error)

    def attempts() -> int:  # every attempt starts by writing its run
        n = sum(1 for q in seen if q.lstrip().upper().startswith("INSERT INTO RUNS"))
        seen.clear()
        return n

    failures[:] = ["40001", "40P01"]
    try:
        first = ledger.record(allocation_csv(tmp_path / "a.csv", range(1, 11)), "镇民政办", "spring-2027")
    except DBAPIError as exc:
        raise AssertionError(f"Ledger.record did not try again after SQLSTATE {exc.orig.sqlstate} "  # type: ignore[union-attr]
                             f"(attempts: {attempts()}): the bounded retry of HAZARD 56 is gone") from exc
    assert first.new == 10
    assert attempts() == 3 and count(ledger) == 10

    failures[:] = ["40001"] * 3
    with pytest.raises(WeiwenError) as busy:  # the third failure: the ledger is busy, exit code 3
        ledger.record(allocation_csv(tmp_path / "b.csv", range(20, 30)), "镇民政办", "spring-2027")
    assert busy.value.exit_code == 3 and "稍后再运行" in busy.value.message
    assert attempts() == 3 and failures == []

    failures[:] = ["23505"]
    with pytest.raises(DBAPIError) as refused:
        ledger.record(tmp_path / "b.csv", "镇民政办", "spring-2027")
    assert refused.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
    assert attempts() == 1 and count(ledger) == 10
