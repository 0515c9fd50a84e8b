"""The ledger records units and events, on SQLite and PostgreSQL (#20): a recorded unit or event is
never paid again, the frequency limits count the events of earlier runs, and no full ID is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from tests.line_samples import UNIT_LIST
from tests.test_ledger import ledger_url, postgres_url  # noqa: F401 - fixtures
from weiwen.cli import app
from weiwen.ledger.schema import lines
from weiwen.ledger.store import Ledger

runner = CliRunner()
HEADERS = ["姓名", "身份证号", "工号", "部门", "慰问事由", "事件日期", "是否同意"]
A = make_id("110101", "19800101", "011")


def _events(path: Path, rows: list[list[object]]) -> Path:
    return write_xlsx(path, [HEADERS, *rows])


def _run(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def test_a_second_hospitalisation_in_a_later_run_is_held_with_the_first_ones_date(ledger_url: str,  # noqa: F811
                                                                                    tmp_path: Path) -> None:
    Ledger.create(ledger_url)
    march = _events(tmp_path / "三月.xlsx", [["张伟", A, "1001", "教务处", "住院", "2026-03-02", ""],
                                             ["李娜", "", "1002", "教务处", "结婚", "2026-03-08", ""]])
    _run(["allocate", str(march), "--campaign", "union-events", "-o", str(tmp_path / "三月"), "--ledger", ledger_url])
    out = _run(["ledger", "record", str(tmp_path / "三月" / "allocation.csv"), "--org", "工会",
                "--campaign", "union-events-2026", "--ledger", ledger_url])
    assert "已记入 2 条" in out
    ledger = Ledger.open(ledger_url)
    with ledger.engine.connect() as conn:
        stored = conn.execute(sa.select(lines)).mappings().all()
    assert len(stored) == 2 and all(A not in str(v) for row in stored for v in row.values())  # keyed hashes only
    assert {r["masked"] for r in stored} == {"110101********" + A[-4:], "1002"}

    # September: the same member's second hospitalisation, and March's wedding listed again by mistake.
    september = _events(tmp_path / "九月.xlsx", [["张伟", A, "1001", "教务处", "因病住院", "2026-09-15", ""],
                                                 ["李娜", "", "1002", "教务处", "结婚", "2026-03-08", ""]])
    out = _run(["allocate", str(september), "--campaign", "union-events", "-o", str(tmp_path / "九月"),
                "--ledger", ledger_url])
    from weiwen.app.pipeline import load_and_decide
    from weiwen.rules import find_campaign, load_rules

    _, d = load_and_decide([september], load_rules(find_campaign("union-events")), ledger_url=ledger_url)
    assert d is not None and len(d.table) == 0
    held = {x.name: x for x in d.left_out}
    assert held["张伟"].kind == "待决定" and [x.isoformat() for x in held["张伟"].earlier] == ["2026-03-02"]
    assert held["李娜"].kind == "排除" and "台账中已有记录" in held["李娜"].reason
    # approved: paid, and recorded as the member's second event of the year
    approved = _events(tmp_path / "九月同意.xlsx", [["张伟", A, "1001", "教务处", "住院", "2026-09-15", "是"]])
    _, d = load_and_decide([approved], load_rules(find_campaign("union-events")), ledger_url=ledger_url)
    assert d is not None and len(d.table) == 1 and "经同意再次慰问" in d.table["reason"].iloc[0]


def test_a_unit_recorded_once_is_not_recorded_or_paid_again(ledger_url: str, tmp_path: Path) -> None:  # noqa: F811
    Ledger.create(ledger_url)
    out_dir = tmp_path / "一线"
    _run(["allocate", str(UNIT_LIST), "--campaign", "frontline", "-o", str(out_dir), "--ledger", ledger_url])
    assert "已记入 47 条" in _run(["ledger", "record", str(out_dir), "--org", "局办公室", "--campaign", "frontline-2027",
                                  "--ledger", ledger_url])
    assert "已经记过账" in _run(["ledger", "record", str(out_dir), "--org", "局办公室", "--campaign", "frontline-2027",
                                "--ledger", ledger_url])
    # the same units in another file: nothing paid, each said to be in the ledger; recording it adds nothing
    again = tmp_path / "再报.xlsx"
    again.write_bytes(UNIT_LIST.read_bytes())
    second = tmp_path / "再次"
    _run(["allocate", str(again), "--campaign", "frontline", "-o", str(second), "--ledger", ledger_url])
    assert (second / "lines.csv").read_text(encoding="utf-8-sig").count("\n") == 1  # the header only
    with Ledger.open(ledger_url).engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lines)).scalar() == 47
        subjects = set(conn.execute(sa.select(lines.c.subject)).scalars())
    assert "治安大队/城关检查站" in subjects  # unit names as they are


def test_two_lines_csv_of_the_same_event_record_it_once(ledger_url: str, tmp_path: Path) -> None:  # noqa: F811
    Ledger.create(ledger_url)
    roster = _events(tmp_path / "a.xlsx", [["张伟", A, "1001", "教务处", "住院", "2026-03-02", ""]])
    for name in ("一", "二"):  # two allocations made before either was recorded
        _run(["allocate", str(roster), "--campaign", "union-events", "-o", str(tmp_path / name)])
    _run(["ledger", "record", str(tmp_path / "一"), "--org", "工会", "--campaign", "union-events-2026",
          "--ledger", ledger_url])
    # the second file differs (another run of allocate writes the same bytes: make it differ by a note)
    csv = tmp_path / "二" / "lines.csv"
    csv.write_text(csv.read_text(encoding="utf-8-sig").replace("住院慰问", "住院慰问（补）"), encoding="utf-8-sig")
    r = runner.invoke(app, ["ledger", "record", str(tmp_path / "二"), "--org", "工会", "--campaign", "union-events-2026",
                            "--ledger", ledger_url])
    assert r.exit_code == 1 and "以前已经记入台账" in r.output
    with Ledger.open(ledger_url).engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lines)).scalar() == 1


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_ledger_gains_the_lines_table(tmp_path: Path, version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from weiwen.ledger import schema

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ledger = Ledger.create(url)
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE lines")
        conn.execute(schema.meta.update().where(schema.meta.c.name == "schema_version").values(value=str(version)))
        if version == 1:
            for table in (*schema.NEW_TABLES,):
                conn.exec_driver_sql(f"DROP TABLE {table.name}")
            for table, name in schema.ADDED_COLUMNS:
                conn.exec_driver_sql(f"ALTER TABLE {table.name} DROP COLUMN {name}")
    reopened = Ledger.open(url)
    with reopened.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lines)).scalar() == 0
        assert conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.name == "schema_version")).scalar() == "3"


def test_an_event_recorded_with_the_id_is_found_again_by_the_staff_number_alone(ledger_url: str,  # noqa: F811
                                                                                tmp_path: Path) -> None:
    Ledger.create(ledger_url)
    first = _events(tmp_path / "四月.xlsx", [["李四", A, "2002", "教务处", "生日", "2026-04-10", ""],
                                             ["李四", "", "2002", "教务处", "住院", "2026-04-20", ""]])
    _run(["allocate", str(first), "--campaign", "union-events", "-o", str(tmp_path / "四月"), "--ledger", ledger_url])
    _run(["ledger", "record", str(tmp_path / "四月"), "--org", "工会", "--campaign", "union-events-2026",
          "--ledger", ledger_url])
    from weiwen.app.pipeline import load_and_decide
    from weiwen.rules import find_campaign, load_rules

    # later, by 工号 only: the birthday again (paid) and a second hospitalisation (held with April's date)
    later = _events(tmp_path / "九月.xlsx", [["李四", "", "2002", "教务处", "生日", "2026-04-10", ""],
                                            ["李四", "", "2002", "教务处", "住院", "2026-09-01", ""]])
    _, d = load_and_decide([later], load_rules(find_campaign("union-events")), ledger_url=ledger_url)
    assert d is not None and len(d.table) == 0
    by_row = {x.row: x for x in d.left_out}
    assert by_row[2].kind == "排除" and "台账中已有记录" in by_row[2].reason
    assert by_row[3].kind == "待决定" and [x.isoformat() for x in by_row[3].earlier] == ["2026-04-20"]
    # and by ID only: the same
    by_id = _events(tmp_path / "十月.xlsx", [["李四", A, "", "教务处", "生日", "2026-04-10", ""]])
    _, d = load_and_decide([by_id], load_rules(find_campaign("union-events")), ledger_url=ledger_url)
    assert d is not None and len(d.table) == 0 and "台账中已有记录" in d.left_out[0].reason


def test_recording_under_another_campaign_code_is_refused(ledger_url: str, tmp_path: Path) -> None:  # noqa: F811
    Ledger.create(ledger_url)
    roster = _events(tmp_path / "a.xlsx", [["张伟", A, "1001", "教务处", "结婚", "2026-03-02", ""]])
    _run(["allocate", str(roster), "--campaign", "union-events", "-o", str(tmp_path / "o")])
    r = runner.invoke(app, ["ledger", "record", str(tmp_path / "o"), "--org", "工会", "--campaign", "工会2026",
                            "--ledger", ledger_url])
    assert r.exit_code == 2 and "union-events-2026" in r.output and "Traceback" not in r.output  # a usage error
    with Ledger.open(ledger_url).engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lines)).scalar() == 0
