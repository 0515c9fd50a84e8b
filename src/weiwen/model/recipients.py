"""Who is aided and how a recipient is identified (enums and the structured key; pure)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class RecipientKind(StrEnum):
    """What one line of a decision pays."""

    HOUSEHOLD = "household"  # a family of the roster, linked from its members (today's campaigns)
    PERSON = "person"  # a person on their own (an event roster: one line per event, even for one member)
    UNIT = "unit"  # a front-line unit or team, without ID numbers


class HouseholdLink(StrEnum):
    """How the members of a household were found to belong together (first that applies)."""

    NUMBER = "no"  # the same 户号 within the same village
    HEAD_ID = "head"  # the same 户主身份证号
    SEQUENCE = "seq"  # rows in order: a 户主 row starts a household (a 与户主关系 column, no 户号)
    ROW = "row"  # each row a household of its own


class HouseholdKey(NamedTuple):
    """A household's identity: its sheet, how it was linked and by what (never parsed from text)."""

    file: str
    sheet: str
    link: HouseholdLink
    village: str  # the village of a 户号 (户号 are numbered per village); "" for the other links
    ref: str  # the 户号, the head's ID number, or the first Excel row


def household_code(link: str, village: str, ref: str) -> str:
    """The 户编码 written to allocation.csv and the audit sample: the key within its sheet as one
    opaque text (``no:张庄村:001``, ``head:<ID>``, ``seq:12``, ``row:12``).  Written, never parsed back."""
    return f"{link}:{village}:{ref}" if link == HouseholdLink.NUMBER else f"{link}:{ref}"
