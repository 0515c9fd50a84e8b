"""The one reader of allocation.csv and persons.csv (:mod:`weiwen.model.payment`), for the ledger,
the payment file and the audit sample."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from weiwen.core.errors import WeiwenError
from weiwen.model.payment import (COLUMNS, GUARDED, LATER, LINE_COLUMNS, LINE_GUARDED, PERSON_COLUMNS, PERSON_GUARDED,
                                  LineRow, PaymentRow, PersonRow, unguard)

_SHOWN_ROWS = 5  # rows named in the message; the count says how many more


@dataclass
class PaymentList:
    path: Path
    data: bytes  # the file as read (the ledger fingerprints a run by it)
    rows: list[PaymentRow]
    columns: frozenset[str]  # the fields the file has (a file of an earlier version lacks model.payment.LATER)


def read_allocation_csv(path: Path, *, code: str) -> PaymentList:
    """Every row of ``path``, checked; a file that is not weiwen's allocation.csv, or any bad row,
    is a :class:`WeiwenError` with ``code`` naming every problem found (never a partial list)."""
    if path.is_dir():
        path = path / "allocation.csv"
    data, header, reader = _open(path, code, COLUMNS, LATER, "allocation.csv",
                                 "weiwen allocate 写出的 allocation.csv 或其所在文件夹")
    rows = _rows(path, code, reader, header, COLUMNS, GUARDED, PaymentRow)
    return PaymentList(path=path, data=data, rows=rows, columns=frozenset(name for name, h in COLUMNS if h in header))


@dataclass
class PersonList:
    path: Path
    data: bytes
    rows: list[PersonRow]


def read_persons_csv(path: Path, *, code: str) -> PersonList:
    """Every row of persons.csv (the persons of the aided households), checked as allocation.csv is."""
    data, header, reader = _open(path, code, PERSON_COLUMNS, frozenset(), "persons.csv",
                                 "weiwen allocate 写出的 persons.csv")
    return PersonList(path=path, data=data, rows=_rows(path, code, reader, header, PERSON_COLUMNS, PERSON_GUARDED,
                                                       PersonRow))


@dataclass
class LineList:
    path: Path
    data: bytes
    rows: list[LineRow]


def read_lines_csv(path: Path, *, code: str) -> LineList:
    """Every row of lines.csv (the aided units or events of a campaign that is not of households)."""
    data, header, reader = _open(path, code, LINE_COLUMNS, frozenset(), "lines.csv", "weiwen allocate 写出的 lines.csv")
    return LineList(path=path, data=data, rows=_rows(path, code, reader, header, LINE_COLUMNS, LINE_GUARDED, LineRow))


def _open(path: Path, code: str, columns: tuple[tuple[str, str], ...], later: frozenset[str], name: str,
          wanted: str) -> tuple[bytes, list[str], Any]:
    try:
        data = path.read_bytes()
    except OSError:
        raise WeiwenError(f"找不到或无法读取 {path}：请指定 {wanted}。", code=code) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WeiwenError(f"{path} 不是 weiwen 写出的 {name}（编码不是 UTF-8）。", code=code) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    missing = [h for field, h in columns if h not in header and field not in later]
    if missing:
        raise WeiwenError(f"{path} 不是本版 weiwen 写出的 {name}（缺少列：{'、'.join(missing)}）；"
                          "请用 weiwen allocate 重新生成。", code=code)
    return data, header, reader


def _rows(path: Path, code: str, reader: Any, header: list[str], columns: tuple[tuple[str, str], ...],
          guarded: frozenset[str], model: type[BaseModel]) -> list[Any]:
    present = [(name, header.index(h)) for name, h in columns if h in header]
    rows: list[Any] = []
    bad: list[str] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cells):
            continue
        if len(cells) != len(header):
            bad.append(f"第 {line} 行有 {len(cells)} 列，表头有 {len(header)} 列")
            continue
        values = {name: unguard(cells[j]) if name in guarded else cells[j] for name, j in present}
        try:
            rows.append(model(**values))
        except ValidationError as e:
            why = "；".join(_why(err, columns) for err in e.errors())
            bad.append(f"第 {line} 行：{why}")
    if bad:
        shown = "\n".join(bad[:_SHOWN_ROWS]) + (f"\n……另有 {len(bad) - _SHOWN_ROWS} 行" if len(bad) > _SHOWN_ROWS else "")
        raise WeiwenError(f"{path} 中有 {len(bad)} 行无法读取，整个文件未使用：\n{shown}", code=code)
    return rows


def _why(err: Mapping[str, Any], columns: tuple[tuple[str, str], ...]) -> str:
    """One pydantic error in Chinese: the column, then what is wrong (never the value: it may be an ID)."""
    names = dict(columns)
    loc = err.get("loc") or ()
    column = f"{names[str(loc[0])]}：" if loc and str(loc[0]) in names else ""
    if err["type"] == "value_error":
        return column + str(err["msg"]).removeprefix("Value error, ")
    if str(err["type"]).startswith("decimal"):
        return column + "不是数字"
    return column + "无效"
