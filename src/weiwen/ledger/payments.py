"""Bank payment batches of an approved list version, and what the bank's return file said.

A batch is registered with its lines (the household's code, head, a keyed hash and a masked form of
the account, the amount) when its file is written; the return file marks each line paid or failed.
Failed lines go into a re-payment batch.  A household's state is that of its latest line, so the
approved cash total always splits, to the cent, into paid + awaiting the bank + failed and not yet
re-paid (+ households without an account, outside every batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from weiwen.core.errors import WeiwenError
from weiwen.core.ids import mask_digits
from weiwen.ledger.auditlog import now
from weiwen.ledger.schema import batch_lines, batches
from weiwen.ledger.store import Ledger, operator_name
from weiwen.model.bank import PayLine


def new_batch(ledger: Ledger, campaign: str, version: int, bank: str, lines: Sequence[PayLine],
              operator: str | None, *, repay: bool) -> int:
    """Register a batch of ``lines`` (the caller leaves out households paid or waiting); its number."""
    who = operator_name(operator)
    rows = [{"code": x.code, "person": ledger.person_hash(x.id_number) if x.id_number else "", "name": x.name, "village": x.village, "account": ledger.hash_text(x.account),
             "account_masked": mask_digits(x.account), "amount_fen": int(x.amount * 100)} for x in lines]
    with ledger.writing() as conn:
        existing = conn.execute(sa.select(batches).where(batches.c.campaign == campaign)
                                .order_by(batches.c.number)).all()
        number = (existing[-1].number + 1) if existing else 1
        total = sum(r["amount_fen"] for r in rows)
        bid = conn.execute(batches.insert().values(campaign=campaign, version=version, number=number, bank=bank,
                                                   lines=len(rows), total_fen=total, made_at=now(),
                                                   made_by=who)).inserted_primary_key[0]
        if rows:
            conn.execute(batch_lines.insert(), [{**r, "batch_id": bid} for r in rows])
        ledger.log(conn, who, "batch", campaign=campaign, subject=f"第 {number} 批代发",
                   after={"version": version, "bank": bank, "lines": len(rows), "total_fen": total,
                          "kind": "补发" if repay else "代发"})
    return int(number)


def latest_batch(ledger: Ledger, campaign: str) -> int:
    with ledger.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.max(batches.c.number)).where(batches.c.campaign == campaign)).scalar()
    if n is None:
        raise WeiwenError(f"活动 {campaign} 还没有生成过代发文件（weiwen payment file）。", code="batch-unknown")
    return int(n)


def batch_lines_of(conn: sa.Connection, campaign: str, number: int) -> list[sa.Row]:
    b = conn.execute(sa.select(batches.c.id).where(batches.c.campaign == campaign, batches.c.number == number)).first()
    if b is None:
        raise WeiwenError(f"活动 {campaign} 没有第 {number} 批代发。", code="batch-unknown")
    return list(conn.execute(sa.select(batch_lines).where(batch_lines.c.batch_id == b.id).order_by(batch_lines.c.id)))


def batch_lines_list(ledger: Ledger, campaign: str, number: int) -> list[dict[str, object]]:
    with ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in batch_lines_of(conn, campaign, number)]


def mark(ledger: Ledger, campaign: str, number: int, results: Sequence[tuple[str, bool, str]], operator: str | None,
         source: str) -> None:
    """Mark lines of batch ``number`` (by account hash) paid or failed, in one transaction."""
    who = operator_name(operator)
    with ledger.writing() as conn:
        lines = {r.account: r for r in batch_lines_of(conn, campaign, number)}
        before = {"paid": 0, "failed": 0, "pending": 0}
        for r in lines.values():
            before[r.status] += 1
        at = now()
        for account, paid, message in results:
            line = lines.get(account)
            if line is not None:
                conn.execute(batch_lines.update().where(batch_lines.c.id == line.id).values(
                    status="paid" if paid else "failed", message=message[:256], returned_at=at))
        after = {"paid": sum(p for _, p, _ in results), "failed": sum(not p for _, p, _ in results)}
        ledger.log(conn, who, "payment-result", campaign=campaign, subject=f"第 {number} 批回盘：{source}",
                   before=before, after=after)


def latest_lines(ledger: Ledger, campaign: str) -> dict[str, tuple[str, int, int, str]]:
    """Each head's latest batch line in the campaign (any version): hash -> (status, fen, batch number, village and name).
    Status: pending / paid / failed / void (a file of a version replaced before the bank had it)."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(batch_lines.c.person, batch_lines.c.status, batch_lines.c.amount_fen,
                                      batches.c.number, batch_lines.c.village, batch_lines.c.name)
                            .join(batches).where(batches.c.campaign == campaign)
                            .order_by(batches.c.number, batch_lines.c.id)).all()
    latest: dict[str, tuple[str, int, int, str]] = {}
    for r in rows:
        if r.status == "paid" or latest.get(r.person, ("",))[0] != "paid":  # once paid, a household stays paid
            latest[r.person] = (r.status, int(r.amount_fen), int(r.number), f"{r.village} {r.name}")
    return latest


