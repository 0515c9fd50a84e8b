"""The ledger's audit log: every write appended with operator, time and before/after, hash-chained.

Each entry's digest is HMAC-SHA256 (with the ledger key) of the previous entry's digest and the
entry's own fields, in canonical JSON.  ``meta.log_head`` holds the number of entries, the last
digest and an HMAC of both, written in the same transaction.  ``verify`` recomputes the chain: an
edited entry no longer matches its digest, a deleted or inserted one breaks the numbering or the
link, a deleted tail no longer matches the head, and a head cannot be rewritten without the key.
Every ledger has at least one entry (its init, or the migration to schema 2): an empty log is
broken too.  Without the key nobody can write a chain that verifies; with the key (and write access
to the database) anyone can — keep the key where the database's other users cannot read it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from weiwen.ledger.schema import log, meta

GENESIS = "0" * 64
HEAD = "log_head"


def now() -> str:
    """The time of a ledger write: local time with its UTC offset (2027-01-20T09:30:00+08:00), so
    lists show the clock the office reads and the moment stays exact (ledgers written before
    kept UTC, ``+00:00``; :func:`weiwen.core.text.local_time` shows both as local time)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _canonical(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest(key: bytes, prev: str, entry: Mapping[str, object]) -> str:
    fields = {k: entry[k] for k in ("id", "at", "operator", "action", "campaign", "subject", "before", "after")}
    return hmac.new(key, (prev + "\n" + _canonical(fields)).encode(), hashlib.sha256).hexdigest()


def append(conn: sa.Connection, key: bytes, *, operator: str, action: str, campaign: str = "", subject: str = "",
           before: object = None, after: object = None) -> None:
    """Append one entry (in the caller's transaction, which holds the ledger's write lock)."""
    head = conn.execute(sa.select(meta.c.value).where(meta.c.name == HEAD)).scalar()
    count, prev = (0, GENESIS) if head is None else (int(head.split(":")[0]), head.split(":")[1])
    entry = {"id": count + 1, "at": now(), "operator": operator, "action": action, "campaign": campaign,
             "subject": subject, "before": _canonical(before), "after": _canonical(after)}
    digest = _digest(key, prev, entry)
    conn.execute(log.insert().values(**entry, prev=prev, digest=digest))
    value = head_value(key, count + 1, digest)
    if head is None:
        conn.execute(meta.insert().values(name=HEAD, value=value))
    else:
        conn.execute(meta.update().where(meta.c.name == HEAD).values(value=value))


def head_value(key: bytes, count: int, digest: str) -> str:
    mac = hmac.new(key, f"head:{count}:{digest}".encode(), hashlib.sha256).hexdigest()
    return f"{count}:{digest}:{mac}"


@dataclass(frozen=True)
class Broken:
    entry: int  # the entry number where the chain breaks (0: the head)
    why: str  # in Chinese


def verify(conn: sa.Connection, key: bytes) -> tuple[int, list[Broken]]:
    """How many entries, and where the chain is broken (empty: intact)."""
    broken: list[Broken] = []
    prev = GENESIS
    expected = 1
    n = 0
    for row in conn.execute(sa.select(log).order_by(log.c.id)):
        e = dict(row._mapping)
        n += 1
        if e["id"] != expected:
            broken.append(Broken(expected, f"第 {expected} 条到第 {e['id'] - 1} 条记录不见了（被删除）"
                                 if e["id"] > expected else f"第 {e['id']} 条记录编号重复"))
            expected = e["id"]
        if e["prev"] != prev:
            broken.append(Broken(e["id"], f"第 {e['id']} 条记录与前一条接不上（前面的记录被删除或改动过）"))
        if not hmac.compare_digest(_digest(key, e["prev"], e), e["digest"]):
            broken.append(Broken(e["id"], f"第 {e['id']} 条记录（{e['action']}，{e['at']}）的内容被改动过"))
        prev = e["digest"]
        expected += 1
    head = conn.execute(sa.select(meta.c.value).where(meta.c.name == HEAD)).scalar()
    if head is None:
        broken.append(Broken(0, "日志的链头不见了" if n else "日志是空的：每个台账至少有建立或升级时的一条记录，日志被整个删除了"))
    elif not hmac.compare_digest(head, head_value(key, n, prev)):
        parts = head.split(":")
        if len(parts) == 3 and parts[0].isdigit() and hmac.compare_digest(head, head_value(key, int(parts[0]), parts[1])):
            broken.append(Broken(0, f"日志应有 {parts[0]} 条记录，现在有 {n} 条：最后的记录被删除或改动过"))
        else:
            broken.append(Broken(0, "日志的链头被改动过（不是用台账密钥写的）：其后的记录可能被删除"))
    return n, broken
