"""Everyday slips a clerk makes, each with the Chinese message and exit code it now gets: a
rules file typed on a Chinese keyboard, villages in the rosters' numbered order, ledger times on
the office's clock."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.core.text import local_time
from weiwen.ledger import auditlog
from weiwen.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
SPRING = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8")
runner = CliRunner()


def _slipped(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SPRING
    path = tmp_path / "方案.yaml"
    path.write_text(SPRING.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


@pytest.mark.parametrize(("old", "new", "marker", "says"), [
    ("cap: 2000", "cap：2000", "cap：2000", "键和值之间用了中文冒号“：”，要写英文冒号加一个空格"),
    ("  code: spring-2027", "  code： spring-2027", "code：", "键和值之间用了中文冒号“：”"),
    ("  code: spring-2027", "\tcode: spring-2027", "\tcode", "行首用了Tab 键缩进，请改用普通空格"),
    ("  code: spring-2027", "\u3000 code: spring-2027", "\u3000 code", "全角空格"),
    ("  code: spring-2027", "  code: 'spring-2027", "'spring-2027", "引号没有配对"),
])
def test_a_rules_file_typed_on_a_chinese_keyboard_names_the_line_of_the_slip(
        tmp_path: Path, old: str, new: str, marker: str, says: str) -> None:
    path = _slipped(tmp_path, old, new)
    with pytest.raises(WeiwenError) as e:
        load_rules(path)
    line = _line_of(path, marker)
    assert f"第 {line} 行" in e.value.message and says in e.value.message, e.value.message
    assert str(path) in e.value.message and "could not" not in e.value.message and "YAML" not in e.value.message


def test_the_slip_through_the_cli_is_exit_2_in_chinese(tmp_path: Path) -> None:
    path = _slipped(tmp_path, "cap: 2000", "cap：2000")
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert f"第 {_line_of(path, 'cap：2000')} 行" in result.stderr and "中文冒号" in result.stderr


def test_villages_come_in_the_order_of_the_rosters_numbered_files(tmp_path: Path) -> None:
    """Villages are listed as their files are numbered (natural order: 2- before 10-), whatever order
    the shell gave the files in — not by the characters' code points (张 < 李 < 王), nor as bash
    sorts names (1-, 10-, 2-)."""
    src = {p.name.split("-", 1)[1]: p for p in (ROOT / "samples" / "rosters").glob("*.xlsx")}
    folder = tmp_path / "花名册"
    folder.mkdir()
    for number, village in ((1, "张庄村.xlsx"), (2, "王楼村.xlsx"), (10, "李家湾村.xlsx")):
        (folder / f"{number}-{village}").write_bytes(src[village].read_bytes())
    as_bash_sorts = [folder / "1-张庄村.xlsx", folder / "10-李家湾村.xlsx", folder / "2-王楼村.xlsx"]
    for given in (as_bash_sorts, [folder]):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        result = runner.invoke(app, ["allocate", *map(str, given), "--campaign", "spring", "-o", str(out)])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert list(summary["by_village"]) == ["张庄村", "王楼村", "李家湾村"]
        listed = [line.split(",")[1] for line in (out / "allocation.csv").read_text(encoding="utf-8-sig").splitlines()[1:]]
        assert list(dict.fromkeys(listed)) == ["张庄村", "王楼村", "李家湾村"]
    budget = tmp_path / "预算"
    assert runner.invoke(app, ["budget", str(folder), "--campaign", "spring", "-o", str(budget)]).exit_code == 0
    import openpyxl

    column = [r[0] for r in openpyxl.load_workbook(budget / "经费预算.xlsx")["分村汇总"].iter_rows(min_row=3, values_only=True)]
    assert column[:3] == ["张庄村", "王楼村", "李家湾村"]


def test_ledger_times_are_the_office_clock_with_its_offset() -> None:
    stamp = auditlog.now()
    moment = datetime.fromisoformat(stamp)
    assert moment.utcoffset() == datetime.now().astimezone().utcoffset()
    assert local_time(stamp) == moment.strftime("%Y-%m-%d %H:%M")
    utc = "2027-01-20T01:30:00+00:00"  # written by an older version
    assert local_time(utc) == datetime.fromisoformat(utc).astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time("不是时间") == "不是时间"


def test_allocation_csv_names_standards_and_households_in_chinese(tmp_path: Path) -> None:
    """A clerk opens allocation.csv in Excel: 享受标准 are the plan's names (joined by ；, since a
    name may hold 、), 户编码 reads 村名/户号; `ledger record` and `--compare-with` still work on it."""
    rosters = sorted(str(p) for p in (ROOT / "samples" / "rosters").glob("*.xlsx"))
    out = tmp_path / "核定结果"
    assert runner.invoke(app, ["allocate", *rosters, "--campaign", "spring", "-o", str(out)]).exit_code == 0
    lines = (out / "allocation.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    assert {r["户编码"] for r in rows} == {f"{r['村(社区)']}/{r['户号']}" for r in rows}
    standards = {s for r in rows for s in r["享受标准"].split("；")}
    assert "低保家庭" in standards and "伤残军人、参战涉核、在乡老复员军人" in standards
    assert not any(ch.isascii() and ch.isalpha() for s in standards for ch in s), standards
    again = runner.invoke(app, ["allocate", *rosters, "--campaign", "spring", "-o", str(tmp_path / "再次"),
                                "--compare-with", str(out)])
    assert again.exit_code == 0, again.output
    import openpyxl

    counts = {r[0]: r[2] for r in openpyxl.load_workbook(tmp_path / "再次" / "与上次名单对比.xlsx").active.iter_rows(
        values_only=True) if r[0] in ("新增", "取消", "变更")}
    assert counts == {"新增": 0, "取消": 0, "变更": 0}  # the names read back as the same standards


def test_an_unfilled_template_is_an_error_not_a_silent_zero(tmp_path: Path) -> None:
    """A village that sends back the blank template: its people are missing, so validate exits 1
    and allocate (which goes on with the other villages) exits 1 and says so."""
    template = tmp_path / "4-空白村.xlsx"
    assert runner.invoke(app, ["template", "-o", str(template)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(template)])
    assert result.exit_code == 1
    assert "花名册有表头，但一个人也没有填写（工作表“花名册”）；可能是空白模板" in result.output
    roster = str(ROOT / "samples" / "rosters" / "1-王楼村.xlsx")
    allocated = runner.invoke(app, ["allocate", str(template), roster, "--campaign", "spring", "-o", str(tmp_path / "o")])
    assert allocated.exit_code == 1 and "花名册有 1 条错误" in allocated.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["by_village"]) == ["王楼村"]
    alone = runner.invoke(app, ["allocate", str(template), "--campaign", "spring", "-o", str(tmp_path / "空")])
    assert alone.exit_code == 1 and "花名册中没有一个合格的人，没有核定，也没有写出任何文件。" in alone.output
    assert "一个人也没有填写" in alone.output and not (tmp_path / "空").exists()  # no empty list to post


def test_a_roster_that_cannot_be_read_says_nothing_was_written(tmp_path: Path) -> None:
    broken = tmp_path / "损坏.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    result = runner.invoke(app, ["allocate", str(broken), str(ROOT / "samples" / "rosters" / "1-王楼村.xlsx"),
                                 "--campaign", "spring", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "没有核定，也没有写出任何文件" in result.output
    assert "文件不完整或已损坏" in result.output and "BadZip" not in result.output and not (tmp_path / "o").exists()


def test_weiwen_does_not_read_its_own_outputs_back_as_rosters(tmp_path: Path) -> None:
    folder = tmp_path / "花名册"
    folder.mkdir()
    for p in (ROOT / "samples" / "rosters").glob("*.xlsx"):
        (folder / p.name).write_bytes(p.read_bytes())
    assert runner.invoke(app, ["validate", str(folder), "--report", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["allocate", str(folder), "--campaign", "spring", "-o", str(folder)]).exit_code == 0
    again = runner.invoke(app, ["validate", str(folder)])
    assert again.exit_code == 0 and "共 3 个文件，169 人" in again.output
    assert "有 weiwen 写出的结果（不是花名册），未读取" in again.output and "1-王楼村.标注.xlsx" in again.output


def test_a_campaign_code_may_be_chinese(tmp_path: Path) -> None:
    path = _slipped(tmp_path, "code: spring-2027", "code: 春节-2027")
    assert load_rules(path).rules.campaign.code == "春节-2027"
    for bad in ("春节 2027", "春节/2027", "../x"):
        with pytest.raises(WeiwenError):
            load_rules(_slipped(tmp_path, "code: spring-2027", f"code: '{bad}'"))


def test_per_village_files_are_announced_as_their_folder(tmp_path: Path) -> None:
    """Over 50 villages the public lists and sign sheets are files per village: the screen names
    the folder and the count, not ten file names and "……另有"."""
    folder = tmp_path / "花名册"
    made = runner.invoke(app, ["samples", "generate", "-o", str(folder), "--households", "306", "--villages", "51"])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["allocate", str(folder), "--campaign", "spring", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    public = sorted((tmp_path / "o" / "公示名单").iterdir())
    villages = len(json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["by_village"])
    assert len(public) == villages > 50
    assert f"公示名单{os.sep}（{villages} 个文件，每村(社区)一个）" in result.output and "另有" not in result.output


def test_no_output_replaces_a_roster(tmp_path: Path) -> None:
    """`template -o` onto a filled roster, `check-duplicates -o` onto one of its inputs: refused, the
    roster unchanged (exit 2)."""
    roster = tmp_path / "1-王楼村.xlsx"
    roster.write_bytes((ROOT / "samples" / "rosters" / "1-王楼村.xlsx").read_bytes())
    before = roster.read_bytes()
    made = runner.invoke(app, ["template", "-o", str(roster)])
    assert made.exit_code == 2 and "已经存在（可能是填好的花名册），没有覆盖它" in made.output
    checked = runner.invoke(app, ["check-duplicates", str(roster), "-o", str(roster)])
    assert checked.exit_code == 2 and "是要查重的花名册本身，不能覆盖它" in checked.output
    assert roster.read_bytes() == before