def supersede(ledger: Ledger, campaign: str, version: int, operator: str | None) -> int:
    """Lines still waiting for the bank in batches of earlier versions are void (a new version was
    approved: those files must not be uploaded); how many."""
    who = operator_name(operator)
    with ledger.writing() as conn:
        old = sa.select(batches.c.id).where(batches.c.campaign == campaign, batches.c.version < version)
        n = conn.execute(batch_lines.update().where(batch_lines.c.batch_id.in_(old), batch_lines.c.status == "pending")
                         .values(status="void", message=f"第 {version} 版审批后作废，不得上传")).rowcount
        if n:
            ledger.log(conn, who, "batch-void", campaign=campaign, subject=f"第 {version} 版之前待处理的代发",
                       after={"lines": n})
    return int(n)


@dataclass(frozen=True)
class PaymentStatus:
    paid: Decimal  # households of the version paid (in any batch)
    pending: Decimal  # sent to the bank, no result yet
    failed_open: Decimal  # the latest line failed
    unsent: Decimal  # with an account, in no batch yet (or only in a void one)
    paid_outside: list[str]  # heads paid in this campaign who are not in the version (masked, with the batch)
    paid_differs: list[str]  # households paid another amount than the version's (an earlier version's)


def status(ledger: Ledger, campaign: str, heads: dict[str, int]) -> PaymentStatus:
    """The version's households (head hash -> cash in fen, with an account) by their latest line.
    Paid households count with what they were paid: a household paid under an earlier version with
    another amount makes the sums disagree with the version, and is named."""
    latest = latest_lines(ledger, campaign)
    total = {"paid": 0, "pending": 0, "failed": 0, "void": 0, "none": 0}
    differs = []
    for head, fen in heads.items():
        state, line_fen, number, who = latest.get(head, ("none", 0, 0, ""))
        total[state] += line_fen if state == "paid" else fen
        if state == "paid" and line_fen != fen:
            differs.append(f"{who}：第 {number} 批已到账 {line_fen / 100:.2f} 元，本版核定 {fen / 100:.2f} 元")
    outside = [head for head, (state, *_) in latest.items() if state == "paid" and head not in heads]
    shown = []
    if outside:
        with ledger.engine.connect() as conn:
            for r in conn.execute(sa.select(batch_lines.c.person, batch_lines.c.name, batch_lines.c.village,
                                            batch_lines.c.amount_fen, batches.c.number).join(batches)
                                  .where(batches.c.campaign == campaign, batch_lines.c.status == "paid",
                                         batch_lines.c.person.in_(outside[:500]))):
                shown.append(f"{r.village} {r.name}：第 {r.number} 批已到账 {int(r.amount_fen) / 100:.2f} 元")
    yuan = {k: Decimal(v).scaleb(-2) for k, v in total.items()}
    return PaymentStatus(yuan["paid"], yuan["pending"], yuan["failed"], yuan["void"] + yuan["none"], shown, differs)
