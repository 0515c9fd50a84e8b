"""Phone and bank-card cells as a roster reads them (weiwen.load_rosters on a real workbook): what is
kept, what is reported, cell by cell.

The intake keeps the usual cell (a number typed as text) without looking at it in Python and
checks every other cell one by one; whichever way a cell goes, the outcome must be the one these
tests write down by hand, and for any cells at all: only valid numbers kept, every other
non-empty cell reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import TODAY, make_id, write_xlsx
from weiwen import load_rosters

HEADER = ["姓名", "身份证号", "联系电话", "银行卡号"]
CARD = "6228480402564890018"  # passes the Luhn check (sum 60); the last digit changed, it fails
BAD_LUHN = "6228480402564890019"

# (phone cell, bank cell) -> (phone kept, bank kept, the problems of the row: (code, value shown))
CASES: list[tuple[object, object, str, str, set[tuple[str, str | None]]]] = [
    ("13800138000", CARD, "13800138000", CARD, set()),
    (13800138000, None, "13800138000", "", {("phone-numeric-cell", "138****8000")}),
    ("138 0013 8000", "6228 4804 0256 4890 018", "13800138000", CARD, set()),
    ("+86 138-0013-8000", "6228-4804-0256-4890-018", "13800138000", CARD, set()),
    ("0371-63801234", None, "0371-63801234", "", set()),
    ("（0371）63801234", None, "037163801234", "", set()),  # full-width brackets, as typed on a Chinese keyboard
    ("１３８００１３８０００", "６２２８４８０４０２５６４８９００１８", "13800138000", CARD, set()),  # full-width digits
    ("12345", "12345", "", "", {("phone-invalid", "*****"), ("bank-invalid", "*****")}),
    (12.5, None, "", "", {("phone-invalid", "数字")}),
    (None, BAD_LUHN, "", BAD_LUHN, {("bank-luhn", "6228***********0019")}),
    (None, int(CARD), "", "", {("bank-numeric-cell", "6.22848E+18")}),  # Excel kept only 15 digits
    (None, None, "", "", set()),
    (None, "4111111111111111", "", "4111111111111111", set()),  # 16 digits, passes
    (None, "4111111111111112", "", "4111111111111112", {("bank-luhn", "4111********1112")}),
]


def read(path: Path, cells: list[tuple[object, object]]):  # type: ignore[no-untyped-def]
    rows = [HEADER] + [[f"人{k}", make_id(seq=f"{k + 100:03d}"), phone, bank]
                       for k, (phone, bank) in enumerate(cells)]
    intake = load_rosters([write_xlsx(path, rows)], today=TODAY)
    frame = intake.frame
    kept = {int(r): (p, b) for r, p, b in zip(frame["row"], frame["phone"], frame["bank_card"], strict=True)}
    reported: dict[int, set[tuple[str, str | None]]] = {}
    for p in intake.problems:
        if p.row is not None and p.code.startswith(("phone-", "bank-")):
            reported.setdefault(p.row, set()).add((p.code, p.value))
    return kept, reported, intake


def test_phone_and_bank_cells_by_hand(tmp_path: Path) -> None:
    kept, reported, intake = read(tmp_path / "r.xlsx", [(phone, bank) for phone, bank, *_ in CASES])
    for k, (phone, bank, phone_kept, bank_kept, problems) in enumerate(CASES):
        row = k + 2
        assert kept[row] == (phone_kept, bank_kept), (phone, bank)
        assert reported.get(row, set()) == problems, (phone, bank)
    shown = {p.code: p for p in intake.problems if p.row == 12}
    assert shown["bank-numeric-cell"].cell == "D12" and shown["bank-numeric-cell"].severity.value == "error"
    # A card no bank can pay to (not 12-19 digits, or cut short by Excel) is an error; phone problems and
    # a failed Luhn check (a passbook account may fail it) are warnings.
    assert [(e.row, e.code) for e in intake.errors] == [(9, "bank-invalid"), (12, "bank-numeric-cell")]


def reference_luhn(s: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(s)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


MOBILE = re.compile(r"1[3-9][0-9]{9}")
FIXED = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,5})?")

digits = st.text(alphabet="0123456789", min_size=1, max_size=21)
texts = st.one_of(
    digits,
    st.text(alphabet="0123456789", min_size=10, max_size=10).map(lambda d: "1" + d),  # shaped like a mobile number
    st.text(alphabet="0123456789", min_size=12, max_size=19),  # shaped like a card number
    st.text(alphabet="0123456789 -+()（）８\t\u200b", max_size=24).filter(lambda s: any(c.isdigit() for c in s)),
)
cells = st.one_of(st.none(), texts, st.integers(min_value=-10, max_value=10**20),
                  st.floats(allow_nan=False, allow_infinity=False), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=12))
@example(values=[("12345678901", "1234567890"), ("13800138000", "62284804025648900181"), (" 13800138000", None)])
def test_any_cells_keep_only_valid_numbers_and_report_the_rest(tmp_path_factory: pytest.TempPathFactory,
                                                               values: list[tuple[object, object]]) -> None:
    kept, reported, _ = read(tmp_path_factory.mktemp("cells") / "r.xlsx", values)
    for k, (phone, bank) in enumerate(values):
        row = k + 2
        phone_kept, bank_kept = kept[row]
        codes = {code for code, _ in reported.get(row, set())}
        phone_codes = {c for c in codes if c.startswith("phone-")}
        bank_codes = {c for c in codes if c.startswith("bank-")}

        assert phone_kept == "" or MOBILE.fullmatch(phone_kept) or FIXED.fullmatch(phone_kept), phone
        if phone is None:
            assert phone_kept == "" and not phone_codes
        elif isinstance(phone, str) and MOBILE.fullmatch(phone):
            assert phone_kept == phone and not phone_codes  # the usual cell, kept as typed
        elif phone_kept == "":
            assert "phone-invalid" in phone_codes, phone  # nothing dropped without a word
        else:
            assert "phone-invalid" not in phone_codes, phone
        if isinstance(phone, int) and not isinstance(phone, bool) and phone_kept:
            assert phone_codes == {"phone-numeric-cell"} and phone_kept == str(phone)

        assert bank_kept == "" or re.fullmatch(r"[0-9]{12,19}", bank_kept), bank
        if bank is None:
            assert bank_kept == "" and not bank_codes
        elif isinstance(bank, (int, float)) and not isinstance(bank, bool):
            assert bank_kept == "" and bank_codes == {"bank-numeric-cell"}, bank
        elif bank_kept == "":
            assert bank_codes == {"bank-invalid"}, bank
        else:
            assert bank_kept == re.sub(r"[\s\-]", "", str(bank)).replace("８", "8").replace("\u200b", "")
            assert bank_codes == ({"bank-luhn"} if not reference_luhn(bank_kept) else set()), bank
