"""Resident ID checks: worked examples, and the vectorised path against the reference one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from tests.conftest import TODAY, id_ending_in_x, make_id
from weiwen.core.ids import check_id, check_ids, mask_digits, mask_id, upgrade15


def test_worked_example_check_character() -> None:
    # 11010519491231002X is the standard's own example (GB 11643-1999, appendix).
    res = check_id("11010519491231002X", TODAY)
    assert res.code is None and res.normalized == "11010519491231002X"
    assert res.sex == "女" and res.birth == date(1949, 12, 31)


def test_wrong_check_character_names_the_right_one() -> None:
    res = check_id("110105194912310021", TODAY)
    assert res.code == "id-checksum" and res.fields == {"expected": "X", "actual": "1"}


def test_precision_lost_forms() -> None:
    for text in ("1.10101E+17", "1.10105194912310E+17", "110105194912310000.0"):
        assert check_id(text, TODAY).code == "id-precision-lost", text
    # Trailing zeros from a CSV saved by Excel: the checksum fails and the hint says why.
    assert check_id("110105194912310000", TODAY).code == "id-checksum-zeros"


def test_normalisation_is_a_warning_not_an_error() -> None:
    good = "11010519491231002X"
    variants = {
        "11010519491231002x": "小写 x",
        "１１０１０５１９４９１２３１００２Ｘ": "全角字符",
        " 11010519491231002X\u00a0": "空格",
        "\u200b11010519491231002X\ufeff": "不可见字符",
        "110105 19491231 002X": "空格",
    }
    for text, what in variants.items():
        res = check_id(text, TODAY)
        assert res.normalized == good, text
        assert res.code is None
        assert [c for c, _ in res.warnings] == ["id-normalized"]
        assert what in str(res.warnings[0][1]["what"]), (text, res.warnings)


def test_bad_characters() -> None:
    for text in ("11010519491231002×", "1101051949123100-2X", "11010519491231002Х", "X1010519491231002"):
        assert check_id(text, TODAY).code == "id-bad-char", text


def test_dates() -> None:
    assert check_id(make_id(birth="19901301"), TODAY).code == "id-birthdate"
    assert check_id(make_id(birth="19900230"), TODAY).code == "id-birthdate"
    future = check_id(make_id(birth="20991201"), TODAY)
    assert future.code == "id-birthdate-implausible" and "晚于" in str(future.fields["why"])
    assert check_id(make_id(birth="18991231"), TODAY).code == "id-birthdate-implausible"
    assert check_id(make_id(birth="19050101"), TODAY).code == "id-birthdate-implausible"  # 121 years old
    assert check_id(make_id(birth="19070101"), TODAY).code is None  # 119 years old


def test_fifteen_digit_ids_are_upgraded() -> None:
    assert upgrade15("110105491231002") == "11010519491231002X"
    res = check_id("110105491231002", TODAY)
    assert res.normalized == "11010519491231002X"
    assert [c for c, _ in res.warnings] == ["id-legacy-15"]


def test_unknown_region_is_a_warning() -> None:
    res = check_id(make_id(region="990101"), TODAY)
    assert res.normalized is not None and [c for c, _ in res.warnings] == ["id-region"]
    # A county code retired long ago is still a known code.
    assert check_id(make_id(region="110102"), TODAY).warnings == []


def test_lengths() -> None:
    assert check_id("1101051949123100", TODAY).code == "id-length"
    assert check_id("", TODAY).code == "id-missing"


def test_masks() -> None:
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_digits("13800138000") == "138****8000"
    assert mask_digits("6228480402564890018", 4, 4) == "6228***********0018"


valid_ids = st.builds(
    lambda region, d, seq: make_id(region, d.strftime("%Y%m%d"), f"{seq:03d}"),
    st.sampled_from(["110101", "330106", "410526", "440305", "990101"]),
    st.dates(min_value=date(1907, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(valid_ids)
def test_every_valid_id_is_accepted_and_stdnum_agrees_on_its_check_character(id_number: str) -> None:
    res = check_id(id_number, TODAY)
    assert res.normalized == id_number
    assert ric.calc_check_digit(id_number) == id_number[-1]


id_like = st.one_of(
    valid_ids,
    valid_ids.map(lambda s: s[:-1] + ("0" if s[-1] != "0" else "1")),
    valid_ids.map(lambda s: s.lower()),
    valid_ids.map(lambda s: "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)),
    st.text(alphabet="0123456789Xx ×\u200b", min_size=0, max_size=20),
    st.text(max_size=20),
)


@settings(max_examples=300)
@given(st.lists(id_like, min_size=1, max_size=30))
def test_vectorised_column_agrees_with_the_reference(values: list[str]) -> None:
    col = check_ids(values, TODAY)
    as_arrow = check_ids(pa.array(values, type=pa.large_string()), TODAY)  # the intake's own input
    assert as_arrow.normalized == col.normalized and list(as_arrow.details) == list(col.details)
    for i, v in enumerate(values):
        ref = check_id(v, TODAY)
        assert col.normalized[i] == ref.normalized, v
        if ref.normalized is not None:
            assert col.birth[i] == np.datetime64(ref.birth.isoformat(), "D")
            assert bool(col.male[i]) == (ref.sex == "男")
        if ref.code is not None or ref.warnings:
            assert i in col.details and col.details[i].code == ref.code


def test_x_ids_take_the_fast_path_too() -> None:
    x = id_ending_in_x()
    col = check_ids([x], TODAY)
    assert col.normalized == [x] and col.details == {}


@settings(max_examples=300)
@given(st.lists(st.one_of(st.none(), id_like, st.text(alphabet="0123456789X \u3000\xa0张", max_size=20)), max_size=30))
def test_mask_ids_is_mask_id_for_every_value(values: list[str | None]) -> None:
    from weiwen.core.ids import mask_ids

    assert mask_ids(values).to_pylist() == [mask_id(v) for v in values]
    assert mask_ids(pa.array(values, type=pa.large_string())).to_pylist() == [mask_id(v) for v in values]
