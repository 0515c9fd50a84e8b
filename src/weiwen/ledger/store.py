"""The disbursement ledger: who was paid, for which campaign, so no one is paid twice.

SQLAlchemy Core over an embedded SQLite file (default) or PostgreSQL (several offices sharing
one ledger).  The database enforces "at most once": a unique index on (campaign, person)
among active records.  A run is recorded in one transaction — all of it or none of it — and
a run already recorded (same file, same campaign) adds nothing.  Records are never deleted:
``void`` marks one cancelled, with its reason and time.

No full ID number is stored: a person is a keyed hash (HMAC-SHA256 with the ledger key,
made at ``init`` and kept in a 0600 file beside the SQLite database or given by the
environment), plus a masked form for display.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.core.ids import mask_id, normalize_id
from weiwen.ledger.exchange import hashed_list
from weiwen.ledger.settings import BUSY_SECONDS, KEY_ENV, resolve_url
from weiwen.read.allocation_csv import read_allocation_csv

SCHEMA_VERSION = 1

metadata = sa.MetaData()
meta = sa.Table("meta", metadata, sa.Column("name", sa.String(64), primary_key=True),
                sa.Column("value", sa.String(256), nullable=False))
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_key", sa.String(128), nullable=False, unique=True),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("org", sa.String(128), nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
)
records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),  # HMAC-SHA256 of the normalised ID
    sa.Column("id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("village", sa.String(128), nullable=False),
    sa.Column("standards", sa.String(256), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("org", sa.String(128), nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),
    sa.Column("void_reason", sa.String(256)),
    sa.Column("voided_at", sa.String(32)),
)
ACTIVE = records.c.status == "active"
# The index predicate is literal SQL: PostgreSQL matches ON CONFLICT ... WHERE against it textually.
_ACTIVE_SQL = sa.text("status = 'active'")
sa.Index("one_active_record", records.c.campaign, records.c.person, unique=True,
         sqlite_where=_ACTIVE_SQL, postgresql_where=_ACTIVE_SQL)


@dataclass(frozen=True)
class Conflict:
    id_masked: str
    name: str
    village: str
    held_by: str  # the org whose record stands


@dataclass
class RecordResult:
    new: int = 0
    already_recorded: bool = False
    conflicts: list[Conflict] = field(default_factory=list)


def describe(record: dict[str, object]) -> str:
    """A ledger entry in words, for 未纳入 and duplicate reports."""
    when = str(record.get("recorded_at", ""))[:10]
    return f"台账中已有记录：{record['org']} 于 {when} 在活动 {record['campaign']} 中发放 {int(record['amount_fen']) / 100:.2f} 元"


def already_aided(ledger: Ledger, id_numbers: list[str], campaign: str, reference: date,
                  lookback_months: int) -> dict[str, str]:
    """Persons the ledger shows as aided in this campaign or within the look-back: ID -> the entry in words."""
    since = None
    if lookback_months:
        month = reference.year * 12 + reference.month - 1 - lookback_months
        since = date(month // 12, month % 12 + 1, min(reference.day, 28)).isoformat()
    found = ledger.known(id_numbers, campaign=campaign, since=since)
    return {i: describe(recs[0]) for i, recs in found.items()}


def already_recorded(frame: object, url: str | None, against: Path | None) -> dict[str, list[str]]:
    """For check-duplicates: roster IDs found in the ledger (any campaign) or in a hashed list."""
    ids = [i for i in frame["id_number"].dropna().tolist()]  # type: ignore[index]
    ledger = Ledger.open(url)
    found: dict[str, list[str]] = {i: [describe(r) for r in recs] for i, recs in ledger.known(ids).items()}
    if against is not None:
        hashes = hashed_list(against)
        for i in ids:
            if ledger.person_hash(i) in hashes:
                found.setdefault(i, []).append(f"出现在比对名单 {against.name} 中")
    return found


def _sqlite_file(url: str) -> Path | None:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        return Path(u.database)
    return None


def key_path(url: str) -> Path | None:
    db = _sqlite_file(url)
    return db.with_suffix(".key") if db is not None else None


class Ledger:
    def __init__(self, url: str, key: bytes):
        self.url = url
        self.key = key
        self.engine = _engine(url)

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, url: str | None = None) -> Ledger:
        url = resolve_url(url)
        key = _env_key()
        kp = key_path(url)
        if key is None:
            if kp is None:
                raise WeiwenError(f"PostgreSQL 台账需要用环境变量 {KEY_ENV} 提供密钥（64 位十六进制）。", code="ledger-key")
            if kp.exists():
                raise WeiwenError(f"密钥文件 {kp} 已存在：台账已经初始化过。", code="ledger-exists")
            key = secrets.token_bytes(32)
            fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key.hex() + "\n")
        ledger = cls(url, key)
        db = _sqlite_file(url)
        if db is not None and not db.exists():
            db.touch(mode=0o600)  # names and amounts: not for every account on the machine
        with ledger._begin() as conn:
            metadata.create_all(conn)
            existing = dict(conn.execute(sa.select(meta.c.name, meta.c.value)).all())
            if existing:
                raise WeiwenError("台账已经初始化过。", code="ledger-exists")
            conn.execute(meta.insert(), [{"name": "schema_version", "value": str(SCHEMA_VERSION)},
                                         {"name": "key_check", "value": ledger._hash("weiwen-ledger-key-check")}])
        return ledger

    @classmethod
    def open(cls, url: str | None = None) -> Ledger:
        url = resolve_url(url)
        key = _env_key()
        kp = key_path(url)
        if key is None:
            if kp is None or not kp.is_file():
                raise WeiwenError(f"找不到台账密钥（{kp or KEY_ENV}）。请先运行 weiwen ledger init，"
                                  f"或用环境变量 {KEY_ENV} 提供。", code="ledger-key")
            key = bytes.fromhex(kp.read_text().strip())
        ledger = cls(url, key)
        try:
            with ledger.engine.connect() as conn:
                found = dict(conn.execute(sa.select(meta.c.name, meta.c.value)).all())
        except (OperationalError, DBAPIError) as exc:
            _raise_if_locked(exc)
            raise WeiwenError(f"无法打开台账 {_safe(url)}：文件不存在、已损坏或不是台账。请先运行 weiwen ledger init。",
                              code="ledger-unavailable") from None
        if int(found.get("schema_version", "0")) > SCHEMA_VERSION:
            raise WeiwenError("台账是较新版本的 weiwen 建立的，请升级 weiwen。", code="ledger-schema-newer")
        if found.get("key_check") != ledger._hash("weiwen-ledger-key-check"):
            raise WeiwenError("台账密钥与台账不匹配：用错了密钥文件或环境变量。", code="ledger-key")
        return ledger

    # --- writing -------------------------------------------------------------------------
    def record(self, csv_path: Path, org: str, campaign: str) -> RecordResult:
        """Record every household of an allocation.csv in one transaction (retried on a serialisation failure)."""
        for attempt in range(3):
            try:
                return self._record(csv_path, org, campaign)
            except DBAPIError as exc:
                code = getattr(getattr(exc, "orig", None), "sqlstate", None)
                if code not in ("40001", "40P01") or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, csv_path: Path, org: str, campaign: str) -> RecordResult:
        payments = read_allocation_csv(csv_path, code="ledger-input")
        data = payments.data
        rows = [{"_id": r.id_number, "id_masked": mask_id(r.id_number), "name": r.head_name, "village": r.village,
                 "standards": r.standards, "amount_fen": int(r.total * 100)} for r in payments.rows]
        run_key = hashlib.sha256(data + b"\0" + campaign.encode()).hexdigest()
        result = RecordResult()
        with self._begin() as conn:
            if conn.execute(sa.select(runs.c.id).where(runs.c.run_key == run_key)).first():
                result.already_recorded = True
                return result
            run_id = conn.execute(runs.insert().values(
                run_key=run_key, campaign=campaign, org=org, source=csv_path.name,
                recorded_at=datetime.now(UTC).isoformat(timespec="seconds"), households=len(rows),
            )).inserted_primary_key[0]
            values = [{**{k: v for k, v in r.items() if k != "_id"}, "run_id": run_id, "campaign": campaign,
                       "org": org, "person": self._hash(str(r["_id"]))} for r in rows]
            # Every run inserts in the same (hash) order, so two concurrent runs never wait on each other
            # in a cycle: PostgreSQL cannot deadlock them.
            values.sort(key=lambda v: v["person"])
            if values:
                # One statement for the whole file; the unique index turns away whoever is already recorded
                # (also a concurrent run's rows: PostgreSQL waits for it, then skips them).
                conn.execute(_insert(conn)(records).on_conflict_do_nothing(
                    index_elements=["campaign", "person"], index_where=_ACTIVE_SQL), values)
            mine = set(conn.execute(sa.select(records.c.person).where(records.c.run_id == run_id)).scalars())
            result.new = len(mine)
            lost = [v for v in values if v["person"] not in mine]
            holders: dict[str, str] = {}
            for start in range(0, len(lost), 500):  # bounded IN lists
                chunk = [v["person"] for v in lost[start:start + 500]]
                holders.update(conn.execute(sa.select(records.c.person, records.c.org).where(
                    records.c.campaign == campaign, ACTIVE, records.c.person.in_(chunk))).all())
            for v in lost:
                result.conflicts.append(Conflict(v["id_masked"], v["name"], v["village"],
                                                 holders.get(v["person"], "?")))
        return result

    def void(self, id_number: str, campaign: str, reason: str) -> int:
        person = self._hash(normalize_id(id_number)[0])
        with self._begin() as conn:
            done = conn.execute(records.update().where(
                records.c.campaign == campaign, records.c.person == person, ACTIVE,
            ).values(status="void", void_reason=reason, voided_at=datetime.now(UTC).isoformat(timespec="seconds")))
            return int(done.rowcount)

    # --- reading -------------------------------------------------------------------------
    def rows(self, campaign: str | None = None) -> list[dict[str, object]]:
        q = sa.select(records, runs.c.recorded_at).join(runs).order_by(records.c.id)
        if campaign:
            q = q.where(records.c.campaign == campaign)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def known(self, id_numbers: list[str], campaign: str | None = None, since: str | None = None
              ) -> dict[str, list[dict[str, object]]]:
        """Active records of these persons (normalised ID -> records): in ``campaign``, or recorded on or
        after the ISO date ``since`` (either matches; with neither, any active record)."""
        by_hash = {self._hash(i): i for i in id_numbers}
        q = sa.select(records, runs.c.recorded_at).join(runs).where(ACTIVE)
        if campaign or since:
            q = q.where(sa.or_(records.c.campaign == (campaign or ""), runs.c.recorded_at >= (since or "9999")))
        found: dict[str, list[dict[str, object]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                if r.person in by_hash:
                    found.setdefault(by_hash[r.person], []).append(dict(r._mapping))
        return found

    def person_hash(self, id_number: str) -> str:
        return self._hash(normalize_id(id_number)[0])

    # --- internals -----------------------------------------------------------------------
    def _hash(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    @contextlib.contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A transaction; a ledger another run holds (SQLite: "database is locked" after the busy
        timeout) is exit code 3, whether it shows when connecting or inside the transaction."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            _raise_if_locked(exc)
            raise


def _raise_if_locked(exc: DBAPIError) -> None:
    """SQLite's "database is locked" (another run holds the write lock) as exit code 3."""
    if "locked" in str(exc.orig).lower():
        raise WeiwenError(f"台账被另一个任务占用，请稍后再试（{exc.orig}）。", code="ledger-locked",
                          exit_code=ExitCode.LOCKED) from None


def _engine(url: str) -> sa.Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock before reading: no check-then-insert race

        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        url = str(u.set(drivername="postgresql+psycopg"))
    return sa.create_engine(url, pool_pre_ping=True)


def _insert(conn: sa.Connection):  # type: ignore[no-untyped-def]
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _env_key() -> bytes | None:
    text = os.environ.get(KEY_ENV)
    if not text:
        return None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise WeiwenError(f"环境变量 {KEY_ENV} 应为十六进制的密钥。", code="ledger-key") from None
    if len(key) < 16:
        raise WeiwenError(f"环境变量 {KEY_ENV} 的密钥太短（至少 32 位十六进制）。", code="ledger-key")
    return key


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


