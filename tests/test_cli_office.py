"""The command line in a township office: a quick --help, 80-column windows, Chinese everywhere a
clerk reads, Windows habits (folders, wildcards, open workbooks) and everyday mistakes."""

from __future__ import annotations

import errno
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from rich.console import Console
from typer.testing import CliRunner

from weiwen.cli import app
from weiwen.read.inputs import expand_inputs, natural_key

runner = CliRunner()
ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples" / "rosters"
NARROW = {"COLUMNS": "80"}
LOCK_NOTE = "已跳过 Excel/WPS 的临时锁定文件 ~$1-王楼村.xlsx（该花名册正在被打开；请保存并关闭后再运行）"


def _paths() -> list[list[str]]:
    """Every command and subcommand, as the words after ``weiwen`` (the root is [])."""
    found: list[list[str]] = []

    def walk(words: list[str], cmd: object) -> None:
        found.append(words)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk([*words, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = _paths()


def _office(tmp_path: Path) -> Path:
    """A copy of the three sample rosters, as a village folder on a clerk's desk."""
    folder = tmp_path / "花名册"
    shutil.copytree(SAMPLES, folder)
    return folder


def _lock_file(folder: Path, roster: str = "1-王楼村.xlsx") -> Path:
    """What Excel leaves beside an open workbook: a small owner file named ~$ + the name."""
    lock = folder / f"~${roster}"
    lock.write_bytes(b"\x08clerk   " + b"\x00" * 150)
    return lock


# --- 1. weiwen --help starts without the library ----------------------------------------------------

HEAVY = ("pandas", "pyarrow", "openpyxl", "numpy", "weiwen.app", "weiwen.roster")


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


def test_help_of_every_command_loads_no_heavy_library() -> None:
    """--help of every command, in a fresh interpreter: pandas, pyarrow, openpyxl and the app layer stay
    unloaded (they are imported inside the command functions)."""
    code = (
        "import contextlib, io, sys\n"
        "import typer.main\n"
        "from weiwen.cli import app\n"
        "cmd = typer.main.get_command(app)\n"
        f"for words in {COMMANDS!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            cmd.main([*words, '--help'], prog_name='weiwen', standalone_mode=False)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    assert '用法' in out.getvalue(), words\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    assert "weiwen.cli.allocate" in loaded  # the walk did import the commands
    assert _heavy(loaded) == []


def test_the_real_entry_point_help_imports_no_heavy_library() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "weiwen", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "用法：" in proc.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "typer" in imported
    assert _heavy(imported) == []


# --- 2. 80 columns: nothing cut off -----------------------------------------------------------------

@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "weiwen")
def test_help_at_80_columns_is_whole(words: list[str]) -> None:
    result = runner.invoke(app, [*words, "--help"], env=NARROW)
    assert result.exit_code == 0
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_help_text_at_80_columns_reads_whole_when_joined() -> None:
    """A long option help folds onto the next lines; joined, it is the whole sentence."""
    result = runner.invoke(app, ["allocate", "--help"], env=NARROW)
    joined = "".join(line.strip("│ ").split("  ")[-1].strip() for line in result.stdout.splitlines())
    assert "认定为同一人的只核定先列出的一户。结果登记为名单的一个版本。" in joined
    assert "与上次名单对比" in joined


def _first_cells(text: str) -> str:
    """The first column of a rich table, its wrapped lines joined."""
    return "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))


@pytest.mark.parametrize("command", ["allocate", "budget"])
def test_tables_at_80_columns_show_long_standard_names_whole(tmp_path: Path, command: str) -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    result = runner.invoke(app, [command, *files, "--campaign", "spring", "-o", str(tmp_path / "o")], env=NARROW)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "伤残军人、参战涉核、在乡老复员军人" in _first_cells(result.stdout)
    assert max(len(line) for line in result.stdout.splitlines() if line.startswith("│")) <= 80


# --- 3. Chinese where a clerk reads -----------------------------------------------------------------

# The only ASCII words (2+ letters) --help may show, besides option names (-o, --campaign) and the names
# of the commands themselves: the program, file types, products a clerk knows, environment variables, the
# keys of the rules file the help points to, and the example campaign.
ALLOWED_WORDS = {
    "weiwen",
    "xlsx", "xlsm", "xls", "csv", "json", "yaml", "db", "md", "txt",  # file extensions (after a dot)
    "Excel", "WPS", "SQLite", "sqlite", "PostgreSQL", "postgresql",
    "WEIWEN_OPERATOR", "WEIWEN_LEDGER",
    "campaign.rosters", "campaign.code", "run.output", "budget.ceiling", "ledger.lookback_months",
    "spring", "township",
}
FILE_NAME = re.compile(r"[\w~$-]*\.(?:xlsx|xlsm|xls|csv|json|yaml|db|md|txt)\b")


def _english_words(text: str, commands: set[str]) -> set[str]:
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*(?:/--?[A-Za-z][\w-]*)?", " ", text)  # options
    text = FILE_NAME.sub(" ", text)  # allocation.csv, weiwen-ledger.db, 活动名.yaml
    words = set(re.findall(r"[A-Za-z][A-Za-z_]*(?:\.[a-z_]+)*", text))
    return {w for w in words if len(w) >= 2 and w not in ALLOWED_WORDS and w not in commands}


def test_help_shows_no_english_words() -> None:
    commands = {w for words in COMMANDS for w in words}
    found = {}
    for words in COMMANDS:
        out = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "300"}).stdout
        if extra := _english_words(out, commands):
            found[" ".join(words) or "weiwen"] = sorted(extra)
    assert found == {}


