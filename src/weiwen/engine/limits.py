"""Frequency limits of an event campaign: at most N events of a type per member in a year (pure).

"年度内多次住院，可根据患者病情适当控制掌握": an event beyond the limit is neither paid nor dropped;
it is held for a decision, with the dates of the member's earlier events of the year.  The clerk's
decision is the roster's 是否同意 cell: 是 pays it (and it counts), 否 leaves it out (and it does not
count), empty keeps it held.  Events recorded before (a ledger) count first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from weiwen.rules.schema import Limit


@dataclass(frozen=True)
class Member:
    """Who an event is of: the ID number when there is one, else the 工号 (never parsed from text)."""

    id_number: str
    staff_no: str


@dataclass(frozen=True)
class Event:
    member: Member
    event: str  # the canonical event type
    day: date | None  # None: no usable date (the row is in error and not decided)
    approval: str = ""  # 是 / 否 / ""


@dataclass
class Held:
    """An event beyond its limit: ``earlier`` are the dates of the member's events of the year that
    count (in the rosters and before), ``refused`` when 是否同意 says 否, ``approved`` when 是."""

    limit: Limit
    nth: int  # this is the member's nth event of the limit's types in the year
    earlier: list[date] = field(default_factory=list)
    approved: bool = False
    refused: bool = False


def member_keys(ids: Sequence[str | None], staff: Sequence[str]) -> list[Member]:
    """One identity per line: a line with only a 工号 takes the ID number another line gives that
    工号, so a member written once with an ID and once without is still one member."""
    by_staff = {s: i for i, s in zip(ids, staff, strict=True) if i and s}
    return [Member(i or by_staff.get(s, ""), "" if (i or by_staff.get(s)) else s) for i, s in zip(ids, staff, strict=True)]


def apply_limits(events: Sequence[Event], limits: Sequence[Limit], earlier: Sequence[Event] = ()) -> dict[int, Held]:
    """The events (by position) that are beyond a limit.  Events of a member are counted in date
    order (then in list order); ``earlier`` events (recorded before) come first."""
    out: dict[int, Held] = {}
    for limit in limits:
        types = set(limit.event)
        counted: dict[tuple[Member, int], list[date]] = defaultdict(list)
        for e in earlier:
            if e.event in types and e.day is not None:
                counted[(e.member, e.day.year)].append(e.day)
        order = sorted((i for i, e in enumerate(events) if e.event in types and e.day is not None),
                       key=lambda i: (events[i].day, i))
        for i in order:
            e = events[i]
            assert e.day is not None
            key = (e.member, e.day.year)
            before = sorted(counted[key])
            if len(before) < limit.per_year:
                counted[key].append(e.day)
                continue
            if i in out:  # already held by an earlier limit: one decision per event
                continue
            held = Held(limit, len(before) + 1, before, approved=e.approval == "是", refused=e.approval == "否")
            out[i] = held
            if not held.refused:  # a paid or pending event counts against the next ones
                counted[key].append(e.day)
    return out
