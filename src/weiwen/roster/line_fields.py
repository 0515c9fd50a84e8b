"""The columns of a unit list and of an event roster (``data/lines.yaml``) and how their header row
is found: what :mod:`weiwen.roster.lines` reads with, and what tells a roster that is not of
households apart when no campaign was named."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from weiwen.core import problems as P
from weiwen.core.text import clean, header_key
from weiwen.core.yamlio import load_text_yaml
from weiwen.model.recipients import RecipientKind
from weiwen.model.vocab import Vocabulary
from weiwen.read.workbook import RawSheet
from weiwen.roster.layout import HEADER_SCAN_ROWS, SheetLayout, cell_text

SHARED = ("name", "id_number", "phone", "bank_card", "bank_name", "remark")  # aliases from headers.yaml too
REQUIRED = {RecipientKind.UNIT: ("name", "department"), RecipientKind.PERSON: ("name", "event", "event_date")}
WHAT = {RecipientKind.UNIT: "慰问单位名单", RecipientKind.PERSON: "职工慰问登记表"}
YES, NO = "是", "否"
EXAMPLE_CAMPAIGN = {RecipientKind.UNIT: "frontline", RecipientKind.PERSON: "union-events"}  # bundled examples


@dataclass(frozen=True)
class LineField:
    key: str
    label: str
    aliases: tuple[str, ...]


@cache
def _table() -> dict[str, dict[str, dict[str, object]]]:
    with resources.as_file(resources.files("weiwen.data") / "lines.yaml") as p:
        return load_text_yaml(Path(p))


def line_fields(kind: RecipientKind, vocab: Vocabulary) -> dict[str, LineField]:
    """The columns a list of ``kind`` may have, by field key, with every alias."""
    out: dict[str, LineField] = {}
    own = _table()[kind.value]
    for key in (*own, *SHARED):
        spec = own.get(key, {})
        shared = vocab.fields.get(key) if key in SHARED else None
        if key == "id_number" and kind is RecipientKind.UNIT:
            continue  # a unit has no ID number: such a column is carried as an extra column
        label = str(spec.get("label") or (shared.label if shared else key))
        aliases = (*tuple(spec.get("aliases") or ()), *(shared.aliases if shared else ()))
        out[key] = LineField(key, label, (label, *aliases))
    return out


def _index(fields: dict[str, LineField]) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in fields.values():
        for alias in f.aliases:
            index.setdefault(header_key(alias), f.key)
    return index


def find_line_layout(sheet: RawSheet, kind: RecipientKind, fields: dict[str, LineField]) -> SheetLayout | None:
    """The header row of a list of ``kind``: the first of the top rows naming every required column."""
    index = _index(fields)
    for i, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        texts = [clean(cell_text(v)) for v in row]
        keys = [index.get(header_key(t)) if t else None for t in texts]
        if not set(REQUIRED[kind]) <= set(keys):
            continue
        layout = SheetLayout(header_index=i, columns={}, headers=texts)
        for j, (text, key) in enumerate(zip(texts, keys, strict=True)):
            if key is None:
                if text:
                    layout.extras[text] = j
            elif key in layout.columns:
                layout.problems.append(P.make(
                    "header-duplicate", file=sheet.file, sheet=sheet.name, row=i + 1, column=text,
                    field=fields[key].label, columns=f"“{texts[layout.columns[key]]}”、“{text}”"))
            else:
                layout.columns[key] = j
        return layout
    return None


def list_kind(sheet: RawSheet, vocab: Vocabulary) -> RecipientKind | None:
    """The kind of list ``sheet`` is when it is a unit list or an event roster (None otherwise)."""
    for kind in (RecipientKind.UNIT, RecipientKind.PERSON):
        if find_line_layout(sheet, kind, line_fields(kind, vocab)) is not None:
            return kind
    return None
