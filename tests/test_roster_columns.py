"""The whole-column checks of phone and bank-card cells agree with the one-cell checks.

The column functions keep the usual cell (a number typed as text) without looking at it in
Python; these properties hold them to the reference, cell by cell and report by report.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from weiwen.roster.build import _bank_cell, _bank_column, _phone_cell, _phone_column, luhn_valid


class Recorder:
    """Stands in for the sheet's problem collector: remembers every report in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def add(self, code: str, row: int | None, key: str | None = None, shown: str | None = None,
            **fields: object) -> None:
        self.calls.append((code, row, key, shown, sorted(fields.items())))


digits = st.text(alphabet="0123456789", min_size=1, max_size=21)
cells = st.one_of(
    st.none(),
    digits,
    digits.map(lambda d: "1" + d[:10]),
    st.text(alphabet="0123456789 -+()（）８٣\t\u200b", max_size=24),
    st.text(max_size=6),
    st.integers(min_value=-10, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


def reference_luhn(s: str) -> bool:
    if not s:
        return True
    total = 0
    for k, ch in enumerate(reversed(s)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def column_and_cells(column_fn, cell_fn, values):  # type: ignore[no-untyped-def]
    """The column function's result and reports, and the one-cell function's, on the same cells."""
    rows = list(range(2, len(values) + 2))
    column, one = Recorder(), Recorder()
    got = column_fn(values, rows, column).to_pylist()
    expected = [cell_fn(r, v, one) for r, v in zip(rows, values, strict=True)]
    return rows, got, expected, column.calls, one.calls


@settings(max_examples=300)
@given(st.lists(cells, max_size=25))
def test_phone_column_is_the_cell_check(values: list[object]) -> None:
    _, got, expected, column_calls, cell_calls = column_and_cells(_phone_column, _phone_cell, values)
    assert got == expected
    assert column_calls == cell_calls


@settings(max_examples=300)
@given(st.lists(cells, max_size=25))
def test_bank_column_is_the_cell_check(values: list[object]) -> None:
    rows, got, expected, column_calls, cell_calls = column_and_cells(_bank_column, _bank_cell, values)
    assert got == expected
    assert column_calls[:len(cell_calls)] == cell_calls
    luhn = [("bank-luhn", r, "bank_card", s[:4] + "*" * (len(s) - 8) + s[-4:])
            for r, s in zip(rows, expected, strict=True) if not reference_luhn(s)]
    assert [c[:4] for c in column_calls[len(cell_calls):]] == luhn


def test_luhn_by_hand() -> None:
    # 6228480402564890018 passes (sum 60); changing the last digit breaks it.
    assert luhn_valid(["6228480402564890018", "6228480402564890019", "", "79927398713"]).tolist() == [
        True, False, True, True]
