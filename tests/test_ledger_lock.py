"""A ledger another run is writing: exit code 3 and a Chinese message, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from weiwen.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [["ledger", "list"], ["ledger", "void", "110101199003071233", "--campaign", "c",
                                                             "--reason", "测试"]])
def test_a_locked_ledger_is_exit_code_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    db = tmp_path / "台账.db"
    url = f"sqlite:///{db}"
    monkeypatch.setenv("WEIWEN_LEDGER_KEY", "ab" * 16)
    assert runner.invoke(app, ["ledger", "init", "--ledger", url]).exit_code == 0
    monkeypatch.setattr("weiwen.ledger.store.BUSY_SECONDS", 0.05)
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")  # another run in the middle of writing
    try:
        result = runner.invoke(app, [*command, "--ledger", url])
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 3, result.output
    assert "台账被另一个任务占用" in result.output
    assert "Traceback" not in result.output


def test_a_password_in_the_ledger_address_reaches_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL was turned into text on its way to the driver, and SQLAlchemy writes a password as ***
    there: the server was always sent the wrong password."""
    import sqlalchemy as sa

    from weiwen.ledger import store

    given: list[object] = []
    monkeypatch.setattr(store.sa, "create_engine", lambda url, **_: given.append(url))
    store.Ledger("postgresql://办公室:s3cret@db.example/ledger", b"k" * 32)  # no connection is made yet
    sent = sa.engine.make_url(given[0])  # type: ignore[arg-type]
    assert sent.password == "s3cret" and sent.drivername == "postgresql+psycopg"
