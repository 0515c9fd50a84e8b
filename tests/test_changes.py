"""weiwen.changes: what changed between two lists, per household and why; the 变更清单 workbook."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import make_id
from weiwen.app.pipeline import load_and_decide
from weiwen.changes import (NOT_LISTED, Change, ChangeCounts, ChangeKind, Listed, compare, count_changes,
                            left_out_reasons, listed_from_decision, listed_from_payments, standard_names)
from weiwen.cli import app
from weiwen.core.errors import WeiwenError
from weiwen.decision import Decision
from weiwen.model.payment import PaymentRow
from weiwen.read.allocation_csv import read_allocation_csv
from weiwen.rules import load_rules
from weiwen.sheets.changes_book import HEADS, NO_DIFFERENCE, write_changes_book

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "samples" / "rosters").glob("*.xlsx"))
FULL_ID = re.compile(r"[0-9]{17}[0-9Xx]")


def hh(seq: int, village: str, name: str, codes: str, names: str, total_fen: int, categories: str = "") -> Listed:
    id_number = make_id(seq=f"{seq:03d}")
    return Listed(key=id_number, code=f"no:{village}:{seq:03d}", village=village, name=name,
                  id_masked=f"{id_number[:6]}********{id_number[-4:]}", standards=codes, categories=categories,
                  total_fen=total_fen, standard_names=names)


# The worked example.  Before (公示): 7 households, 5,450.00 元.
A = hh(1, "张庄村", "王建国", "dibao", "低保家庭", 110000, "低保")
B = hh(2, "张庄村", "赵强", "sanshu", "三属", 96000, "三属")
C = hh(3, "李家湾村", "孙丽", "dibao", "低保家庭", 55000, "低保")
D = hh(4, "李家湾村", "周涛", "hardship", "困难家庭", 79000, "困难家庭")
E = hh(5, "王楼村", "吴军", "youfu", "伤残军人、参战涉核、在乡老复员军人", 60000, "伤残军人")
F = hh(6, "王楼村", "钱七", "dibao", "低保家庭", 90000, "低保")
G = hh(7, "王楼村", "郑八", "dibao", "低保家庭", 55000, "低保")
BEFORE = [A, B, C, D, E, F, G]
# After (第2版): A the same (its categories unknown on this side: not a difference), B moved
# village, C changed standard, category and amount, D amount only, E dropped by an objection,
# F dropped without a reason, G the same, H new.
H = hh(8, "张庄村", "冯九", "army-family", "现役军人家属", 30000, "现役军人家属")
AFTER = [replace(A, categories=""), replace(B, village="李家湾村", code="no:李家湾村:009"),
         replace(C, standards="dibao-edge", standard_names="低保边缘家庭", categories="低保边缘", total_fen=50000),
         replace(D, total_fen=60000), G, H]
LEFT_OUT = {E.key: ("排除", "举报属实取消，名额不予补缺")}


def test_worked_example_every_household_with_its_reasons() -> None:
    changes = compare(BEFORE, AFTER, LEFT_OUT)
    # By village (code point order, as the decision table sorts), then 新增, 取消, 变更, then name.
    got = [(c.village, c.kind, c.name, c.reasons) for c in changes]
    assert got == [
        ("张庄村", ChangeKind.ADDED, "冯九", ("新纳入，享受标准：现役军人家属",)),
        ("李家湾村", ChangeKind.CHANGED, "周涛", ("金额由 790.00 元变为 600.00 元",)),
        ("李家湾村", ChangeKind.CHANGED, "孙丽", ("享受标准由 低保家庭 变为 低保边缘家庭", "类别由 低保 变为 低保边缘",
                                               "金额由 550.00 元变为 500.00 元")),
        ("李家湾村", ChangeKind.CHANGED, "赵强", ("村(社区)由 张庄村 变为 李家湾村",)),
        ("王楼村", ChangeKind.DROPPED, "吴军", ("排除：举报属实取消，名额不予补缺",)),
        ("王楼村", ChangeKind.DROPPED, "钱七", (NOT_LISTED,)),
    ]
    assert NOT_LISTED == "本次名单中没有该户（花名册未报送）"
    dropped = changes[4]
    assert dropped.before == E and dropped.after is None and dropped.id_masked == E.id_masked
    assert dropped.difference_fen == -60000
    # By hand: +300.00; −600.00 − 900.00 = −1,500.00; (600 − 790) + (500 − 550) + 0 = −240.00; net −1,440.00,
    # which is 4,010.00 − 5,450.00.
    counts = count_changes(changes)
    assert counts == ChangeCounts(added=1, dropped=2, changed=3, added_fen=30000, dropped_fen=-150000,
                                  changed_fen=-24000)
    assert counts.households == 6 and counts.difference_fen == -144000
    assert sum(x.total_fen for x in AFTER) - sum(x.total_fen for x in BEFORE) == -144000


def test_same_lists_and_reordered_codes_are_no_change() -> None:
    assert compare(BEFORE, list(reversed(BEFORE))) == []
    two = replace(A, standards="dibao、army-family", standard_names="低保家庭、现役军人家属")
    assert compare([two], [replace(two, standards="army-family、dibao", code="row:12")]) == []
    # Shown by name where known, by code where not (an allocation.csv read without names).
    coded = replace(C, standard_names="")
    assert compare([coded], [replace(coded, standards="tekun")])[0].reasons == ("享受标准由 dibao 变为 tekun",)
    assert compare([replace(A, standards="", standard_names="")], [A])[0].reasons == ("享受标准由 无 变为 低保家庭",)
    # Another code under the same name (a standard renumbered): said so, without the codes.
    assert compare([A], [replace(A, standards="dibao-2027")])[0].reasons == (
        "享受标准名称同为 低保家庭，但已是规则中的另一项标准（规则中这项标准的代码改了）",)


def test_a_key_listed_twice_is_refused_in_chinese() -> None:
    with pytest.raises(WeiwenError) as e:
        compare([A, replace(A, village="王楼村")], [A])
    assert e.value.code == "changes-duplicate"
    assert "原名单中同一户主出现不止一次" in e.value.message and A.key not in e.value.message


def test_payments_to_listed_exact_fen_and_names() -> None:
    row = PaymentRow(code="no:张庄村:001", village="张庄村", household_no="001", head_name="王建国",
                     id_number=make_id(seq="001"), bank_card="", standards="dibao、army-family",
                     cash=Decimal("1400.10"), goods_value=Decimal("190.00"), total=Decimal("1590.10"))
    [plain] = listed_from_payments([row])
    assert plain.key == make_id(seq="001") and plain.total_fen == 159010 and plain.categories == ""
    assert plain.standards == "dibao、army-family" and plain.shown_standards == "dibao、army-family"
    assert plain.id_masked == make_id(seq="001")[:6] + "********" + make_id(seq="001")[-4:]
    [named] = listed_from_payments([row], names={"dibao": "低保家庭"})  # a file written before 0.9: codes
    assert named.standards == "dibao、army-family" and named.shown_standards == "低保家庭；army-family"
    names = {"dibao": "低保家庭", "veteran": "伤残军人、参战涉核、在乡老复员军人", "army-family": "现役军人家属"}
    for listed, codes in (("伤残军人、参战涉核、在乡老复员军人；现役军人家属", "veteran、army-family"),
                          ("伤残军人、参战涉核、在乡老复员军人", "veteran"), ("低保家庭；已取消的标准", "dibao、已取消的标准")):
        [now] = listed_from_payments([row.model_copy(update={"standards": listed})], names=names)
        assert now.standards == codes, listed  # names (which may hold 、) back to the codes compared


# Households as (village, name, standards code, total fen) for the property.
_HOUSEHOLD = st.tuples(st.sampled_from(["张庄村", "李家湾村", "王楼村"]), st.sampled_from(["甲", "乙", "丙"]),
                       st.sampled_from(["dibao", "sanshu", "dibao、army-family"]), st.integers(0, 300000))
_LIST = st.dictionaries(st.integers(0, 30), _HOUSEHOLD, max_size=20)


def _listed(key: int, v: tuple[str, str, str, int]) -> Listed:
    return Listed(key=f"k{key}", code=f"row:{key}", village=v[0], name=v[1], id_masked="", standards=v[2],
                  categories="", total_fen=v[3])


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(_LIST, _LIST)
def test_applying_the_changes_to_the_previous_list_gives_the_current(before: dict[int, tuple[str, str, str, int]],
                                                                      after: dict[int, tuple[str, str, str, int]]) -> None:
    previous = [_listed(k, v) for k, v in before.items()]
    current = [_listed(k, v) for k, v in after.items()]
    changes = compare(previous, current)
    totals = {x.key: x.total_fen for x in previous}
    for c in changes:
        assert c.reasons and all(c.reasons)
        if c.kind is ChangeKind.DROPPED:
            assert c.after is None and c.before is not None
            del totals[c.key]
        else:
            assert c.after is not None and (c.before is None) == (c.kind is ChangeKind.ADDED)
            totals[c.key] = c.after.total_fen
    assert totals == {x.key: x.total_fen for x in current}
    assert count_changes(changes).difference_fen == sum(x.total_fen for x in current) - sum(
        x.total_fen for x in previous)
    # Nothing unchanged is listed, and the order is by village, kind, name, key.
    changed = {c.key for c in changes}
    same = [k for k in before.keys() & after.keys() if before[k] == after[k]]
    assert not changed & {f"k{k}" for k in same}
    order = {ChangeKind.ADDED: 0, ChangeKind.DROPPED: 1, ChangeKind.CHANGED: 2}
    keys = [(c.village, order[c.kind], c.name, c.key) for c in changes]
    assert keys == sorted(keys)


def _values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _list_rows(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    at = next(i for i, r in enumerate(rows) if r[: len(HEADS)] == HEADS)
    return [r for r in rows[at + 1:] if any(v is not None for v in r)]


def _no_full_id(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            assert not FULL_ID.search(z.read(name).decode("utf-8", "replace")), name
    for rows in _values(path).values():
        for r in rows:
            for v in r:
                assert not (isinstance(v, str) and FULL_ID.search(v)), v


def test_the_workbook_holds_exactly_the_changes_and_no_full_id(tmp_path: Path) -> None:
    # A reason that carries a full ID (say, from a ledger entry) is masked in the book too.
    left_out = {**LEFT_OUT, F.key: ("排除", f"已在台账中（{F.key}）")}
    changes = compare(BEFORE, AFTER, left_out)
    path = tmp_path / "变更清单.xlsx"
    write_changes_book(path, changes, title="城关镇2027年春节走访慰问", before_label="公示名单", after_label="第2版")
    values = _values(path)
    assert list(values) == ["变更清单", "说明"]
    rows = values["变更清单"]
    assert rows[0][0] == "城关镇2027年春节走访慰问：第2版 与 公示名单 相比"
    assert _list_rows(rows) == [
        ("1", "新增", "张庄村", "冯九", H.id_masked, "", None, "现役军人家属", 300, "新纳入，享受标准：现役军人家属"),
        ("2", "变更", "李家湾村", "周涛", D.id_masked, "困难家庭", 790, "困难家庭", 600, "金额由 790.00 元变为 600.00 元"),
        ("3", "变更", "李家湾村", "孙丽", C.id_masked, "低保家庭", 550, "低保边缘家庭", 500,
         "享受标准由 低保家庭 变为 低保边缘家庭；类别由 低保 变为 低保边缘；金额由 550.00 元变为 500.00 元"),
        ("4", "变更", "李家湾村", "赵强", B.id_masked, "三属", 960, "三属", 960, "村(社区)由 张庄村 变为 李家湾村"),
        ("5", "取消", "王楼村", "吴军", E.id_masked, "伤残军人、参战涉核、在乡老复员军人", 600, "", None,
         "排除：举报属实取消，名额不予补缺"),
        ("6", "取消", "王楼村", "钱七", F.id_masked, "低保家庭", 900, "", None,
         f"排除：已在台账中（{F.id_masked}）"),
    ]
    # The totals block: kind, households, amount difference in yuan.
    totals = {r[0]: (r[2], r[3]) for r in rows[1:] if r[0] in ("新增", "取消", "变更", "合计变化")}
    assert totals == {"新增": (1, 300), "取消": (2, -1500), "变更": (3, -240), "合计变化": (6, -1440)}
    assert any("说明" in str(v) for r in values["说明"] for v in r)
    _no_full_id(path)
    first = path.read_bytes()
    write_changes_book(path, changes, title="城关镇2027年春节走访慰问", before_label="公示名单", after_label="第2版")
    assert path.read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name != path.name]  # no temporary file left behind


def test_an_empty_change_list_still_writes_a_book_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    write_changes_book(path, [], title="春节慰问", before_label="公示名单", after_label="第2版")
    rows = _values(path)["变更清单"]
    assert _list_rows(rows) == [(NO_DIFFERENCE,) + (None,) * (len(HEADS) - 1)]
    assert {r[0]: r[2] for r in rows if r[0] in ("新增", "取消", "变更", "合计变化")} == {
        "新增": 0, "取消": 0, "变更": 0, "合计变化": 0}
    assert any(NO_DIFFERENCE in str(v) for r in _values(path)["说明"] for v in r)


# A real decision: the bundled samples under rules/spring.yaml, against allocation.csv of the same run.

@pytest.fixture(scope="module")
def spring(tmp_path_factory: pytest.TempPathFactory) -> tuple[Decision, Path]:
    out = tmp_path_factory.mktemp("spring")
    result = CliRunner().invoke(app, ["allocate", *map(str, SAMPLES), "--rules", str(ROOT / "rules" / "spring.yaml"),
                                      "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]
    _intake, decision = load_and_decide(SAMPLES, load_rules(ROOT / "rules" / "spring.yaml"))
    assert decision is not None
    return decision, out / "allocation.csv"


def _payments(path: Path) -> list[PaymentRow]:
    return read_allocation_csv(path, code="test").rows


def test_the_decision_and_its_own_allocation_csv_do_not_differ(spring: tuple[Decision, Path]) -> None:
    decision, csv_path = spring
    previous = listed_from_payments(_payments(csv_path), names=standard_names(decision))
    current = listed_from_decision(decision)
    assert len(previous) == len(current) == len(decision.table) > 10
    assert compare(previous, current) == []
    # Keyed by a keyed hash of the ID instead: the same, and the key holds no ID.
    secret = b"office-secret"

    def keyed(id_number: str) -> str:
        return hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()

    hashed = listed_from_decision(decision, key=keyed)
    assert compare(listed_from_payments(_payments(csv_path), key=keyed, names=standard_names(decision)), hashed) == []
    assert not any(FULL_ID.search(x.key) for x in hashed)
    # The decision side shows names and carries categories; allocation.csv shows the same names.
    by_key = {x.key: x for x in current}
    for p in previous:
        assert p.shown_standards == by_key[p.key].shown_standards and p.categories == ""
    assert all(x.categories for x in current if "dibao" in x.standards.split("、"))


def test_a_mutated_allocation_csv_shows_the_moved_and_the_missing_household(spring: tuple[Decision, Path],
                                                                              tmp_path: Path) -> None:
    decision, csv_path = spring
    text = csv_path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    v, name, total = header.index("村(社区)"), header.index("户主姓名"), header.index("合计")
    moved, removed = body[0], body[-1]
    other = next(r[v] for r in body if r[v] != moved[v])
    original_village = moved[v]
    moved[v] = other  # last year's list had this household in another village
    body.remove(removed)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *body])
    mutated = tmp_path / "allocation.csv"
    mutated.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))
    previous = listed_from_payments(_payments(mutated), names=standard_names(decision))
    changes = compare(previous, listed_from_decision(decision))
    assert [(c.kind, c.name) for c in changes] == sorted(
        [(ChangeKind.CHANGED, moved[name]), (ChangeKind.ADDED, removed[name])],
        key=lambda k: ({moved[name]: original_village, removed[name]: removed[v]}[k[1]],
                       0 if k[0] is ChangeKind.ADDED else 2))
    by_kind = {c.kind: c for c in changes}
    assert by_kind[ChangeKind.CHANGED].reasons == (f"村(社区)由 {other} 变为 {original_village}",)
    assert by_kind[ChangeKind.ADDED].after is not None
    assert by_kind[ChangeKind.ADDED].after.total_fen == int(Decimal(removed[total]) * 100)
    assert by_kind[ChangeKind.ADDED].reasons[0].startswith("新纳入，享受标准：")
    assert count_changes(changes).difference_fen == int(Decimal(removed[total]) * 100)
    # The other way round (this year's list against last year's): the household is dropped, and the
    # decision knows nothing of it.
    back = compare(listed_from_decision(decision), previous)
    assert {c.kind for c in back} == {ChangeKind.DROPPED, ChangeKind.CHANGED}
    assert [c.reasons for c in back if c.kind is ChangeKind.DROPPED] == [(NOT_LISTED,)]


def test_a_reissued_list_after_an_objection_names_the_reason(spring: tuple[Decision, Path], tmp_path: Path) -> None:
    """第2版 against the posted list: the household removed by 举报属实取消 is dropped with that reason."""
    decision, csv_path = spring
    posted = _payments(csv_path)
    target = posted[len(posted) // 2]
    rules = (ROOT / "rules" / "spring.yaml").read_text(encoding="utf-8").replace(
        "  ids: []", f"  ids: [{target.id_number}]")
    path = tmp_path / "reissue.yaml"
    path.write_text(rules, encoding="utf-8")
    _intake, reissued = load_and_decide(SAMPLES, load_rules(path))
    assert reissued is not None
    reasons = left_out_reasons(reissued)
    assert reasons[target.id_number] == ("排除", "举报属实取消")
    changes = compare(listed_from_payments(posted, names=standard_names(reissued)), listed_from_decision(reissued),
                      reasons)
    assert [(c.kind, c.name, c.reasons) for c in changes] == [
        (ChangeKind.DROPPED, target.head_name, ("排除：举报属实取消",))]
    assert count_changes(changes).difference_fen == -int(target.total * 100)
    book = tmp_path / "变更清单.xlsx"
    write_changes_book(book, changes, title="城关镇2027年春节走访慰问", before_label="公示名单",
                       after_label="第2版名单")
    [row] = _list_rows(_values(book)["变更清单"])
    assert row[1:4] == ("取消", target.village, target.head_name) and row[6] == float(target.total)
    _no_full_id(book)


def test_left_out_entries_without_an_id_are_skipped(spring: tuple[Decision, Path]) -> None:
    decision, _ = spring
    reasons = left_out_reasons(decision)
    expected = {x.id_number for x in decision.left_out if isinstance(x.id_number, str) and x.id_number}
    assert set(reasons) == expected
    for kind, reason in reasons.values():
        assert kind in ("行有错误", "排除", "超出名额", "不符合条件") and reason


def test_change_is_frozen() -> None:
    c = Change(ChangeKind.ADDED, "张庄村", "冯九", H.id_masked, None, H, ("新纳入",))
    with pytest.raises(AttributeError):
        c.kind = ChangeKind.DROPPED  # type: ignore[misc]
    assert c.key == H.key and c.difference_fen == 30000
