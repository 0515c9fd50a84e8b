"""The objection register (异议登记) of a campaign's posted list.

During the posting (公示) anyone may object to a household.  Each objection is recorded with its
date, who raised it and why; an office member then decides it — upheld (举报属实: the household is
removed; its slot is not refilled unless the rules' quotas say ``refill``) or rejected — and who
decided is kept.  A decision may be changed later; every change is in the audit log with the
before and after.  The person objected to is kept as a keyed hash and a masked ID, like every
person in the ledger; ``allocate --ledger`` removes the households of upheld objections.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_id
from weiwen.ledger.schema import objections, runs, versions
from weiwen.ledger.store import Ledger, checked_id, operator_name

STATUS_ZH = {"pending": "待认定", "upheld": "成立", "rejected": "不成立"}


@dataclass(frozen=True)
class Objection:
    number: int
    campaign: str
    id_masked: str
    name: str
    raised_on: str
    raised_by: str
    reason: str
    recorded_by: str
    status: str  # pending / upheld / rejected
    decided_by: str
    decided_on: str
    note: str

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]


def add(ledger: Ledger, campaign: str, id_number: str, *, reason: str, raised_by: str, raised_on: date,
        name: str = "", operator: str | None = None) -> Objection:
    """Register an objection to the household of ``id_number`` (pending until decided)."""
    number = checked_id(id_number, "被提出异议的户中任何一人（通常是户主）")
    if not reason.strip():
        raise WeiwenError("请用 --reason 写明异议的内容。", code="objection-reason")
    who = operator_name(operator)
    with ledger.engine.connect() as conn:
        known = (conn.execute(sa.select(versions.c.id).where(versions.c.campaign == campaign).limit(1)).first()
                 or conn.execute(sa.select(runs.c.id).where(runs.c.campaign == campaign).limit(1)).first())
    if known is None:
        raise WeiwenError(f"台账中没有活动 {campaign} 的名单或记录：请核对活动代码（规则文件 campaign.code），"
                          "异议要登记在公示的那个活动下。", code="objection-campaign")
    row = {"campaign": campaign, "person": ledger.person_hash(number), "id_masked": mask_id(number),
           "name": name.strip(), "raised_on": raised_on.isoformat(), "raised_by": raised_by.strip() or "匿名",
           "reason": reason.strip(), "recorded_by": who, "status": "pending"}
    with ledger.writing() as conn:
        new_id = conn.execute(objections.insert().values(**row)).inserted_primary_key[0]
        ledger.log(conn, who, "objection-add", campaign=campaign, subject=f"异议第 {new_id} 号",
                   after={k: v for k, v in row.items() if k != "person"})
    return get(ledger, int(new_id))


def decide(ledger: Ledger, number: int, *, upheld: bool, note: str, decided_on: date,
           operator: str | None = None) -> Objection:
    """Decide objection ``number`` (upheld or rejected); a decided one may be decided again (logged)."""
    if not note.strip():
        raise WeiwenError("请用 --note 写明认定的依据（例如 经入户核实，该户家庭收入超过标准）。", code="objection-note")
    who = operator_name(operator)
    with ledger.writing() as conn:
        before = conn.execute(sa.select(objections).where(objections.c.id == number)).first()
        if before is None:
            raise WeiwenError(f"没有第 {number} 号异议；用 weiwen objection list 查看已登记的异议。", code="objection-unknown")
        if decided_on.isoformat() < before.raised_on:
            raise WeiwenError(f"认定日期 {decided_on.isoformat()} 早于异议提出的日期 {before.raised_on}：请用 --date 写明实际认定的日期。",
                              code="objection-date")
        after = {"status": "upheld" if upheld else "rejected", "decided_by": who,
                 "decided_on": decided_on.isoformat(), "decision_note": note.strip()}
        conn.execute(objections.update().where(objections.c.id == number).values(**after))
        ledger.log(conn, who, "objection-decide", campaign=before.campaign, subject=f"异议第 {number} 号",
                   before={k: getattr(before, k) for k in ("status", "decided_by", "decided_on", "decision_note")},
                   after=after)
    return get(ledger, number)


def _objection(r: sa.Row) -> Objection:
    return Objection(r.id, r.campaign, r.id_masked, r.name, r.raised_on, r.raised_by, r.reason, r.recorded_by,
                     r.status, r.decided_by or "", r.decided_on or "", r.decision_note or "")


def get(ledger: Ledger, number: int) -> Objection:
    with ledger.engine.connect() as conn:
        r = conn.execute(sa.select(objections).where(objections.c.id == number)).first()
    if r is None:
        raise WeiwenError(f"没有第 {number} 号异议。", code="objection-unknown")
    return _objection(r)


def listing(ledger: Ledger, campaign: str | None = None) -> list[Objection]:
    q = sa.select(objections).order_by(objections.c.id)
    if campaign:
        q = q.where(objections.c.campaign == campaign)
    with ledger.engine.connect() as conn:
        return [_objection(r) for r in conn.execute(q)]


def upheld(ledger: Ledger, campaign: str, id_numbers: list[str]) -> dict[str, str]:
    """Roster IDs whose household an upheld objection removes: ID -> the reason in words."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(objections).where(objections.c.campaign == campaign,
                                                        objections.c.status == "upheld")).all()
    if not rows:
        return {}
    by_hash = {r.person: r for r in rows}
    out = {}
    for i in id_numbers:
        r = by_hash.get(ledger.person_hash(i))
        if r is not None:
            out[i] = (f"异议成立（第 {r.id} 号：{r.raised_on} {r.raised_by}提出“{r.reason}”；"
                      f"{r.decided_by}于 {r.decided_on} 认定：{r.decision_note}）")
    return out


def state(ledger: Ledger, campaign: str) -> tuple[str, int]:
    """A digest of the campaign's objections as decided (what a list version applied), and how many wait."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(objections.c.id, objections.c.status, objections.c.person)
                            .where(objections.c.campaign == campaign).order_by(objections.c.id)).all()
    text = "\n".join(f"{r.id}:{r.status}:{r.person}" for r in rows if r.status != "pending")
    return hashlib.sha256(text.encode()).hexdigest(), sum(r.status == "pending" for r in rows)
