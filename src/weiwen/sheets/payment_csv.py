"""allocation.csv (:mod:`weiwen.model.payment`) written from the decision table, in Arrow: a
prefecture's 400,000 households as text without a Python object per cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core.atomic import write_atomic
from weiwen.engine.amounts import yuan
from weiwen.engine.limits import member_keys
from weiwen.model.payment import (COLUMNS, FORMULA_START, GUARDED, HEADER, LINE_COLUMNS, LINE_GUARDED, LINE_KINDS,
                                  PERSON_COLUMNS)
from weiwen.model.recipients import CODE_AFFIXES

# The decision table's columns each field of the file is made from.
_SOURCE = {"village": "village", "household_no": "household_no", "head_name": "head_name", "id_number": "head_id",
           "bank_card": "head_bank", "standards": "applied_names", "cash": "cash_fen", "goods_value": "goods_fen",
           "total": "total_fen", "phone": "head_phone", "reason": "reason",
           "bank_name": "head_bank_name"}
PAYMENT_NEEDS = ("link", "ref", *_SOURCE.values())  # what write_payment_csv reads of the table
_MONEY = frozenset({"cash", "goods_value", "total"})
_FORMULA = r"^[=+\-@\t\r]"  # model.payment.FORMULA_START as a character class (tests/test_model.py)


def write_payment_csv(path: Path, table: pd.DataFrame) -> None:
    """UTF-8 with BOM, CRLF, full ID and card numbers, amounts in yuan (for bank batch payment)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(HEADER)
    data = ("\ufeff" + buf.getvalue()).encode("utf-8") + csv_body(_columns(table))
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_persons_csv(path: Path, table: pd.DataFrame, members: pd.DataFrame) -> None:
    """persons.csv: every person (model.frames.MEMBERS) of the households of ``table``, with the
    household's 户编码 — what the ledger records, so that a member aided now is found later in any role."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(h for _, h in PERSON_COLUMNS)
    body = b""
    if len(table) and len(members):
        codes = pd.Series(_household_codes(pa.array(table["link"], type=pa.large_string()),
                                           pa.array(table["village"], type=pa.large_string()),
                                           pa.array(table["ref"], type=pa.large_string())).to_numpy(zero_copy_only=False),
                          index=table["household"].to_numpy())
        code = pa.array(codes.reindex(members["household"].to_numpy()).to_numpy(), type=pa.large_string())
        role = pa.array(np.where(members["is_head"].to_numpy(dtype=bool), "户主", "成员"), type=pa.large_string())
        body = csv_body([_guarded(code), pa.array(members["id_number"], type=pa.large_string()),
                         _guarded(pa.array(members["name"], type=pa.large_string())), role])
    data = ("\ufeff" + buf.getvalue()).encode("utf-8") + body
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_lines_csv(path: Path, table: pd.DataFrame, events: pd.DataFrame | None, kind: str) -> None:
    """lines.csv (:data:`weiwen.model.payment.LINE_COLUMNS`): every aided unit or event of ``table``,
    with an event's 工号, type and date from ``events`` (model.frames.EVENTS) — what the ledger records."""
    facts = events.set_index("household") if events is not None else None
    ids = list(table["head_id"])
    if facts is not None:  # a line with only a 工号 takes the ID another line gives that 工号 (engine.limits)
        ids = [m.id_number for m in member_keys([i or None for i in ids],
                                                  [str(facts.loc[h, "staff_no"]) for h in table["household"]])]
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(h for _, h in LINE_COLUMNS)
    for r, id_number in zip(table.itertuples(index=False), ids, strict=True):
        e = facts.loc[r.household] if facts is not None else None
        day = "" if e is None or pd.isna(e["event_date"]) else pd.Timestamp(e["event_date"]).date().isoformat()
        row = {"kind": LINE_KINDS[kind], "department": r.village, "name": r.head_name, "id_number": id_number,
               "staff_no": "" if e is None else str(e["staff_no"]), "event": "" if e is None else str(e["event"]),
               "event_date": day, "standards": r.applied_names,
               "cash": f"{yuan(int(r.cash_fen)):.2f}", "goods_value": f"{yuan(int(r.goods_fen)):.2f}",
               "total": f"{yuan(int(r.total_fen)):.2f}"}
        out.writerow(_guard_text(str(row[k])) if k in LINE_GUARDED else row[k] for k, _ in LINE_COLUMNS)
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _guard_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _columns(t: pd.DataFrame) -> list[pa.Array]:
    if not len(t):
        return []

    def text(name: str) -> pa.Array:
        return pc.fill_null(pa.array(t[name], type=pa.large_string()), "")

    out = []
    for field, _ in COLUMNS:
        if field == "code":
            column = _household_codes(text("link"), text("village"), text("ref"))
        elif field in _MONEY:
            column = _yuan_texts(t[_SOURCE[field]])
        else:
            column = text(_SOURCE[field])
        out.append(_guarded(column) if field in GUARDED else column)
    return out


