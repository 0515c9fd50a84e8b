"""The data model: frames checked at their boundaries, structured household keys, allocation.csv read back."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import make_id, write_xlsx
from weiwen import load_rosters
from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.model.frames import PERSONS, ROSTER_COLUMNS, FrameContractError, check, persons_frame
from weiwen.model.payment import FORMULA_START, HEADER, PaymentRow, unguard
from weiwen.model.recipients import HouseholdLink, household_code
from weiwen.read.allocation_csv import read_allocation_csv

runner = CliRunner()


def test_the_reader_makes_the_declared_frame(tmp_path: Path) -> None:
    roster = write_xlsx(tmp_path / "r.xlsx", [["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "家庭收入"],
                                              ["张庄村", "1", "王一", make_id(seq="011"), "户主", "低保", "300"],
                                              ["张庄村", "1", "王二", make_id(seq="021"), "子女", "", ""]])
    frame = load_rosters([roster]).frame
    assert tuple(c for c in frame.columns if not c.startswith("extra:")) == ROSTER_COLUMNS
    assert list(frame.columns[len(ROSTER_COLUMNS):]) == ["extra:家庭收入"]
    assert check(PERSONS, frame) is not None
    assert frame["household"].tolist() == [0, 0]
    assert frame["household_link"].tolist() == ["no", "no"]
    assert frame["household_ref"].tolist() == ["1", "1"]


def test_a_frame_that_breaks_its_declaration_is_refused() -> None:
    good = persons_frame([{"name": "王一", "household": 0}])
    with pytest.raises(FrameContractError, match="row"):
        check(PERSONS, good.assign(row=good["row"].astype(float)))
    with pytest.raises(FrameContractError, match="household_link"):
        check(PERSONS, good.assign(household_link=pd.Series(["no:张庄村:1"], dtype=good["household_link"].dtype)))
    with pytest.raises(FrameContractError, match="name"):
        check(PERSONS, good.assign(name=pd.Series([None], dtype=good["name"].dtype)))
    with pytest.raises(FrameContractError, match="stray"):
        check(PERSONS, good.assign(stray=1))


def test_same_number_in_two_villages_is_two_households(tmp_path: Path) -> None:
    """The key is (file, sheet, link, village, ref): 户号 1 of 张庄村 is not 户号 1 of 李村."""
    roster = write_xlsx(tmp_path / "r.xlsx", [["村(社区)", "户号", "姓名", "身份证号", "类别"],
                                              ["张庄村", "1", "王一", make_id(seq="011"), "低保"],
                                              ["李村", "1", "李一", make_id(seq="021"), "低保"]])
    frame = load_rosters([roster]).frame
    assert frame["household"].nunique() == 2
    result = runner.invoke(app, ["allocate", str(roster), "-c", "spring", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    rows = read_allocation_csv(tmp_path / "o", code="test").rows
    assert sorted(r.code for r in rows) == ["张庄村/1", "李村/1"]


def test_households_are_numbered_across_sheets_and_files(tmp_path: Path) -> None:
    header = ["村(社区)", "户号", "姓名", "身份证号", "类别"]
    a = write_xlsx(tmp_path / "a.xlsx", [header, ["张庄村", "1", "王一", make_id(seq="011"), "低保"],
                                         ["张庄村", "2", "王二", make_id(seq="021"), "低保"]])
    b = write_xlsx(tmp_path / "b.xlsx", [header, ["张庄村", "1", "李一", make_id(seq="031"), "低保"]])
    frame = load_rosters([a, b]).frame
    assert frame["household"].tolist() == [0, 1, 2]  # 户号 1 of a.xlsx and of b.xlsx are different households


def test_household_code() -> None:
    assert household_code(HouseholdLink.NUMBER, "张庄村", "001") == "张庄村/001"
    assert household_code(HouseholdLink.ROW, "张庄村", "12") == "第12行"
    assert household_code(HouseholdLink.SEQUENCE, "", "7") == "第7行起"
    assert household_code(HouseholdLink.HEAD_ID, "", "X") == "户主X"


def test_the_writers_guard_matches_the_models_formula_start(tmp_path: Path) -> None:
    """Every name that starts like a formula is written with one apostrophe and read back as typed."""
    names = [f"{c}王" for c in FORMULA_START if c not in "\t\r"] + ["'王", "王"]
    header = ["村(社区)", "户号", "姓名", "身份证号", "类别"]
    rows = [header] + [["张庄村", str(k + 1), n, make_id(seq=f"{k + 1:02d}1"), "低保"] for k, n in enumerate(names)]
    roster = write_xlsx(tmp_path / "r.xlsx", rows)
    result = runner.invoke(app, ["allocate", str(roster), "-c", "spring", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "o" / "allocation.csv").read_text(encoding="utf-8-sig")
    for n in names[:-2]:
        assert f",'{n}," in raw
    assert ",'王," in raw and ",''王," not in raw  # an apostrophe that guards nothing is left alone
    back = {r.head_name for r in read_allocation_csv(tmp_path / "o", code="test").rows}
    assert back == set(names)
    assert unguard("'=1") == "=1" and unguard("'王") == "'王"


def _csv(tmp_path: Path, rows: list[list[str]], header: tuple[str, ...] = HEADER) -> Path:
    path = tmp_path / "allocation.csv"
    path.write_text("\ufeff" + "\r\n".join(",".join(r) for r in [list(header), *rows]) + "\r\n", encoding="utf-8")
    return path


def _row(**changes: str) -> list[str]:
    row = {"户编码": "no:张庄村:1", "村(社区)": "张庄村", "户号": "1", "户主姓名": "王一", "身份证号": make_id(seq="011"),
           "银行卡号": "6228480000000000000", "享受标准": "dibao", "现金": "600.00", "物资折价": "130.00", "合计": "730.00",
           "联系电话": "13800000000", "核定依据": "享受“低保户”", "开户行": "农商银行"}
    row.update(changes)
    return [row[h] for h in HEADER]


def test_allocation_csv_rows_are_checked_and_every_bad_row_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, [_row(), _row(合计="731.00"), _row(身份证号="123"), _row(现金="六百")])
    with pytest.raises(WeiwenError) as e:
        read_allocation_csv(path, code="ledger-input")
    text = str(e.value)
    assert e.value.code == "ledger-input"
    assert "有 3 行无法读取" in text
    assert "第 3 行：合计不等于现金加物资折价" in text
    assert "第 4 行：身份证号：身份证号无效" in text
    assert "第 5 行：现金：不是数字" in text
    assert "123" not in text.replace(str(path), "")  # values are not echoed: they may be ID numbers


def test_allocation_csv_of_an_earlier_version_is_read(tmp_path: Path) -> None:
    """Files written before 联系电话 and 核定依据 existed still go into the ledger; the audit needs the phone."""
    old = HEADER[:10]
    path = _csv(tmp_path, [_row()[:10]], header=old)
    rows = read_allocation_csv(path, code="ledger-input").rows
    assert rows == [PaymentRow(code="no:张庄村:1", village="张庄村", household_no="1", head_name="王一",
                               id_number=make_id(seq="011"), bank_card="6228480000000000000", standards="dibao",
                               cash=Decimal("600.00"), goods_value=Decimal("130.00"), total=Decimal("730.00"))]
    result = runner.invoke(app, ["sample", str(tmp_path)])
    assert result.exit_code == 2
    assert "没有“联系电话”列" in result.output


def test_a_file_that_is_not_allocation_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("姓名,金额\r\n王一,1\r\n", encoding="utf-8")
    with pytest.raises(WeiwenError, match=re.escape("缺少列：户编码、村(社区)、户号")):
        read_allocation_csv(path, code="sample-input")


def test_explain_finds_a_household_by_its_code(tmp_path: Path) -> None:
    """The 户编码 of allocation.csv and the audit sample names one household, also when two villages share a 户号."""
    roster = write_xlsx(tmp_path / "r.xlsx", [["村(社区)", "户号", "姓名", "身份证号", "类别"],
                                              ["张庄村", "1", "王一", make_id(seq="011"), "低保"],
                                              ["李村", "1", "李一", make_id(seq="021"), "低保"]])
    both = runner.invoke(app, ["explain", "1", str(roster), "-c", "spring"])
    assert both.exit_code == 1 and "对应 2 户" in both.output
    one = runner.invoke(app, ["explain", "李村/1", str(roster), "-c", "spring"])
    assert one.exit_code == 0, one.output
    assert "李一" in one.output and "王一" not in one.output
