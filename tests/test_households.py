"""Households: linking members, heads, 人口数, merged cells, duplicates within a run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from tests.conftest import TODAY, make_id, write_xlsx
from weiwen import load_rosters
from weiwen.cli import app

A1, A2, A3 = make_id(seq="111"), make_id(seq="112"), make_id(seq="113")
B1, B2 = make_id(region="110102", seq="211"), make_id(region="110102", seq="212")


def load(path: Path):  # noqa: ANN201
    return load_rosters([path], today=TODAY)


def problems(intake) -> set[tuple[int, str]]:  # noqa: ANN001
    return {(p.row, p.code) for p in intake.problems if p.severity.value != "info"}


def test_linked_by_household_number(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["张庄村", "1", "王一", A1, "户主", "低保", 3],
        ["张庄村", "1", "王二", A2, "妻子", "", 3],
        ["张庄村", "1", "王三", A3, "儿子", "残疾人", 3],
        ["张庄村", "2", "李一", B1, "户主", "特困", 1],
    ])
    intake = load(p)
    assert problems(intake) == set()
    f = intake.frame
    assert f["household"].nunique() == 2
    assert f["is_head"].tolist() == [True, False, False, True]
    assert f["relation"].tolist() == ["户主", "配偶", "子女", "户主"]
    assert f["categories"].tolist() == ["低保", "", "残疾人", "特困"]


def test_linked_by_head_id_without_relation_column(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "户主身份证号", "户主姓名", "类别"],
        ["王二", A2, A1, "王一", ""],
        ["王一", A1, A1, "王一", "低保"],
        ["李一", B1, B1, "李一", "特困"],
    ])
    f = load(p).frame
    assert f["household"].nunique() == 2
    assert f["is_head"].tolist() == [False, True, True]


def test_linked_by_order_of_relation(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "与户主关系", "类别"],
        ["王一", A1, "户主", "低保"],
        ["王二", A2, "配偶", ""],
        ["李一", B1, "户主", "特困"],
        ["李二", B2, "女儿", ""],
    ])
    f = load(p).frame
    assert f.groupby("household").size().tolist() == [2, 2]


def test_each_row_a_household_without_any_link(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别"], ["王一", A1, "低保"], ["李一", B1, "特困"]])
    f = load(p).frame
    assert f["household"].nunique() == 2 and f["is_head"].all()


def test_two_heads_no_head_and_size_checks(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["1", "王一", A1, "户主", "低保", 2],
        ["1", "王二", A2, "户主", "", 2],
        ["2", "李一", B1, "配偶", "特困", 1],
        ["3", "赵一", A3, "户主", "低保", 1],
        ["3", "赵二", B2, "子", "", 1],
    ])
    got = problems(load(p))
    assert got == {(3, "household-multiple-heads"), (4, "household-no-head"), (5, "household-size-fewer")}


def test_size_larger_than_listed_is_explained(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["1", "王一", A1, "户主", "低保", 5],
        ["1", "王二", A2, "配偶", "", 5],
    ])
    intake = load(p)
    assert problems(intake) == set()
    info = [i for i in intake.infos if i.code == "household-size-more"]
    assert info and "5 人" in info[0].message and "2 人" in info[0].message


def test_merged_household_cells_are_filled_down(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["张庄村", "1", "王一", A1, "户主", "低保", 3],
        [None, None, "王二", A2, "配偶", None, None],
        [None, None, "王三", A3, "子", None, None],
    ], merged=["A2:A4", "B2:B4", "G2:G4"])
    intake = load(p)
    assert problems(intake) == set()
    f = intake.frame
    assert f["village"].tolist() == ["张庄村"] * 3
    assert f["household"].nunique() == 1
    assert f["household_size"].tolist() == [3, 3, 3]
    assert any(i.code == "merged-cells-filled" for i in intake.infos)


def test_merged_id_cells_are_an_error(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "类别"],
        ["王一", A1, "低保"],
        ["王二", None, "低保"],
    ], merged=["B2:B3"])
    got = problems(load(p))
    assert (2, "merged-person-field") in got


def test_same_person_twice_across_files(tmp_path: Path) -> None:
    a = write_xlsx(tmp_path / "a.xlsx", [["姓名", "身份证号", "类别"], ["王一", A1, "低保"]])
    b = write_xlsx(tmp_path / "b.xlsx", [["姓名", "身份证号", "类别"], ["王一", A1.lower(), "低保"]])
    intake = load_rosters([a, b], today=TODAY)
    dups = [p for p in intake.errors if p.code == "duplicate-person"]
    assert len(dups) == 2
    # Each row names the other: file, sheet and row.
    said = {(p.file, p.row): p.message for p in dups}
    assert set(said) == {(str(a), 2), (str(b), 2)}
    assert f"{b} 工作表“花名册”第 2 行" in said[(str(a), 2)] and f"{a} 工作表“花名册”第 2 行" in said[(str(b), 2)]
    assert intake.valid_rows == 0


def test_unknown_relation_is_a_warning_and_kept_as_written(tmp_path: Path) -> None:
    """relation-invalid: a 与户主关系 the vocabulary does not know is reported at its cell, kept as typed,
    and does not keep the person out (a warning, not an error)."""
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["户号", "姓名", "身份证号", "与户主关系", "类别"],
        ["1", "王一", A1, "户主", "低保"],
        ["1", "王二", A2, "表舅", "低保"],
        ["1", "王三", A3, "之女", ""],  # a known way of writing 子女
    ])
    intake = load(p)
    found = [w for w in intake.problems if w.code == "relation-invalid"]
    assert [(w.row, w.cell, w.column, w.value, w.severity.value) for w in found] == [
        (3, "D3", "与户主关系", "表舅", "warning")]
    assert found[0].message == "与户主关系“表舅”无法识别。"
    assert intake.frame["relation"].tolist() == ["户主", "表舅", "子女"]
    assert intake.valid_rows == 3 and not intake.errors
    result = CliRunner().invoke(app, ["validate", str(p), "--json"])
    assert result.exit_code == 0, result.output
    assert [(w["code"], w["cell"]) for w in json.loads(result.stdout)["warnings"]] == [("relation-invalid", "D3")]


def test_flag_columns_and_separators(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "类别", "是否低保", "是否残疾人"],
        ["王一", A1, "三属；现役军人家属", "是", "√"],
        ["王二", A2, "", "否", ""],
        ["王三", A3, "特困", "也许", ""],
    ])
    intake = load(p)
    f = intake.frame
    assert f["categories"].tolist()[:2] == ["三属、现役军人家属、低保、残疾人", ""]
    assert (4, "flag-invalid") in problems(intake)


def test_birth_date_and_sex_columns(tmp_path: Path) -> None:
    woman = make_id(birth="19800229", seq="124")
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "性别", "出生日期", "类别"],
        ["王一", woman, "女", "1980年2月29日", "低保"],
        ["王二", woman.replace("19800229", "19800229"), "女性", "1980.02", "低保"],
        ["王三", make_id(seq="126"), "F", 19900307, "低保"],
        ["王四", make_id(seq="128"), "男", "1990/3/8", "低保"],
        ["王五", make_id(seq="130"), "?", "三月", "低保"],
    ])
    got = problems(load(p))
    assert got == {
        (2, "duplicate-person"), (3, "duplicate-person"),
        (5, "sex-mismatch"), (5, "birthdate-mismatch"),
        (6, "sex-invalid"), (6, "birthdate-invalid"),
    }


def test_phone_and_bank_columns(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "类别", "联系电话", "银行卡号"],
        ["王一", A1, "低保", "+86 138 0013 8000", "6228 4804 0256 4890 018"],
        ["王二", A2, "低保", 13800138000, 6228480402564890018],
        ["王三", A3, "低保", "0731-8888888", "6228480402564890019"],
        ["王四", B1, "低保", "12345", "62284804abc"],
    ])
    intake = load(p)
    assert problems(intake) == {
        (3, "phone-numeric-cell"), (3, "bank-numeric-cell"), (4, "bank-luhn"),
        (5, "phone-invalid"), (5, "bank-invalid"),
    }
    f = intake.frame
    assert f["phone"].tolist() == ["13800138000", "13800138000", "0731-8888888", ""]
    assert f["bank_card"].tolist()[0] == "6228480402564890018"


def test_phone_and_card_edge_cells_fixed_this_round(tmp_path: Path) -> None:
    """11 digits starting 10 are no mobile number; a card in non-ASCII digits is invalid (it used to crash)."""
    arabic = "".join(chr(0x0660 + int(d)) for d in "6228480402564890018")
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号", "类别", "联系电话", "银行卡号"],
        ["王一", A1, "低保", "10000000000", arabic],
        ["王二", A2, "低保", "13800138000", "6228480402564890018"],
    ])
    intake = load(p)
    assert problems(intake) == {(2, "phone-invalid"), (2, "bank-invalid")}
    assert intake.frame["phone"].tolist() == ["", "13800138000"]
    assert intake.frame["bank_card"].tolist() == ["", "6228480402564890018"]


def test_unknown_columns_are_carried(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别", "家庭人均收入"], ["王一", A1, "低保", 1200]])
    assert load(p).frame["extra:家庭人均收入"].tolist() == ["1200"]


def test_user_aliases_file(tmp_path: Path) -> None:
    from weiwen.model.vocab import load_vocabulary

    extra = tmp_path / "aliases.yaml"
    extra.write_text("fields:\n  id_number:\n    aliases: [身份证编码]\ncategories:\n  低保:\n    aliases: [低保老户]\n",
                     encoding="utf-8")
    p = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证编码", "类别"], ["王一", A1, "低保老户"]])
    intake = load_rosters([p], vocab=load_vocabulary(extra), today=TODAY)
    assert not intake.errors and intake.frame["categories"].tolist() == ["低保"]


def test_two_level_header(tmp_path: Path) -> None:
    """序号/户主/身份证号 merged over two header rows, 家庭成员情况 over 姓名 | 与户主关系."""
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["张庄村困难群众花名册"],
        ["序号", "户号", "身份证号", "家庭成员情况", None, "类别"],
        [None, None, None, "姓名", "与户主关系", None],
        [1, "1", A1, "王一", "户主", "低保"],
        [2, "1", A2, "王二", "配偶", ""],
    ], merged=["A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3"])
    intake = load(p)
    assert problems(intake) == set()
    f = intake.frame
    assert f["name"].tolist() == ["王一", "王二"] and f["row"].tolist() == [4, 5]
    assert f["relation"].tolist() == ["户主", "配偶"]
    title = [i for i in intake.infos if i.code == "rows-skipped-title"]
    assert title and "第 1 行" in title[0].message


def test_household_size_and_grade_cells_as_typed(tmp_path: Path) -> None:
    """Numbers, number-like text and odd cells in 人口数 / 残疾等级, each read once per distinct value:
    a TRUE cell is not the number 1, an empty cell is no value, 0 and 31 are out of range."""
    ids = [make_id(seq=f"{300 + k}") for k in range(8)]
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "残疾等级"],
        ["张庄村", "1", "甲一", ids[0], "户主", "低保", 1, "二级"],
        ["张庄村", "2", "甲二", ids[1], "户主", "低保", 1.0, 2],
        ["张庄村", "3", "甲三", ids[2], "户主", "低保", "1人", ""],
        ["张庄村", "4", "甲四", ids[3], "户主", "低保", True, "二"],
        ["张庄村", "5", "甲五", ids[4], "户主", "低保", 0, "五级"],
        ["张庄村", "6", "甲六", ids[5], "户主", "低保", 31, None],
        ["张庄村", "7", "甲七", ids[6], "户主", "低保", "", 1],
        ["张庄村", "8", "甲八", ids[7], "户主", "低保", "一人", 1],
    ])
    intake = load(p)
    f = intake.frame
    assert f["household_size"].tolist() == [1, 1, 1, pd.NA, pd.NA, pd.NA, pd.NA, 1]  # "一人": the number in words
    assert f["disability_grade"].tolist() == [2, 2, pd.NA, 2, pd.NA, pd.NA, 1, 1]
    found = {(p.row, p.code) for p in intake.problems if p.code.endswith("-invalid")}
    assert found == {(5, "household-size-invalid"), (6, "household-size-invalid"), (7, "household-size-invalid"),
                     (6, "disability-grade-invalid")}


def test_blank_markers_with_spaces_or_brackets(tmp_path: Path) -> None:
    ids = [make_id(seq=f"{600 + k}") for k in range(3)]
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "残疾等级", "银行卡号"],
        ["张庄村", "1", "甲一", ids[0], "户主", "低保", 2, " 无 ", "（无）"],
        ["张庄村", "1", "甲二", ids[1], "配偶", "(无)", 2, "\u3000/", "无 "],
        ["张庄村", "2", "乙一", ids[2], "户主", "低保", 1, "一 ", "\t-"],
    ])
    intake = load(p)
    assert intake.errors == []
    assert intake.frame["categories"].tolist() == ["低保", "", "低保"]
    assert intake.frame["disability_grade"].tolist() == [pd.NA, pd.NA, 1]  # "一 " is grade one, not a marker
    notes = {p.column for p in intake.infos if p.code == "blank-marker"}
    assert notes == {"类别", "残疾等级", "银行卡号"}


def test_a_grade_is_read_only_where_a_cell_names_one(tmp_path: Path) -> None:
    # Before, the first character decided: "12" was grade 1 and "一户多残" grade 1 (重度残疾: paid as such).
    cells = ["12", "2型糖尿病", "一户多残", "三无人员", "二等", "Ⅱ级", "肢体III级", "2级", "四级"]
    ids = [make_id(seq=f"{500 + k}") for k in range(len(cells))]
    p = write_xlsx(tmp_path / "r.xlsx", [["村", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "残疾等级"],
                                         *[["张庄村", str(k + 1), f"甲{k}", ids[k], "户主", "低保", 1, c]
                                           for k, c in enumerate(cells)]])
    intake = load(p)
    assert intake.frame["disability_grade"].tolist() == [pd.NA, pd.NA, pd.NA, pd.NA, 2, 2, 3, 2, 4]
    assert [(e.row, e.code) for e in intake.errors] == [(r, "disability-grade-invalid") for r in (2, 3, 4, 5)]


def test_what_village_rosters_write_for_numbers_and_for_nothing(tmp_path: Path) -> None:
    """人口数 in words, the grade inside a certificate's wording, and "无" "/" "-" in columns where they
    mean an empty cell (as values they were errors that left the person out)."""
    ids = [make_id(seq=f"{400 + k}") for k in range(5)]
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数", "残疾等级", "银行卡号", "户主身份证号"],
        ["张庄村", "1", "甲一", ids[0], "户主", "低保、残疾", "叁", "肢体二级", "无", ids[0]],
        ["张庄村", "1", "甲二", ids[1], "配偶", "无", "三人", "无", "/", "/"],
        ["张庄村", "1", "甲三", ids[2], "子女", "-", "三", "视力残疾一级", "-", "-"],
        ["张庄村", "2", "乙一", ids[3], "户主", "低保", "十二", "残疾等级四级", "", ""],
        ["张庄村", "3", "丙一", ids[4], "户主", "低保", "一", "肢体二级、智力一级", "", ""],
    ])
    intake = load(p)
    f = intake.frame
    assert f["household_size"].tolist() == [3, 3, 3, 12, 1]
    assert f["disability_grade"].tolist() == [2, pd.NA, 1, 4, pd.NA]  # two grades in one cell: not guessed
    assert f["categories"].tolist() == ["低保、残疾人", "", "", "低保", "低保"]
    assert [(e.row, e.code) for e in intake.errors] == [(6, "disability-grade-invalid")]
    notes = {p.column: p.message for p in intake.infos if p.code == "blank-marker"}
    assert set(notes) == {"类别", "残疾等级", "银行卡号", "户主身份证号"}
    assert "3 格" in notes["银行卡号"] and "“-”“/”“无”" in notes["银行卡号"]


def long_roster_lines(persons: int) -> list[list[str]]:
    """A long roster's lines (households of 1-3 persons in ten villages), with planted problems: a wrong
    check digit, a phone number too short, an unknown relation, an unknown category."""
    from datetime import date, timedelta

    lines: list[list[str]] = []
    k = 0
    household = 0
    while k < persons:
        household += 1
        village = f"第{household % 10}村"
        for m in range(household % 3 + 1):
            birth = (date(1940, 1, 1) + timedelta(days=k // 900)).strftime("%Y%m%d")
            pid = make_id(birth=birth, seq=f"{k % 900 + 100:03d}")
            if k % 97 == 5:
                pid = pid[:-1] + ("1" if pid[-1] != "1" else "2")
            phone = "1380013" if k % 89 == 7 else f"138{k:08d}"
            relation = "户主" if m == 0 else ("表舅" if k % 101 == 3 else "子女")
            category = "低保" if k % 103 != 9 else "低宝"
            lines.append([village, str(household), f"人{k}", pid, relation, category, str(household % 3 + 1), phone])
            k += 1
    return lines


def test_a_long_sheet_reads_as_the_same_rows_in_short_files(tmp_path: Path) -> None:
    """One sheet of 24,000 rows and the same rows cut into 24 files of about 1,000 give the same persons
    and the same problems at the same rows.  (A long sheet is the one the intake treats differently,
    cleaning its text on a second thread.)"""
    header = "村(社区),户号,姓名,身份证号,与户主关系,类别,人口数,联系电话"
    lines = long_roster_lines(24_000)
    whole = tmp_path / "一张表.csv"
    whole.write_text("\n".join([header, *map(",".join, lines)]) + "\n", encoding="utf-8")
    parts: list[Path] = []
    starts: list[int] = []
    k = 0
    while k < len(lines):  # cut at household boundaries, about every 1,000 rows
        end = min(k + 1000, len(lines))
        while end < len(lines) and lines[end][1] == lines[end - 1][1]:
            end += 1
        part = tmp_path / f"部分{len(parts):02d}.csv"
        part.write_text("\n".join([header, *map(",".join, lines[k:end])]) + "\n", encoding="utf-8")
        parts.append(part)
        starts.append(k)
        k = end
    one = load_rosters([whole], today=TODAY)
    cut = load_rosters(parts, today=TODAY)
    assert len(one.frame) == len(cut.frame) == 24_000

    def at(intake, offsets: dict[str, int]) -> list[tuple[object, ...]]:  # noqa: ANN001
        """Every problem of a row: code, column, value, and the row's place among all 24,000."""
        return sorted((p.code, p.column or "", p.value or "", offsets[p.file] + p.row - 2)
                      for p in intake.problems if p.row is not None)

    found = at(one, {str(whole): 0})
    assert found == at(cut, {str(part): start for part, start in zip(parts, starts, strict=True)})
    assert {code for code, *_ in found} == {"id-checksum", "phone-invalid", "relation-invalid", "category-unknown"}
    assert len([f for f in found if f[0] == "phone-invalid"]) == len(range(7, 24_000, 89))

    def persons(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """The persons' columns, without where they were read (file, sheet, row, keys made from the file)."""
        where = [c for c in frame.columns if c in ("file", "sheet", "row")
                 or frame[c].astype(str).str.contains(name, regex=False).any()]
        return frame.drop(columns=where).reset_index(drop=True)

    pd.testing.assert_frame_equal(persons(one.frame, "一张表"), persons(cut.frame, "部分"))


def village_problems(intake) -> list[tuple[str, str, int | None]]:  # noqa: ANN001
    return [(p.code, p.sheet or "", p.row) for p in intake.problems if p.code.startswith("village")]


def test_village_taken_from_title_sheet_or_file_name(tmp_path: Path) -> None:
    """No 村(社区) column: the village comes from the title, else the sheet name, else the file name."""
    header = ["姓名", "身份证号", "类别"]
    by_sheet = write_xlsx(tmp_path / "城关镇花名册.xlsx", [header, ["王一", A1, "低保"]], sheet="张庄村",
                          extra_sheets={"李家湾村": [header, ["李一", B1, "低保"]]})
    intake = load(by_sheet)
    assert intake.frame["village"].tolist() == ["张庄村", "李家湾村"]
    assert village_problems(intake) == [("village-inferred", "张庄村", 1), ("village-inferred", "李家湾村", 1)]
    assert "工作表名" in intake.infos[0].message

    by_file = write_xlsx(tmp_path / "03-东关10村.xlsx", [header, ["王一", A1, "低保"]], sheet="Sheet1")
    assert load(by_file).frame["village"].tolist() == ["东关10村"]
    titled = write_xlsx(tmp_path / "r.xlsx", [["城关镇张庄村2027年春节走访慰问花名册"], header, ["王一", A1, "低保"]])
    assert load(titled).frame["village"].tolist() == ["张庄村"]  # the township in front is not the village

    nowhere = write_xlsx(tmp_path / "名单.xlsx", [header, ["王一", A1, "低保"]], sheet="Sheet1")
    intake = load(nowhere)
    assert [(p.code, p.row) for p in intake.infos if p.code.startswith("village")] == [("village-missing", 1)]
    assert not intake.warnings  # a union's or a charity's list has no villages: nothing to warn about


def test_empty_village_cell_is_a_warning(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "r.xlsx", [["村(社区)", "姓名", "身份证号", "类别"], ["张庄村", "王一", A1, "低保"],
                                          [None, "李一", B1, "低保"]])
    intake = load(p)
    assert [(w.code, w.row, w.cell) for w in intake.warnings] == [("village-empty", 3, "A3")]
    assert intake.valid_rows == 2


def test_sheets_named_by_village_are_allocated_village_by_village(tmp_path: Path) -> None:
    header = ["姓名", "身份证号", "类别", "人口数"]
    roster = write_xlsx(tmp_path / "城关镇花名册.xlsx", [header, ["王一", A1, "低保", 1], ["王二", A2, "低保", 1]],
                        sheet="张庄村", extra_sheets={"李家湾村": [header, ["李一", B1, "低保", 1]]})
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["allocate", str(roster), "--campaign", "spring", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sorted(doc["by_village"]) == ["张庄村", "李家湾村"]
    lines = (out / "allocation.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4 and {line.split(",")[1] for line in lines[1:]} == {"张庄村", "李家湾村"}


def test_categories_with_notes_tiers_and_joiners(tmp_path: Path) -> None:
    """低保（A类）, A类低保, 特困(分散), 低保+残疾: the known category is read, the note and tier set aside."""
    cells = ["低保（A类）", "A类低保", "特困(分散)", "城市低保一档", "低保+残疾", "低保和三属", "和平"]
    ids = [make_id(seq=f"{500 + k}") for k in range(len(cells))]
    p = write_xlsx(tmp_path / "r.xlsx", [["姓名", "身份证号", "类别"],
                                          *([f"甲{k}", ids[k], c] for k, c in enumerate(cells))])
    intake = load(p)
    assert intake.frame["categories"].tolist() == ["低保", "低保", "特困", "城市低保", "低保、残疾人", "低保、三属", ""]
    assert [(e.row, e.code, e.value) for e in intake.errors] == [(8, "category-unknown", "和平")]


def test_headers_with_notes_in_brackets(tmp_path: Path) -> None:
    """Template headers carry instructions: 身份证号码（必填）, 与户主关系（户主填本人）, 类别（可多选）."""
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["姓名", "身份证号码（必填）", "与户主关系（户主填本人）", "类别（可多选）", "家庭人口（人）", "残疾等级（一至四级）"],
        ["王一", A1, "本人", "低保、残疾人", 2, "肢体二级"],
        ["王二", A2, "妻子", "", 2, "无"],
    ])
    intake = load(p)
    assert not intake.errors and not intake.warnings
    f = intake.frame
    assert f["relation"].tolist() == ["户主", "配偶"] and f["categories"].tolist() == ["低保、残疾人", ""]
    assert f["household_size"].tolist() == [2, 2] and f["disability_grade"].tolist()[0] == 2


def test_household_cells_written_once_on_the_head_row(tmp_path: Path) -> None:
    """户号 and 村 filled only on the head's row, or 同上 below it: members take them from the row above
    (as merged cells would); a head's row left empty gives its members nothing to take."""
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["村(社区)", "户号", "姓名", "身份证号", "与户主关系", "类别", "人口数"],
        ["张庄村", "1", "王一", A1, "户主", "低保", 3],
        [None, None, "王二", A2, "配偶", None, None],
        ["同上", "同上", "王三", A3, "儿子", None, None],
        ["张庄村", "2", "李一", B1, "户主", "低保", 2],
        [None, None, "李二", B2, "妻子", None, None],
    ])
    intake = load(p)
    assert problems(intake) == set()
    f = intake.frame
    assert f["household"].nunique() == 2 and f["village"].tolist() == ["张庄村"] * 5
    assert f["is_head"].tolist() == [True, False, False, True, False]
    notes = {i.column: i.message for i in intake.infos if i.code == "filled-from-above"}
    assert set(notes) == {"村(社区)", "户号"} and "3 格" in notes["户号"]

    no_relation = write_xlsx(tmp_path / "n.xlsx", [["户号", "姓名", "身份证号", "类别"], ["1", "王一", A1, "低保"],
                                                   [None, "王二", A2, "低保"]])
    assert load(no_relation).frame["household"].nunique() == 2  # without 与户主关系 an empty 户号 is not guessed