def test_the_english_word_check_can_fail() -> None:
    assert _english_words("CAMPAIGN 是活动名；PATH；--campaign 活动名；allocation.csv；Usage:", {"run"}) == {
        "CAMPAIGN", "PATH", "Usage"}


def test_options_show_chinese_metavars_and_ranges() -> None:
    out = runner.invoke(app, ["validate", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"--campaign\s+-c\s+活动名", out) and re.search(r"--report\s+文件夹", out)
    assert "不小于 0" in out and "x>=" not in out
    gen = runner.invoke(app, ["samples", "generate", "--help"], env={"COLUMNS": "200"}).stdout
    assert "0 到 1" in gen


def test_run_reports_its_counts_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "weiwen"
    shutil.copytree(ROOT / "samples", work / "samples")
    shutil.copytree(ROOT / "rules", work / "rules")
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["run", "spring"], env={"COLUMNS": "300"})
    assert result.exit_code in (0, 1), result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("运行完成：")
    said = line.split("，", 1)[1]
    assert re.search(r"行数 \d+，合格行数 \d+，错误 \d+ 条", said) and re.search(r"户数 \d+，合计 [\d.]+ 元", said)
    assert not re.search(r"[A-Za-z]", said)


def test_run_counts_in_chinese_name_every_count() -> None:
    from weiwen.cli.batch import counts_zh

    said = counts_zh({"rows": 169, "valid_rows": 169, "errors": 0, "warnings": 2, "duplicate_groups": 1,
                      "households": 58, "total": "51340.00", "budget_total": "51340.00"})
    assert said == ("行数 169，合格行数 169，错误 0 条，警告 2 条，重复 1 组，户数 58，合计 51340.00 元，"
                    "预算合计 51340.00 元")


def test_validation_names_problems_by_title_not_code(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    runner.invoke(app, ["samples", "generate", "-o", str(out), "--households", "40", "--seed", "5",
                        "--error-rate", "0.1"])
    files = [str(p) for p in sorted(out.glob("*.xlsx"))]
    doc = json.loads(runner.invoke(app, ["validate", *files, "--json"]).stdout)
    codes = {p["code"] for p in doc["errors"] + doc["warnings"]}
    assert {"id-checksum", "category-unknown"} <= codes  # the codes stay in --json
    shown = runner.invoke(app, ["validate", *files, "--show", "1000"], env={"COLUMNS": "200"}).stdout
    from weiwen.core.problems import kind

    for code in codes:
        assert kind(code).title in shown
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", shown), code


def test_problem_table_names_problems_by_title() -> None:
    from weiwen.cli import render
    from weiwen.core import problems as P

    console = Console(record=True, width=80)
    render.problems(console, [P.make("file-empty", file="回盘.xlsx")])
    text = console.export_text()
    assert "文件为空" in _first_cells(text) or "文件为空" in text.replace("│", "").replace(" ", "")
    assert "file-empty" not in text


def test_rules_check_says_the_combination_in_chinese() -> None:
    for rules in sorted((ROOT / "rules").glob("*.yaml")):
        result = runner.invoke(app, ["rules", "check", str(rules)], env={"COLUMNS": "300"})
        first = result.stdout.splitlines()[0]
        said = first.split("：", 1)[1]
        said = re.sub(r"（[\w.-]+）", "", said)  # the campaign's own code
        assert re.search(r"按最高标准只发一项|按优先顺序只发一项|符合的各项都发", said), first
        assert not re.search(r"[A-Za-z]{2,}", said), first


# --- 4. Windows habits and everyday mistakes: inputs ------------------------------------------------

def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"x")


