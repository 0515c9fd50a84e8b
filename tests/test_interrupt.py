"""Ctrl-C during a command: exit code 130, a Chinese message, and no half-written output left behind.

The interrupt is raised where a user's Ctrl-C can land: while a workbook is being saved (the
workbook writer's public ``save``), or as the ledger's transaction commits (SQLAlchemy's public
``commit`` event)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rustpy_xlsxwriter as rx
import sqlalchemy as sa
from sqlalchemy import event
from typer.testing import CliRunner

from tests.conftest import write_xlsx
from tests.test_allocate import SPRING_PEOPLE
from tests.test_ledger import allocation_csv, count
from weiwen.app.run import latest_folder
from weiwen.cli import app
from weiwen.ledger.store import KEY_ENV, Ledger

runner = CliRunner()
ROOT = Path(__file__).parent.parent
INTERRUPTED = "已中断，未写出任何不完整的文件。"


def test_ctrl_c_in_allocate_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roster = write_xlsx(tmp_path / "花名册.xlsx", SPRING_PEOPLE)
    out = tmp_path / "核定结果"
    there: list[list[str]] = []  # what the output folder held when Ctrl-C came
    real_save = rx.FastExcel.save

    def save_then_ctrl_c(self: rx.FastExcel, *args: object, **kwargs: object) -> object:
        real_save(self, *args, **kwargs)  # the workbook is saved to its temporary file, not yet in place
        there.append(sorted(p.name for p in out.iterdir()))
        raise KeyboardInterrupt

    monkeypatch.setattr(rx.FastExcel, "save", save_then_ctrl_c)
    result = runner.invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(out)])
    assert result.exit_code == 130
    assert result.stderr.strip() == INTERRUPTED and result.stdout == ""
    # Interrupted once, while the workbook existed only under a temporary name.
    assert len(there) == 1 and len(there[0]) == 1 and there[0] != ["慰问明细.xlsx"]
    assert list(out.rglob("*")) == []  # not the workbook, not its temporary file, not the CSV
    assert "Traceback" not in result.output




def test_ctrl_c_in_a_run_keeps_the_previous_outputs(office: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = runner.invoke(app, ["run", "spring", "--json"])
    assert first.exit_code == 0, first.output
    previous = Path(json.loads(first.stdout)["folder"])
    before = {p: p.read_bytes() for p in previous.rglob("*") if p.is_file()}
    interrupted: list[bool] = []

    def save_then_ctrl_c(self: rx.FastExcel, *args: object, **kwargs: object) -> object:
        interrupted.append(True)
        raise KeyboardInterrupt

    monkeypatch.setattr(rx.FastExcel, "save", save_then_ctrl_c)
    result = runner.invoke(app, ["run", "spring"])
    assert result.exit_code == 130 and interrupted == [True]
    assert result.stderr.strip() == INTERRUPTED
    root = office / "输出"
    assert sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink()) == [previous.name]
    assert not list(root.glob(".*.partial")) and latest_folder(root) == previous.resolve()
    assert {p: p.read_bytes() for p in previous.rglob("*") if p.is_file()} == before
    assert "运行失败，已有的输出和 最新结果.txt 未改动。" in (root / "运行日志.txt").read_text(encoding="utf-8")


def test_ctrl_c_in_ledger_record_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    Ledger.create(None)
    csv = allocation_csv(tmp_path / "allocation.csv", range(1, 21))
    commits: list[int] = []

    def ctrl_c_at_commit(conn: sa.Connection) -> None:
        commits.append(conn.exec_driver_sql("SELECT count(*) FROM records").scalar())
        raise KeyboardInterrupt

    event.listen(sa.engine.Engine, "commit", ctrl_c_at_commit)
    try:
        result = runner.invoke(app, ["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", "spring-2027"])
    finally:
        event.remove(sa.engine.Engine, "commit", ctrl_c_at_commit)
    assert result.exit_code == 130 and result.stderr.strip() == INTERRUPTED
    assert commits == [20]  # all twenty were written in the transaction when Ctrl-C came
    ledger = Ledger.open(None)
    assert count(ledger) == 0 and ledger.rows() == []
    again = runner.invoke(app, ["ledger", "record", str(csv), "--org", "镇民政办", "--campaign", "spring-2027"])
    assert again.exit_code == 0 and "已记入 20 户" in again.stdout
