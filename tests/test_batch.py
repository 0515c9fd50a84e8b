"""weiwen run for cron, and the audit sample: locks, atomic outputs, identical bytes, reproducible draws."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from tests import paused_weiwen
from weiwen.app.run import LATEST, latest_folder
from weiwen.cli import app

runner = CliRunner()
ROOT = Path(__file__).parent.parent
WEIWEN = Path(sys.executable).parent / "weiwen"


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """~/weiwen as docs/cron.md describes it: rosters, rules and the installed weiwen."""
    home = tmp_path / "home"
    work = home / "weiwen"
    shutil.copytree(ROOT / "samples", work / "samples")
    shutil.copytree(ROOT / "rules", work / "rules")
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / "weiwen").symlink_to(WEIWEN)
    monkeypatch.chdir(work)
    return work


def test_run_writes_a_dated_folder_and_switches_latest(office: Path) -> None:
    result = runner.invoke(app, ["run", "spring", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    folder = Path(doc["folder"])
    assert latest_folder(office / "输出") == folder.resolve()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["inputs"]) == 3 and manifest["rules"]["sha256"] and manifest["versions"]["weiwen"]
    listed = {o["path"] for o in manifest["outputs"]}
    assert {"核定结果/慰问明细.xlsx", "预算/经费预算.xlsx", "重复核查.xlsx", "校验报告.json"} <= listed
    log = (office / "输出" / "运行日志.txt").read_text(encoding="utf-8")
    assert "运行完成" in log and not re.search(r"\d{17}[\dX]", log)
    assert not re.search(r"\d{17}[\dX]|1[3-9]\d{9}", (office / "输出" / "weiwen.jsonl").read_text(encoding="utf-8"))


def test_the_latest_run_is_named_in_a_plain_file_not_a_symlink(office: Path) -> None:
    """Windows users cannot make symlinks without extra rights: the pointer is a text file a clerk
    can open too.  A symlink left by an older version goes; a pointer naming anything but a run
    folder beside it points nowhere."""
    root = office / "输出"
    root.mkdir()
    (root / "latest").symlink_to("nowhere")
    folder = Path(json.loads(runner.invoke(app, ["run", "spring", "--json"]).stdout)["folder"])
    lines = (root / LATEST).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == folder.name and f"最新一次运行的结果在文件夹 {folder.name} 中" in lines[1]
    assert (root / LATEST).read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in (root / LATEST).read_bytes()
    assert not (root / "latest").is_symlink() and not (root / "latest").exists()
    for bad in ("../输出", ".", "", "不存在的文件夹", str(folder)):
        (root / LATEST).write_text(bad + "\n", encoding="utf-8")
        assert latest_folder(root) is None, bad
    (root / LATEST).write_bytes(b"\xff\xfe")
    assert latest_folder(root) is None


def test_a_roster_open_in_excel_does_not_stop_the_nightly_run(office: Path) -> None:
    """The ~$ lock file beside a roster someone left open is skipped, and the log says so."""
    (office / "samples" / "rosters" / "~$1-王楼村.xlsx").write_bytes(b"\x00lock")
    result = runner.invoke(app, ["run", "spring", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((Path(json.loads(result.stdout)["folder"]) / "manifest.json").read_text(encoding="utf-8"))
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["1-王楼村.xlsx", "2-李家湾村.xlsx", "3-张庄村.xlsx"]
    assert "已跳过 Excel/WPS 的临时锁定文件 ~$1-王楼村.xlsx" in (office / "输出" / "运行日志.txt").read_text(encoding="utf-8")


def test_same_inputs_give_identical_bytes_and_if_changed_skips(office: Path) -> None:
    first = Path(json.loads(runner.invoke(app, ["run", "spring", "--json"]).stdout)["folder"])
    second = Path(json.loads(runner.invoke(app, ["run", "spring", "--json"]).stdout)["folder"])
    assert first != second
    for name in ("核定结果/慰问明细.xlsx", "核定结果/allocation.csv", "预算/经费预算.xlsx", "重复核查.xlsx"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    skipped = json.loads(runner.invoke(app, ["run", "spring", "--if-changed", "--json"]).stdout)
    assert skipped["status"] == "skipped"
    (office / "samples" / "rosters" / "1-王楼村.xlsx").unlink()
    changed = json.loads(runner.invoke(app, ["run", "spring", "--if-changed", "--json"]).stdout)
    assert changed["status"] == "done"


def test_a_second_run_reports_the_lock(office: Path) -> None:
    (office / "输出").mkdir()
    with FileLock(str(office / "输出" / ".spring-2027.运行锁")):
        result = runner.invoke(app, ["run", "spring"])
    assert result.exit_code == 3 and "正在运行" in result.stderr
    assert latest_folder(office / "输出") is None


def run_folders(office: Path) -> list[Path]:
    """The dated run folders a user sees (not the hidden work in progress)."""
    return sorted(d for d in (office / "输出").iterdir() if d.is_dir() and not d.is_symlink()
                  and not d.name.startswith("."))


def test_a_run_started_while_another_runs_exits_3_and_the_first_finishes(office: Path) -> None:
    first, said = paused_weiwen.start("after:write_outputs", ["run", "spring"], office)  # holds the lock
    assert said == "write_outputs"
    second = subprocess.run([str(WEIWEN), "run", "spring"], cwd=office, capture_output=True, timeout=120, check=False)
    assert second.returncode == 3, second.stderr.decode("utf-8", "replace")
    assert "正在运行" in second.stderr.decode("utf-8")
    assert run_folders(office) == [] and latest_folder(office / "输出") is None  # the second wrote nothing
    code, err = paused_weiwen.go_on(first)
    assert code == 0, err
    folders = run_folders(office)
    assert len(folders) == 1 and latest_folder(office / "输出") == folders[0].resolve()
    third = subprocess.run([str(WEIWEN), "run", "spring"], cwd=office, capture_output=True, timeout=120, check=False)
    assert third.returncode == 0, third.stderr.decode("utf-8", "replace")  # the lock was given back
    assert len(run_folders(office)) == 2


@pytest.mark.parametrize("point", ["after:write_duplicates", "after:write_outputs", "after:write_budget", "latest"])
def test_a_run_killed_mid_write_leaves_the_previous_outputs(office: Path, point: str) -> None:
    first = Path(json.loads(runner.invoke(app, ["run", "spring", "--json"]).stdout)["folder"])
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    proc, _ = paused_weiwen.start(point, ["run", "spring"], office)
    paused_weiwen.kill(proc)
    latest = latest_folder(office / "输出")
    assert latest == first.resolve()  # still the previous run
    folders = run_folders(office)
    for d in folders:  # every visible run folder is complete
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["outputs"] and all((d / o["path"]).is_file() for o in manifest["outputs"])
    if point == "latest":  # the new folder was complete and in place; only the pointer had not moved
        assert len(folders) == 2
    else:  # killed while writing: nothing of it is visible, its work is left hidden
        assert folders == [first] and len(list((office / "输出").glob(".*.partial"))) == 1
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    again = runner.invoke(app, ["run", "spring", "--json"])
    assert again.exit_code == 0 and not list((office / "输出").glob(".*.partial"))
    assert latest_folder(office / "输出") == Path(json.loads(again.stdout)["folder"]).resolve() != first


def test_sample_is_reproducible_stratified_and_its_import_finds_discrepancies(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))
    runner.invoke(app, ["allocate", *files, "-c", "spring", "-o", str(tmp_path / "a")])
    a, b = tmp_path / "s1.xlsx", tmp_path / "s2.xlsx"
    runner.invoke(app, ["sample", str(tmp_path / "a"), "--rate", "0.1", "--seed", "7", "-o", str(a)])
    runner.invoke(app, ["sample", str(tmp_path / "a"), "--rate", "0.1", "--seed", "7", "-o", str(b)])
    assert a.read_bytes() == b.read_bytes()
    other = tmp_path / "s3.xlsx"
    runner.invoke(app, ["sample", str(tmp_path / "a"), "--rate", "0.1", "--seed", "8", "-o", str(other)])
    wb = openpyxl.load_workbook(a)
    ws = wb["抽查名单"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    villages = {r[1] for r in rows}
    assert villages == {"王楼村", "李家湾村", "张庄村"}  # at least one per village
    assert "随机种子 7" in ws["A2"].value and all(r[5] for r in rows)  # phones for the callback
    heads_7 = [r[3] for r in rows]
    heads_8 = [r[3] for r in openpyxl.load_workbook(other)["抽查名单"].iter_rows(min_row=4, values_only=True)]
    assert heads_7 != list(heads_8)  # another seed, another draw
    # The callers fill in the results: one not received, one amount differs, the rest fine.
    ws.cell(4, 8, "未收到")
    ws.cell(5, 8, "金额不符")
    ws.cell(5, 9, float(ws.cell(5, 7).value) - 100)
    for r in range(6, 4 + len(rows)):
        ws.cell(r, 8, "已收到")
    wb.save(tmp_path / "filled.xlsx")
    result = runner.invoke(app, ["sample", "import", str(tmp_path / "filled.xlsx"), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(d["result"], d["head"]) for d in doc["discrepancies"]] == [("未收到", rows[0][3]), ("金额不符", rows[1][3])]
    assert "实收" in doc["discrepancies"][1]["detail"]
    assert sum(sum(c.values()) for c in doc["by_village"].values()) == len(rows)


def _block(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.+?)\n```", text, flags=re.S)


def test_the_crontab_line_runs_as_written(office: Path) -> None:
    doc = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")
    line = _block(doc, "crontab")[0].strip()
    command = line.split(maxsplit=5)[5]  # after minute hour day month weekday
    env = {"HOME": str(office.parent), "PATH": "/usr/bin:/bin", "LANG": "C"}  # cron's bare environment
    proc = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, timeout=180)
    assert proc.returncode == 0, (office.parent / "weiwen" / "cron.out").read_text(encoding="utf-8", errors="replace")
    assert (latest_folder(office / "输出") / "核定结果" / "慰问明细.xlsx").is_file()
    proc = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, timeout=180)
    assert "跳过" in (office / "cron.out").read_text(encoding="utf-8")


def test_the_systemd_service_runs_as_written(office: Path) -> None:
    doc = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")
    service = _block(doc, "ini")[0]
    fields = dict(line.split("=", 1) for line in service.splitlines() if "=" in line)
    home = str(office.parent)
    cwd = fields["WorkingDirectory"].replace("%h", home)
    argv = fields["ExecStart"].replace("%h", home).split()
    proc = subprocess.run(argv, cwd=cwd, env={"HOME": home, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert (latest_folder(office / "输出") / "manifest.json").is_file()
    timer = _block(doc, "ini")[1]
    assert "OnCalendar=*-*-* 02:00:00" in timer and "Persistent=true" in timer
    assert os.access(argv[0], os.X_OK)