def _household_codes(link: pa.Array, village: pa.Array, ref: pa.Array) -> pa.Array:
    """model.recipients.household_code for every row, in Arrow."""
    def text(value: str) -> pa.Scalar:
        return pa.scalar(value, pa.large_string())

    code = pc.binary_join_element_wise(village, ref, text("/"))  # HouseholdLink.NUMBER
    for kind, (prefix, suffix) in CODE_AFFIXES.items():
        code = pc.if_else(pc.equal(link, kind.value), pc.binary_join_element_wise(text(prefix), ref, text(suffix), text("")),
                          code)
    return code


def csv_body(columns: list[pa.Array]) -> bytes:
    """CSV lines of ``columns`` (UTF-8, CRLF), quoted exactly as Python's csv module quotes
    (minimal: a field with a comma, a quote or a line break), built in Arrow without a Python
    object per cell."""
    if not columns or not len(columns[0]):
        return b""
    # Columns of a table put together from several sheets come in chunks; the lines must lie in one buffer.
    columns = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    comma, crlf = pa.scalar(",", pa.large_string()), pa.scalar("\r\n", pa.large_string())
    empty, quote = pa.scalar("", pa.large_string()), pa.scalar('"', pa.large_string())
    fields = []
    for c in columns:
        special = pc.match_substring_regex(c, '[,"\r\n]')
        if not pc.any(special).as_py():  # the usual column: nothing to quote
            fields.append(c)
            continue
        quoted = pc.binary_join_element_wise(quote, pc.replace_substring(c, '"', '""'), quote, empty)
        fields.append(pc.if_else(special, quoted, c))
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, comma), empty, crlf)
    _, offsets, data = lines.buffers()  # the lines lie end to end in one buffer
    at = np.frombuffer(offsets, dtype=np.int64, count=lines.offset + len(lines) + 1)[lines.offset:]
    return memoryview(data)[int(at[0]):int(at[-1])].tobytes()


def _guarded(texts: pa.Array) -> pa.Array:
    """CSV injection guard (OWASP): text that a spreadsheet would run gets a leading apostrophe."""
    quote, empty = pa.scalar("'", pa.large_string()), pa.scalar("", pa.large_string())
    return pc.if_else(pc.match_substring_regex(texts, _FORMULA),
                      pc.binary_join_element_wise(quote, texts, empty), texts)


def _yuan_texts(fen: pd.Series) -> pa.Array:
    """Fen as yuan text with two decimals (12345 -> "123.45"), exactly."""
    values = fen.to_numpy(dtype=np.int64)
    sign = pa.array(np.where(values < 0, "-", ""), type=pa.large_string())
    whole = pa.array(np.abs(values) // 100).cast(pa.large_string())
    cents = pc.utf8_lpad(pa.array(np.abs(values) % 100).cast(pa.large_string()), 2, "0")
    empty, dot = pa.scalar("", pa.large_string()), pa.scalar(".", pa.large_string())
    return pc.binary_join_element_wise(pc.binary_join_element_wise(sign, whole, empty), cents, dot)
