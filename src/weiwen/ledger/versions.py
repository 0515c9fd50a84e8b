"""The versions of a campaign's list, and what was posted and approved.

``allocate --ledger`` registers the list it wrote as a version: the same decision again is the same
version (objections or verdicts decided since that leave the list as it is are noted on it); a
different one is the next number, with its reason.  ``publish`` marks a version as the
one posted (公示); a reissued list is compared with it household by household (the change list).
``approve`` freezes a version: the digest of every output file is kept, and sign sheets and bank
files are made only from an approved version whose files still have that digest.  After a version
is approved, a new version needs a stated reason.  The households of each version are kept (keyed
hashes, masked IDs) so that a change list needs no old files.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from weiwen.core.errors import WeiwenError
from weiwen.ledger.auditlog import now
from weiwen.ledger.schema import runs, version_lines, versions
from weiwen.ledger.store import Ledger, operator_name


@dataclass(frozen=True)
class Version:
    id: int
    campaign: str
    number: int
    digest: str
    inputs: str
    register: str
    households: int
    total_fen: int
    cash_fen: int
    reason: str
    made_at: str
    made_by: str
    posted_at: str
    posted_by: str
    approved_at: str
    approved_by: str
    approved_outputs: str

    @property
    def state_zh(self) -> str:
        return "已审批" if self.approved_at else "已公示" if self.posted_at else "草稿"


def _version(r: sa.Row) -> Version:
    return Version(r.id, r.campaign, r.number, r.digest, r.inputs, r.register, r.households, r.total_fen, r.cash_fen,
                   r.reason, r.made_at, r.made_by, r.posted_at or "", r.posted_by or "", r.approved_at or "",
                   r.approved_by or "", r.approved_outputs or "")


def listing(ledger: Ledger, campaign: str) -> list[Version]:
    with ledger.engine.connect() as conn:
        return [_version(r) for r in conn.execute(
            sa.select(versions).where(versions.c.campaign == campaign).order_by(versions.c.number))]


def get(ledger: Ledger, campaign: str, number: int) -> Version:
    found = [v for v in listing(ledger, campaign) if v.number == number]
    if not found:
        raise WeiwenError(f"台账中没有活动 {campaign} 的第 {number} 版名单：请先用 weiwen allocate --ledger 生成。",
                          code="version-unknown")
    return found[0]


def posted(ledger: Ledger, campaign: str) -> Version | None:
    done = [v for v in listing(ledger, campaign) if v.posted_at]
    return done[-1] if done else None


def approved_by_org(ledger: Ledger, campaign: str) -> str | None:
    """The office whose approved versions the campaign's ledger records are (None: none approved yet)."""
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(runs.c.org).where(runs.c.campaign == campaign, runs.c.version.is_not(None))
                            .order_by(runs.c.id.desc()).limit(1)).scalar()


def register(ledger: Ledger, campaign: str, *, digest: str, inputs: str, register_state: str,
             lines: list[dict[str, object]], total_fen: int, cash_fen: int, reason: str | None,
             operator: str | None = None) -> tuple[Version, bool]:
    """The version of this decision: the latest one when it is the same, else a new one (True)."""
    who = operator_name(operator)
    with ledger.writing() as conn:
        last = conn.execute(sa.select(versions).where(versions.c.campaign == campaign)
                            .order_by(versions.c.number.desc()).limit(1)).first()
        if last is not None and last.digest == digest:
            if last.register != register_state:  # objections or verdicts decided since, the list unchanged
                conn.execute(versions.update().where(versions.c.id == last.id).values(register=register_state))
                ledger.log(conn, who, "version-register", campaign=campaign, subject=f"第 {last.number} 版名单",
                           before={"register": last.register}, after={"register": register_state,
                                                                      "list": "unchanged"})
                last = conn.execute(sa.select(versions).where(versions.c.id == last.id)).one()
            return _version(last), False
        if last is not None and last.approved_at and not (reason or "").strip():
            raise WeiwenError(f"活动 {campaign} 的第 {last.number} 版名单已经审批；这次核定的结果与它不同，"
                              f"必须用 --reason 写明变更原因（例如 --reason \"异议第3号成立，取消1户\"），"
                              f"才会生成第 {last.number + 1} 版。", code="version-reason")
        number = 1 if last is None else last.number + 1
        why = (reason or "").strip() or ("首次核定" if last is None else "异议或查重认定有变化"
                                          if last.register != register_state else "花名册或规则有变化")
        row = {"campaign": campaign, "number": number, "digest": digest, "inputs": inputs, "register": register_state,
               "households": len(lines), "total_fen": total_fen, "cash_fen": cash_fen, "reason": why,
               "made_at": now(), "made_by": who}
        vid = conn.execute(versions.insert().values(**row)).inserted_primary_key[0]
        if lines:
            conn.execute(version_lines.insert(), [{**line, "version_id": vid} for line in lines])
        ledger.log(conn, who, "version", campaign=campaign, subject=f"第 {number} 版名单",
                   before=None if last is None else {"number": last.number, "digest": last.digest},
                   after={k: v for k, v in row.items() if k not in ("campaign",)})
        made = conn.execute(sa.select(versions).where(versions.c.id == vid)).one()
    return _version(made), True


def lines(ledger: Ledger, version: Version) -> list[dict[str, object]]:
    with ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(version_lines).where(version_lines.c.version_id == version.id).order_by(version_lines.c.id))]


def publish(ledger: Ledger, version: Version, operator: str | None = None) -> Version:
    """Mark ``version`` as the one posted (公示)."""
    who = operator_name(operator)
    with ledger.writing() as conn:
        conn.execute(versions.update().where(versions.c.id == version.id).values(posted_at=now(), posted_by=who))
        ledger.log(conn, who, "publish", campaign=version.campaign, subject=f"第 {version.number} 版名单",
                   before={"posted_at": version.posted_at or None}, after={"posted": True})
    return get(ledger, version.campaign, version.number)


def approve(ledger: Ledger, version: Version, outputs: str, operator: str | None = None) -> Version:
    """Freeze ``version``: its output files' digest is kept with who approved it and when."""
    who = operator_name(operator)
    with ledger.writing() as conn:
        conn.execute(versions.update().where(versions.c.id == version.id).values(
            approved_at=now(), approved_by=who, approved_outputs=outputs))
        ledger.log(conn, who, "approve", campaign=version.campaign, subject=f"第 {version.number} 版名单",
                   before=None, after={"outputs": outputs, "households": version.households,
                                       "total_fen": version.total_fen})
    return get(ledger, version.campaign, version.number)
