"""Who is aided and how a recipient is identified (enums and the structured key; pure)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class RecipientKind(StrEnum):
    """What one line of a decision pays."""

    HOUSEHOLD = "household"  # a family of the roster, linked from its members (today's campaigns)
    PERSON = "person"  # a person on their own (an event roster: one line per event, even for one member)
    UNIT = "unit"  # a front-line unit or team, without ID numbers


# How sheets and messages name a recipient kind's count and its grouping column.
COUNT_LABEL = {RecipientKind.HOUSEHOLD: "户数", RecipientKind.UNIT: "单位数", RecipientKind.PERSON: "人次"}
GROUP_LABEL = {RecipientKind.HOUSEHOLD: "村(社区)", RecipientKind.UNIT: "牵头部门", RecipientKind.PERSON: "部门"}


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


# How the 户编码 of a household not linked by 户号 reads: prefix, the ref, suffix.
CODE_AFFIXES = {HouseholdLink.HEAD_ID: ("户主", ""), HouseholdLink.SEQUENCE: ("第", "行起"),
                HouseholdLink.ROW: ("第", "行")}


def household_code(link: str, village: str, ref: str) -> str:
    """The 户编码 written to allocation.csv and the audit sample: the key within its sheet as one
    text a clerk can read — ``张庄村/001`` (the 村名/户号 that ``weiwen explain`` also takes),
    ``户主<ID>``, ``第12行起`` (a household of rows in order), ``第12行``.  Written, never parsed back."""
    if link == HouseholdLink.NUMBER:
        return f"{village}/{ref}"
    prefix, suffix = CODE_AFFIXES[HouseholdLink(link)]
    return f"{prefix}{ref}{suffix}"