def test_natural_order() -> None:
    names = ["10-赵寨村.xlsx", "2-李家湾村.xlsx", "1-王楼村.xlsx", "b.csv", "A.csv"]
    assert sorted(names, key=natural_key) == ["1-王楼村.xlsx", "2-李家湾村.xlsx", "10-赵寨村.xlsx", "A.csv", "b.csv"]


def test_a_folder_means_its_rosters_in_natural_order(tmp_path: Path) -> None:
    d = tmp_path / "花名册"
    _touch(d, "10-赵寨村.xlsx", "2-李家湾村.xls", "1-王楼村.csv", "3-张庄村.XLSM", "说明.docx", "~$1-王楼村.xlsx",
           ".~lock.2-李家湾村.xls#", ".DS_Store")
    _touch(d / "旧", "1-王楼村.xlsx")
    found = expand_inputs([d])
    assert [p.name for p in found.files] == ["1-王楼村.csv", "2-李家湾村.xls", "3-张庄村.XLSM", "10-赵寨村.xlsx"]
    assert LOCK_NOTE in found.notes
    assert any("LibreOffice" in n and ".~lock.2-李家湾村.xls#" in n for n in found.notes)
    assert any("说明.docx" in n for n in found.notes) and any("旧" in n and "子文件夹" in n for n in found.notes)
    assert not any(".DS_Store" in n for n in found.notes) and found.problems == []


def test_wildcards_arguments_order_and_duplicates(tmp_path: Path) -> None:
    d = tmp_path / "花名册"
    _touch(d, "10-赵寨村.xlsx", "2-李家湾村.xlsx", "1-王楼村.xlsx", "~$2-李家湾村.xlsx")
    found = expand_inputs([d / "10-赵寨村.xlsx", str(d / "*.xlsx"), d])
    assert [p.name for p in found.files] == ["1-王楼村.xlsx", "2-李家湾村.xlsx", "10-赵寨村.xlsx"]
    shell = expand_inputs([d / "1-王楼村.xlsx", d / "10-赵寨村.xlsx", d / "2-李家湾村.xlsx"])  # as bash sorts them
    assert [p.name for p in shell.files] == ["1-王楼村.xlsx", "2-李家湾村.xlsx", "10-赵寨村.xlsx"]
    assert sum("~$2-李家湾村.xlsx" in n for n in found.notes) == 2  # from the wildcard and from the folder
    explicit = expand_inputs([d / "~$2-李家湾村.xlsx", d / "1-王楼村.xlsx"])
    assert [p.name for p in explicit.files] == ["1-王楼村.xlsx"] and "~$2-李家湾村.xlsx" in explicit.notes[0]


def test_backslash_separates_folders_in_a_windows_wildcard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path / "花名册", "1-王楼村.xlsx", "2-李家湾村.xlsx")
    monkeypatch.chdir(tmp_path)
    on_windows = expand_inputs(["花名册\\*.xlsx"], windows=True)
    assert [p.name for p in on_windows.files] == ["1-王楼村.xlsx", "2-李家湾村.xlsx"]
    elsewhere = expand_inputs(["花名册\\*.xlsx"], windows=False)  # a backslash is part of a name there
    assert elsewhere.files == [] and "花名册\\*.xlsx" in elsewhere.problems[0].message


