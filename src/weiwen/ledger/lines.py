"""The ledger's units and events: recorded from lines.csv, looked up before deciding (#20).

A unit is recorded by its department and name as written (``部门/名称``: units are not persons;
their names are public).  An event is recorded by its member's keyed hash — of the ID number, or
of ``工号:<number>`` for a member known only by 工号 — with its type and date; the full ID never
enters the ledger.  One active line per (campaign, kind, subject, event, date): the database refuses
a second, and a run of the same file is recognised by its run key and adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from weiwen.core.ids import mask_id
from weiwen.ledger import auditlog
from weiwen.ledger.schema import lines, runs
from weiwen.ledger.store import Ledger, operator_name
from weiwen.model.payment import LINE_KINDS, LineRow
from weiwen.read.allocation_csv import read_lines_csv

KIND_OF = {zh: kind for kind, zh in LINE_KINDS.items()}


@dataclass(frozen=True)
class LineKey:
    """What makes a line the same line again: its subject, event and date (all "" but the subject for a unit)."""

    kind: str  # unit / person
    subject: str
    event: str = ""
    event_date: str = ""


@dataclass
class LinesRecorded:
    new: int = 0
    already_recorded: bool = False
    repeated: list[str] = field(default_factory=list)  # lines recorded before by another run, in words


def unit_subject(department: str, name: str) -> str:
    return f"{department}/{name}"


def member_subject(ledger: Ledger, id_number: str, staff_no: str) -> str:
    """The keyed hash an event's member is recorded under: of the ID number when known, else of the 工号."""
    return ledger.person_hash(id_number) if id_number else ledger.hash_text(f"工号:{staff_no}")


def line_key(ledger: Ledger, kind: str, department: str, name: str, id_number: str, staff_no: str, event: str,
             event_date: str) -> LineKey:
    if kind == "unit":
        return LineKey(kind, unit_subject(department, name))
    return LineKey(kind, member_subject(ledger, id_number, staff_no), event, event_date)


def _row_key(ledger: Ledger, r: LineRow) -> LineKey:
    return line_key(ledger, KIND_OF[r.kind], r.department, r.name, r.id_number, r.staff_no, r.event, r.event_date)


def staff_alias(ledger: Ledger, staff_no: str) -> str | None:
    """The keyed hash of a 工号, recorded beside the ID's: a member listed later by 工号 alone is found."""
    return ledger.hash_text(f"工号:{staff_no}") if staff_no else None


def record_lines(ledger: Ledger, csv_path: Path, org: str, campaign: str, operator: str | None = None) -> LinesRecorded:
    """Record every line of lines.csv in one transaction.  The same file again adds nothing; a line
    another run recorded already (the same unit, or the same member's same event on the same day,
    the member known by ID number or by 工号) is not recorded twice and is listed."""
    listed = read_lines_csv(csv_path, code="ledger-input")
    run_key = hashlib.sha256(listed.data + b"\0" + campaign.encode() + b"\0lines").hexdigest()
    result = LinesRecorded()
    with ledger.writing() as conn:
        if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == run_key)).first() is not None:
            result.already_recorded = True
            return result
        known = {r.alias: r.subject for r in conn.execute(
            sa.select(lines.c.alias, lines.c.subject).where(lines.c.campaign == campaign, lines.c.alias.is_not(None)))}
        keyed = []
        for r in listed.rows:
            key = _row_key(ledger, r)
            alias = staff_alias(ledger, r.staff_no) if key.kind == "person" else None
            if key.kind == "person" and not r.id_number and alias in known:  # known by 工号: the same member
                key = LineKey(key.kind, known[alias], key.event, key.event_date)
            keyed.append((key, alias, r))
        keyed.sort(key=lambda kar: (kar[0].subject, kar[0].event, kar[0].event_date))
        taken = recorded_keys(conn, campaign)
        run_id = conn.execute(runs.insert().values(
            run_key=run_key, campaign=campaign, org=org, source=csv_path.name, recorded_at=auditlog.now(),
            households=len(keyed), operator=operator_name(operator))).inserted_primary_key[0]
        for key, alias, r in keyed:
            if key in taken:
                result.repeated.append(f"{r.department} {r.name}" + (f" {r.event} {r.event_date}" if r.event else ""))
                continue
            taken.add(key)
            conn.execute(lines.insert().values(
                run_id=run_id, campaign=campaign, kind=key.kind, subject=key.subject,
                masked=(mask_id(r.id_number) if r.id_number else r.staff_no) if key.kind == "person" else "",
                alias=alias,
                name=r.name, department=r.department, event=r.event, event_date=r.event_date,
                standards=r.standards, amount_fen=int(r.total * 100), cash_fen=int(r.cash * 100), org=org))
            result.new += 1
        ledger.log(conn, operator, "record-lines", campaign=campaign, subject=csv_path.name,
                   after={"org": org, "lines": result.new, "repeated": len(result.repeated)})
    return result


def recorded_keys(conn: sa.Connection, campaign: str) -> set[LineKey]:
    rows = conn.execute(sa.select(lines.c.kind, lines.c.subject, lines.c.event, lines.c.event_date)
                        .where(lines.c.campaign == campaign, lines.c.status == "active"))
    return {LineKey(r.kind, r.subject, r.event, r.event_date) for r in rows}


@dataclass(frozen=True)
class EarlierLine:
    """A line recorded before, as the decision needs it: who (its subject, and its 工号's hash), what,
    when, and in words."""

    key: LineKey
    alias: str | None
    day: date | None
    said: str  # e.g. 台账中已有记录：工会 于 2026-03-10 记入（住院 2026-03-02，500.00 元）


def recorded_lines(ledger: Ledger, campaign: str, identities: set[str]) -> list[EarlierLine]:
    """The active lines of ``campaign`` whose subject or 工号 hash is one of ``identities``."""
    q = (sa.select(lines, runs.c.recorded_at).select_from(lines.join(runs))
         .where(lines.c.campaign == campaign, lines.c.status == "active"))
    out: list[EarlierLine] = []
    with ledger.engine.connect() as conn:
        for r in conn.execute(q):
            if r.subject not in identities and r.alias not in identities:
                continue
            what = f"{r.event} {r.event_date}，" if r.event else ""
            out.append(EarlierLine(LineKey(r.kind, r.subject, r.event, r.event_date), r.alias,
                                   date.fromisoformat(r.event_date) if r.event_date else None,
                                   f"台账中已有记录：{r.org} 于 {str(r.recorded_at)[:10]} 记入（{what}"
                                   f"{int(r.amount_fen) / 100:.2f} 元）"))
    return out
