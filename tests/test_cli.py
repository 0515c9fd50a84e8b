"""The command line end to end: help, exit codes, templates, samples, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from weiwen import __version__
from weiwen.cli import app

runner = CliRunner()
SAMPLES = Path(__file__).parent.parent / "samples" / "rosters"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("args", [
    [], ["validate"], ["allocate"], ["budget"], ["check-duplicates"], ["explain"], ["run"], ["sample"], ["template"],
    ["samples"], ["samples", "generate"], ["rules"], ["rules", "check"], ["ledger"], ["ledger", "record"],
])
def test_help_is_chinese(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert CJK.search(result.stdout)
    assert "显示本帮助后退出" in result.stdout and "Show this message" not in result.stdout
    assert "Options" not in result.stdout  # panel titles are Chinese too
    assert "用法：weiwen" in result.stdout and "Usage:" not in result.stdout and "[OPTIONS]" not in result.stdout
    assert not re.search(r"<(str|path|bool|int|float|list\[)", result.stdout)  # value types named in Chinese
    assert "COMMAND" not in result.stdout and "ARGS" not in result.stdout


@pytest.mark.parametrize(("args", "said"), [
    (["allocate", "x.xlsx", "--campain", "spring"], "没有 --campain 这个选项。是不是：--campaign、--compare-with？"),
    (["validate", "x.xlsx", "--sheet"], "选项 --sheet 后面要写一个值。"),
    (["validate", "x.xlsx", "--json=yes"], "选项 --json 后面不能带值。"),
    (["validate", "x.xlsx", "--show", "many"], "--show 的值不对：要写整数。"),
    (["samples", "generate", "--households", "0"], "--households 的值不对：不能小于 1。"),
    (["samples", "generate", "--error-rate", "2"], "--error-rate 的值不对：不能大于 1。"),
    (["rules", "check"], "缺少参数 规则文件。"),
    (["alocate"], "没有 alocate 这个命令。是不是：allocate、validate？"),
])
def test_usage_errors_are_chinese(args: list[str], said: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert said in result.stderr
    for english in ("Usage:", "No such", "requires an", "Missing", "Invalid value", "[OPTIONS]", "Input should"):
        assert english not in result.stderr


def test_usage_line_of_an_error_is_chinese() -> None:
    result = runner.invoke(app, ["allocate", "x.xlsx", "--campain", "spring"], env={"COLUMNS": "200"})
    assert result.stderr.startswith("用法：weiwen allocate [选项] {花名册}...")
    assert "用 'weiwen allocate -h' 查看帮助。" in result.stderr


def test_unrecognised_usage_error_keeps_its_words_in_a_chinese_frame() -> None:
    from typer._click.exceptions import BadParameter, UsageError

    from weiwen.cli.usage import chinese_message

    assert chinese_message(UsageError("Something new happened")) == "命令写得不对：Something new happened"
    assert chinese_message(BadParameter("odd", param_hint="'--x'")) == "--x 的值不对：odd。"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_bundled_samples_validate_clean() -> None:
    files = sorted(SAMPLES.glob("*.xlsx"))
    assert len(files) >= 3
    result = runner.invoke(app, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.stdout
    assert "错误 0 条" in result.stdout


def test_template_is_a_valid_empty_roster(tmp_path: Path) -> None:
    target = tmp_path / "模板.xlsx"
    result = runner.invoke(app, ["template", "-o", str(target)])
    assert result.exit_code == 0
    wb = openpyxl.load_workbook(target)
    ws = wb["花名册"]
    headers = [c.value for c in ws[2]]
    assert headers[:5] == ["序号", "村(社区)", "户号", "姓名", "身份证号"]
    assert ws["E3"].number_format == "@"  # ID column is text
    assert ws["L3"].number_format == "@"  # bank card column is text
    sqrefs = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert any(f and "选项" in f for f in sqrefs.values())
    assert "填写说明" in wb.sheetnames and wb["选项"].sheet_state == "hidden"
    check = runner.invoke(app, ["validate", str(target), "--json"])  # read as a roster: headers found, nobody in it
    doc = json.loads(check.stdout)
    assert check.exit_code == 1 and doc["rows"] == 0 and [e["code"] for e in doc["errors"]] == ["file-no-persons"]


def test_template_bytes_are_stable(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    runner.invoke(app, ["template", "-o", str(a)])
    runner.invoke(app, ["template", "-o", str(b)])
    assert a.read_bytes() == b.read_bytes()


def test_generated_samples_with_planted_errors(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = runner.invoke(app, ["samples", "generate", "-o", str(out), "--households", "60", "--villages", "3",
                                 "--seed", "5", "--error-rate", "0.08"])
    assert result.exit_code == 0, result.stdout
    planted = json.loads((out / "埋入的错误.json").read_text(encoding="utf-8"))
    assert len(planted) >= 9
    check = runner.invoke(app, ["validate", *map(str, sorted(out.glob("*.xlsx"))), "--json"])
    assert check.exit_code == 1
    doc = json.loads(check.stdout)
    found = {(Path(p["file"]).stem.split("-", 1)[1], p["row"]) for p in doc["errors"] + doc["warnings"]}
    expected = {(p["village"], p["row"]) for p in planted}
    assert found == expected
    kinds = {p["kind"] for p in planted}
    assert {"id-numeric-cell", "id-checksum", "name-missing", "sex-mismatch", "category-unknown"} <= kinds


def test_generator_is_reproducible(tmp_path: Path) -> None:
    for d in ("a", "b"):
        runner.invoke(app, ["samples", "generate", "-o", str(tmp_path / d), "--households", "10", "--seed", "3"])
    for f in sorted((tmp_path / "a").glob("*.xlsx")):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_bad_date_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate", str(SAMPLES / "1-王楼村.xlsx"), "--date", "明天"])
    assert result.exit_code == 2
    assert "--date" in result.stderr


def test_internal_error_shows_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import weiwen.app.pipeline as pipeline  # the command imports it when it runs

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("secret 110101199003071233")

    monkeypatch.setattr(pipeline, "validate_files", boom)
    result = runner.invoke(app, ["validate", str(SAMPLES / "1-王楼村.xlsx")])
    assert result.exit_code == 4
    assert "Traceback" not in result.output and "110101199003071233" not in result.output
    assert "内部错误" in result.stderr


def test_real_entry_point_under_c_locale(tmp_path: Path) -> None:
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "TERM": "dumb"}
    files = sorted(str(p) for p in SAMPLES.glob("*.xlsx"))
    proc = subprocess.run([sys.executable, "-m", "weiwen", "validate", *files, "--json"], capture_output=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert doc["valid_rows"] == doc["rows"] > 0
    assert b"Traceback" not in proc.stderr


def test_unsafe_xml_parser_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import openpyxl as ox

    monkeypatch.setattr(ox, "DEFUSEDXML", False)
    result = runner.invoke(app, ["validate", str(SAMPLES / "1-王楼村.xlsx"), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2 and "defusedxml" in result.stderr
    assert not (tmp_path / "r").exists()


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(out), "--households", "80", "--villages", "6",
                        "--seed", "9", "--error-rate", "0.05"])
    files = [str(p) for p in sorted(out.glob("*.xlsx"))]
    serial = runner.invoke(app, ["validate", *files, "--json", "--jobs", "1"])
    parallel = runner.invoke(app, ["validate", *files, "--json", "--jobs", "2"])
    assert serial.exit_code == parallel.exit_code == 1
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)