def test_a_wildcard_matching_nothing_is_a_problem_naming_it(tmp_path: Path) -> None:
    found = expand_inputs([str(tmp_path / "花名册" / "*.xlsx")])
    assert found.files == []
    assert found.problems[0].code == "file-not-found"
    assert "没有找到与" in found.problems[0].message and "*.xlsx" in found.problems[0].message


def test_a_missing_file_and_an_existing_bracketed_name_pass_through(tmp_path: Path) -> None:
    _touch(tmp_path, "花名册[1].xlsx")
    found = expand_inputs([tmp_path / "没有的.xlsx", tmp_path / "花名册[1].xlsx"])
    assert [p.name for p in found.files] == ["没有的.xlsx", "花名册[1].xlsx"] and found.problems == []


def test_an_open_roster_no_longer_stops_allocate(tmp_path: Path) -> None:
    folder = _office(tmp_path)
    _lock_file(folder)
    files = [str(p) for p in sorted(folder.glob("*.xlsx"))]  # what the shell's *.xlsx gives
    assert any(Path(f).name.startswith("~$") for f in files)
    result = runner.invoke(app, ["allocate", *files, "--campaign", "spring", "-o", str(tmp_path / "o")],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert LOCK_NOTE in result.stderr
    assert (tmp_path / "o" / "allocation.csv").is_file()


def test_validate_reads_a_folder_and_skips_the_lock_file(tmp_path: Path) -> None:
    folder = _office(tmp_path)
    _lock_file(folder)
    result = runner.invoke(app, ["validate", str(folder), "--json"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["files"]) == 3
    assert LOCK_NOTE in result.stderr


@pytest.mark.parametrize("command", [["validate"], ["check-duplicates"], ["allocate", "-c", "spring"],
                                     ["explain", "110101199003071233", "-c", "spring"], ["rules", "check", "rules/spring.yaml"]])
def test_a_wildcard_matching_nothing_stops_the_command(command: list[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pattern = str(tmp_path / "花名册" / "*.xlsx")
    where = len(command) if command[0] != "explain" else 2
    args = [*command[:where], pattern, *command[where:]]
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "没有找到与" in result.stderr and pattern in result.stderr
    assert "内部错误" not in result.stderr


def test_only_lock_files_is_a_usage_error(tmp_path: Path) -> None:
    lock = _lock_file(tmp_path)
    result = runner.invoke(app, ["validate", str(lock)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert LOCK_NOTE in result.stderr and "没有可以读取的花名册" in result.stderr


def test_budget_skips_a_lock_file_its_campaign_rosters_pattern_finds(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "weiwen"
    shutil.copytree(ROOT / "samples", work / "samples")
    shutil.copytree(ROOT / "rules", work / "rules")
    _lock_file(work / "samples" / "rosters")
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["budget", "--campaign", "spring", "-o", "预算"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert LOCK_NOTE in result.stderr


# --- 4. everyday mistakes: outputs ------------------------------------------------------------------

def test_check_duplicates_output_gets_its_extension(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    result = runner.invoke(app, ["check-duplicates", *files, "-o", str(tmp_path / "重复核查")])
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "重复核查.xlsx").is_file() and not (tmp_path / "重复核查").exists()
    into = tmp_path / "结果"
    into.mkdir()
    runner.invoke(app, ["check-duplicates", *files, "-o", str(into)])
    assert (into / "重复核查.xlsx").is_file()


def test_check_duplicates_refuses_another_extension(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    result = runner.invoke(app, ["check-duplicates", *files, "-o", str(tmp_path / "重复核查.csv")])
    assert result.exit_code == 2
    assert "-o 要写一个 .xlsx 文件" in result.stderr and "重复核查.xlsx" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_file_names() -> None:
    from weiwen.cli.common import output_file

    assert output_file(Path("2027.01核查"), ".xlsx", "x.xlsx") == Path("2027.01核查.xlsx")
    assert output_file(Path("名单.XLSX"), ".xlsx", "x.xlsx") == Path("名单.XLSX")
    with pytest.raises(Exception, match="要写一个 .csv 文件"):
        output_file(Path("台账.txt"), ".csv", "x.csv")


@pytest.fixture(scope="module")
def allocated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("allocated") / "核定结果"
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    assert runner.invoke(app, ["allocate", *files, "-c", "spring", "-o", str(out)]).exit_code == 0
    return out


def test_sample_rate_as_a_percentage(allocated: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b"
    pct = runner.invoke(app, ["sample", str(allocated), "--rate", "10%", "--seed", "3", "-o", str(a), "--json"])
    dec = runner.invoke(app, ["sample", "draw", str(allocated), "--rate", "0.1", "--seed", "3", "-o", str(b), "--json"])
    assert pct.exit_code == dec.exit_code == 0, pct.output + dec.output
    assert json.loads(pct.stdout)["sampled"] == json.loads(dec.stdout)["sampled"] > 0
    assert a.read_bytes() == (tmp_path / "b.xlsx").read_bytes()  # -o b became b.xlsx


@pytest.mark.parametrize(("rate", "said"), [("0", "应大于 0、不超过 100%"), ("150%", "应大于 0、不超过 100%"),
                                            ("10", "应大于 0、不超过 100%"), ("一成", "无法识别")])
def test_sample_refuses_a_bad_rate(allocated: Path, rate: str, said: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", str(allocated), "--rate", rate, "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    assert said in result.stderr and f"“{rate}”" in result.stderr
    assert not (tmp_path / "s.xlsx").exists()


def test_sample_import_help_is_its_own() -> None:
    result = runner.invoke(app, ["sample", "import", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "用法：weiwen sample import" in result.stdout and "抽查名单" in result.stdout
    assert "--rate" not in result.stdout and "--seed" not in result.stdout
    draw = runner.invoke(app, ["sample", "draw", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--rate" in draw and "10%" in draw


def test_sample_misspelt_option_is_chinese_with_a_suggestion(allocated: Path) -> None:
    result = runner.invoke(app, ["sample", str(allocated), "--rat", "10%"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert re.search(r"没有 --rat 这个选项。是不是：[-a-z、]*--rate[-a-z、]*？", result.stderr)
    assert "No such" not in result.stderr


def test_output_under_a_file_is_a_chinese_message(tmp_path: Path) -> None:
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    blocker = tmp_path / "名单.txt"
    blocker.write_text("x", encoding="utf-8")
    for args in (["allocate", *files, "-c", "spring", "-o", str(blocker / "结果")],
                 ["check-duplicates", *files, "-o", str(blocker / "查重.xlsx")],
                 ["validate", *files, "--report", str(blocker / "校验")]):
        result = runner.invoke(app, args, env={"COLUMNS": "300"})
        assert result.exit_code == 2, (args[0], result.output)
        assert f"{blocker} 是一个文件，不是文件夹" in result.stderr, args[0]
        assert "内部错误" not in result.stderr and "Error" not in result.stderr


@pytest.mark.parametrize(("code", "said"), [
    (errno.EACCES, "没有权限读写"), (errno.EPERM, "没有权限读写"), (errno.EROFS, "磁盘是只读的"),
    (errno.ENOSPC, "磁盘已满"), (errno.ENAMETOOLONG, "路径太长"),
])
def test_unwritable_output_is_a_chinese_message(code: int, said: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Root (as CI runs) ignores permissions, so the refusal a clerk's disk gives is raised here."""
    import weiwen.app.pipeline as pipeline

    target = tmp_path / "结果" / "慰问明细.xlsx"

    def refused(*a: object, **k: object) -> None:
        raise OSError(code, "refused", str(target))

    monkeypatch.setattr(pipeline, "allocate_campaign", refused)
    files = [str(p) for p in sorted(SAMPLES.glob("*.xlsx"))]
    result = runner.invoke(app, ["allocate", *files, "-c", "spring", "-o", str(tmp_path / "结果")],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert said in result.stderr
    assert str(target) in result.stderr or str(target.parent) in result.stderr
    assert "内部错误" not in result.stderr


def test_an_oserror_not_about_a_place_is_still_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import weiwen.app.pipeline as pipeline

    def broken(*a: object, **k: object) -> None:
        raise OSError("no file involved")

    monkeypatch.setattr(pipeline, "validate_files", broken)
    result = runner.invoke(app, ["validate", str(SAMPLES / "1-王楼村.xlsx")])
    assert result.exit_code == 4 and "内部错误" in result.stderr
