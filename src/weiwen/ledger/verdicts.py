"""Duplicate decisions: a clerk's verdict on two IDs that ``check-duplicates`` suspects are one person.

``different`` (两个不同的人: the same name and birthday, checked and found to be two people) takes the
pair out of later suspected-duplicate reports; ``same`` (同一人) makes ``allocate --ledger`` decide
only the household listed first and leave the other out with the verdict as its reason.  Every
verdict keeps who, when and why; ``undo`` withdraws it (also with who, when and why) and the pair is
suspected again.  The pair is two keyed hashes in sorted order: no ID number is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_id
from weiwen.ledger.auditlog import now
from weiwen.ledger.schema import verdicts
from weiwen.ledger.store import Ledger, checked_id, operator_name

VERDICT_ZH = {"same": "同一人", "different": "不同的人"}


@dataclass(frozen=True)
class Verdict:
    number: int
    masked: tuple[str, str]
    verdict: str  # same / different
    reason: str
    decided_by: str
    decided_at: str
    active: bool
    undone: str  # who, when and why it was withdrawn ('' while active)

    @property
    def verdict_zh(self) -> str:
        return VERDICT_ZH[self.verdict]


def _pair(ledger: Ledger, a: str, b: str) -> tuple[tuple[str, str], tuple[str, str]]:
    ids = checked_id(a, "第一个人"), checked_id(b, "第二个人")
    if ids[0] == ids[1]:
        raise WeiwenError("两个身份证号相同：同一身份证号出现在多行是确定重复，请更正花名册，不需要认定。",
                          code="verdict-same-id")
    (ha, ma), (hb, mb) = sorted((ledger.person_hash(i), mask_id(i)) for i in ids)
    return (ha, hb), (ma, mb)


def decide(ledger: Ledger, a: str, b: str, *, same: bool, reason: str, operator: str | None = None) -> Verdict:
    """Record a verdict on the pair (a, b); one already standing for the pair is replaced (logged)."""
    if not reason.strip():
        raise WeiwenError("请用 --reason 写明认定的依据（例如 经户籍核实为两人）。", code="verdict-reason")
    (ha, hb), (ma, mb) = _pair(ledger, a, b)
    who = operator_name(operator)
    with ledger.writing() as conn:
        standing = conn.execute(sa.select(verdicts).where(verdicts.c.person_a == ha, verdicts.c.person_b == hb,
                                                          verdicts.c.status == "active")).first()
        if standing is not None:
            conn.execute(verdicts.update().where(verdicts.c.id == standing.id).values(
                status="undone", undone_by=who, undone_at=now(), undo_reason="被新的认定取代"))
        row = {"person_a": ha, "person_b": hb, "masked_a": ma, "masked_b": mb,
               "verdict": "same" if same else "different", "reason": reason.strip(), "decided_by": who,
               "decided_at": now(), "status": "active"}
        number = conn.execute(verdicts.insert().values(**row)).inserted_primary_key[0]
        ledger.log(conn, who, "verdict", subject=f"查重认定第 {number} 号：{ma} 与 {mb}",
                   before=None if standing is None else {"number": standing.id, "verdict": standing.verdict},
                   after={"number": number, "verdict": row["verdict"], "reason": row["reason"]})
    return get(ledger, int(number))


def undo(ledger: Ledger, number: int, *, reason: str, operator: str | None = None) -> Verdict:
    if not reason.strip():
        raise WeiwenError("请用 --reason 写明撤销的原因。", code="verdict-reason")
    who = operator_name(operator)
    with ledger.writing() as conn:
        standing = conn.execute(sa.select(verdicts).where(verdicts.c.id == number)).first()
        if standing is None or standing.status != "active":
            raise WeiwenError(f"没有有效的第 {number} 号查重认定；用 weiwen duplicates list 查看。", code="verdict-unknown")
        conn.execute(verdicts.update().where(verdicts.c.id == number).values(
            status="undone", undone_by=who, undone_at=now(), undo_reason=reason.strip()))
        ledger.log(conn, who, "verdict-undo", subject=f"查重认定第 {number} 号",
                   before={"verdict": standing.verdict, "status": "active"}, after={"status": "undone",
                                                                                  "reason": reason.strip()})
    return get(ledger, number)


def _verdict(r: sa.Row) -> Verdict:
    undone = "" if r.status == "active" else f"{r.undone_by} 于 {r.undone_at[:10]} 撤销：{r.undo_reason}"
    return Verdict(r.id, (r.masked_a, r.masked_b), r.verdict, r.reason, r.decided_by, r.decided_at,
                   r.status == "active", undone)


def get(ledger: Ledger, number: int) -> Verdict:
    with ledger.engine.connect() as conn:
        r = conn.execute(sa.select(verdicts).where(verdicts.c.id == number)).first()
    if r is None:
        raise WeiwenError(f"没有第 {number} 号查重认定。", code="verdict-unknown")
    return _verdict(r)


def listing(ledger: Ledger) -> list[Verdict]:
    with ledger.engine.connect() as conn:
        return [_verdict(r) for r in conn.execute(sa.select(verdicts).order_by(verdicts.c.id))]


def standing(ledger: Ledger, id_numbers: list[str]) -> dict[frozenset[str], tuple[str, str]]:
    """The active verdicts on pairs among these IDs: pair of normalised IDs -> (same/different, in words)."""
    by_hash = {ledger.person_hash(i): i for i in id_numbers}
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(verdicts).where(verdicts.c.status == "active")).all()
    out: dict[frozenset[str], tuple[str, str]] = {}
    for r in rows:
        if r.person_a in by_hash and r.person_b in by_hash:
            pair = frozenset((by_hash[r.person_a], by_hash[r.person_b]))
            out[pair] = (r.verdict, f"查重认定第 {r.id} 号：{r.decided_by} 于 {r.decided_at[:10]} "
                                    f"认定为{VERDICT_ZH[r.verdict]}（{r.reason}）")
    return out


def state(ledger: Ledger) -> str:
    """A digest of the active verdicts (what a list version applied)."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(verdicts.c.id).where(verdicts.c.status == "active").order_by(verdicts.c.id)).all()
    return hashlib.sha256(",".join(str(r.id) for r in rows).encode()).hexdigest()
