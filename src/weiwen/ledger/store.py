"""The disbursement ledger: who was paid, for which campaign, so no one is paid twice.

SQLAlchemy Core over an embedded SQLite file (default) or PostgreSQL (several offices sharing
one ledger).  Every aided person of a recorded household is recorded (:mod:`weiwen.ledger.schema`),
and the database enforces "at most once": unique indexes on (campaign, person) among active
households and persons.  Writes take the ledger's write lock one at a time (SQLite: BEGIN
IMMEDIATE; PostgreSQL: an advisory lock), so two offices writing at once follow one another and
the audit log (:mod:`weiwen.ledger.auditlog`) stays one chain.  A run is recorded in one
transaction — all of it or none of it — and a run already recorded (same file, same campaign)
adds nothing.  Records are never deleted: ``void`` marks one cancelled, with its reason, who and when.

No full ID number is stored: a person is a keyed hash (HMAC-SHA256 with the ledger key,
made at ``init`` and kept in a 0600 file beside the SQLite database or given by the
environment), plus a masked form for display.

Length: opening (key, migration), the write lock, recording with its conflict rules and the
lookups all work on one connection discipline and one key; the registers built on it (objections,
verdicts, versions, payments) live in their own modules.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from weiwen.core.errors import ExitCode, WeiwenError
from weiwen.core.ids import check_digit, mask_id, normalize_id
from weiwen.core.output_set import settle
from weiwen.ledger import auditlog
from weiwen.ledger.exchange import hashed_list
from weiwen.ledger.schema import (SCHEMA_VERSION, meta, metadata, migrate_from_1, migrate_from_2, persons, records,
                                  runs)
from weiwen.ledger.settings import BUSY_SECONDS, KEY_ENV, resolve_url
from weiwen.model.payment import PaymentRow
from weiwen.read.allocation_csv import read_allocation_csv, read_persons_csv

ATTEMPTS = 3  # how many times a recording transaction is tried (HAZARDS row 56: bounded)
RETRIED = ("40001", "40P01")  # PostgreSQL: serialisation failure, deadlock detected — try the transaction again
LOCK_ID = 7_262_026  # PostgreSQL: the advisory lock every write transaction takes (one writer at a time)
OPERATOR_ENV = "WEIWEN_OPERATOR"


def checked_id(id_number: str, whose: str) -> str:
    """An 18-digit ID typed by a clerk on the command line, normalised and checked (check digit)."""
    number, _ = normalize_id(id_number)
    if len(number) != 18 or not number[:17].isdigit() or number[17] != check_digit(number[:17]):
        raise WeiwenError(f"身份证号无效：请写{whose}的 18 位身份证号（核对最后一位校验码）。", code="ledger-id")
    return number


def operator_name(given: str | None = None) -> str:
    """Who is writing: ``--by``, else the environment variable WEIWEN_OPERATOR, else the login name."""
    if given and given.strip():
        return given.strip()[:64]
    env = os.environ.get(OPERATOR_ENV, "").strip()
    if env:
        return env[:64]
    try:
        return getpass.getuser()[:64]
    except (OSError, KeyError):
        return "未知"


@dataclass(frozen=True)
class Conflict:
    id_masked: str
    name: str
    village: str
    held_by: str  # the org whose record stands
    role: str = "户主"  # the role of the person already recorded, in this household


@dataclass
class RecordResult:
    new: int = 0
    already_recorded: bool = False
    conflicts: list[Conflict] = field(default_factory=list)
    persons: int = 0  # persons recorded with the new households
    members_known: bool = True  # False: no persons.csv beside the file (written by an older weiwen): heads only


ROLE_ZH = {"户主": "户主", "成员": "家庭成员"}


def describe(record: dict[str, object]) -> str:
    """A ledger entry in words, for 未纳入 and duplicate reports."""
    when = str(record.get("recorded_at", ""))[:10]
    role = f"（作为{ROLE_ZH.get(str(record.get('role')), '户主')}）" if record.get("role") else ""
    return (f"台账中已有记录：{record['org']} 于 {when} 在活动 {record['campaign']} 中发放 "
            f"{int(str(record['amount_fen'])) / 100:.2f} 元{role}")


def already_aided(ledger: Ledger, id_numbers: list[str], campaign: str, reference: date,
                  lookback_months: int) -> dict[str, str]:
    """Persons the ledger shows as aided — in any role — in this campaign or within the look-back:
    ID -> the entry in words.  Records made by approving a version of this same campaign are this
    campaign's own list, not an earlier aid: they do not count."""
    since = None
    if lookback_months:
        month = reference.year * 12 + reference.month - 1 - lookback_months
        since = date(month // 12, month % 12 + 1, min(reference.day, 28)).isoformat()
    found = ledger.known(id_numbers, campaign=campaign, since=since, own_versions=campaign)
    return {i: describe(recs[0]) for i, recs in found.items()}


def already_recorded(frame: object, url: str | None, against: Path | None) -> dict[str, list[str]]:
    """For check-duplicates: roster IDs found in the ledger (any campaign, any role) or in a hashed list."""
    ids = [i for i in frame["id_number"].dropna().tolist()]  # type: ignore[index]
    ledger = Ledger.open(url)
    found: dict[str, list[str]] = {i: [describe(r) for r in recs] for i, recs in ledger.known(ids).items()}
    if against is not None:
        hashes = hashed_list(against, ledger.fingerprint)
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
        self.migrated = 0  # persons carried over when this open migrated a version-1 ledger (-1: not migrated)

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, url: str | None = None, operator: str | None = None) -> Ledger:
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
        with ledger.writing() as conn:
            metadata.create_all(conn)
            existing = dict(conn.execute(sa.select(meta.c.name, meta.c.value)).all())
            if existing:
                raise WeiwenError("台账已经初始化过。", code="ledger-exists")
            conn.execute(meta.insert(), [{"name": "schema_version", "value": str(SCHEMA_VERSION)},
                                         {"name": "key_check", "value": ledger._hash("weiwen-ledger-key-check")}])
            ledger.log(conn, operator, "init", after={"schema_version": SCHEMA_VERSION,
                                                      "key_fingerprint": ledger.fingerprint})
        return ledger

    @classmethod
    def open(cls, url: str | None = None, operator: str | None = None) -> Ledger:
        """Open a ledger; one made by an earlier version of weiwen is migrated in place (logged)."""
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
        version = int(found.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise WeiwenError("台账是较新版本的 weiwen 建立的，请升级 weiwen。", code="ledger-schema-newer")
        if found.get("key_check") != ledger._hash("weiwen-ledger-key-check"):
            raise WeiwenError("台账密钥与台账不匹配：用错了密钥文件或环境变量。", code="ledger-key")
        if version < SCHEMA_VERSION:
            ledger.migrate(version, operator)
        return ledger

    def migrate(self, version: int, operator: str | None = None) -> None:
        """Bring a ledger of schema ``version`` to the current one, in one transaction (all or nothing)."""
        with self.writing() as conn:
            now = conn.execute(sa.select(meta.c.value).where(meta.c.name == "schema_version")).scalar()
            if int(now or 0) != version:  # another run migrated it meanwhile
                return
            self.migrated = migrate_from_1(conn) if version < 2 else migrate_from_2(conn)
            self.log(conn, operator, "migrate", before={"schema_version": version},
                     after={"schema_version": SCHEMA_VERSION, "persons_from_heads": self.migrated})

    @property
    def fingerprint(self) -> str:
        """A short fingerprint of the key (never the key): two offices compare it to know they share one."""
        text = self._hash("weiwen-key-fingerprint")[:16].upper()
        return "-".join(text[i:i + 4] for i in range(0, 16, 4))

    # --- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """A write transaction holding the ledger's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL:
        an advisory lock), so that writes — and the audit log's chain — follow one another."""
        with self._begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_ID})
            yield conn

    def log(self, conn: sa.Connection, operator: str | None, action: str, *, campaign: str = "", subject: str = "",
            before: object = None, after: object = None) -> None:
        auditlog.append(conn, self.key, operator=operator_name(operator), action=action, campaign=campaign,
                        subject=subject, before=before, after=after)

    def record(self, csv_path: Path, org: str, campaign: str, operator: str | None = None,
               version: int | None = None) -> RecordResult:
        """Record every household of an allocation.csv, and every person of persons.csv beside it, in
        one transaction, tried at most ``ATTEMPTS`` times: again after a serialisation failure or a
        deadlock (PostgreSQL 40001, 40P01; the last one is exit code 3), and again after a unique
        index refused a row (23505) — another writer recorded the same run or person first, and the
        next attempt, seeing its rows, finds the run already recorded or the person a conflict.
        A household any of whose persons is already recorded in this campaign (in any role) is a
        conflict and is not recorded.  The same file again adds nothing — except the members, when
        it was recorded before without its persons.csv.  ``version``: the approved list version
        this records; it replaces the records of the version approved before it."""
        for attempt in range(ATTEMPTS):
            try:
                return self._record(csv_path, org, campaign, operator, version)
            except DBAPIError as exc:
                last = attempt == ATTEMPTS - 1
                if _unique_violation(exc) and not last:
                    continue  # another writer recorded this run (or one of its persons) first: seen next time
                if _sqlstate(exc) not in RETRIED:
                    raise
                if last:
                    raise WeiwenError(f"台账正被其他任务同时写入，试了 {ATTEMPTS} 次仍未写成，本次没有记入任何记录；"
                                      "请稍后再运行同一命令（已记入的不会重复记入）。", code="ledger-locked",
                                      exit_code=ExitCode.LOCKED) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, csv_path: Path, org: str, campaign: str, operator: str | None,
                version: int | None) -> RecordResult:
        settle(csv_path.parent)  # an allocate killed while switching its files in: finish the switch first
        payments = read_allocation_csv(csv_path, code="ledger-input")
        persons_csv = payments.path.with_name("persons.csv")
        people = read_persons_csv(persons_csv, code="ledger-input").rows if persons_csv.is_file() else None
        members: dict[str, list[tuple[str, str, str]]] = {}
        for p in people or []:
            members.setdefault(p.code, []).append((p.id_number, p.name, p.role))
        households = []
        for r in payments.rows:
            who = members.get(r.code) or [(r.id_number, r.head_name, "户主")]
            if not any(i == r.id_number for i, _, _ in who):
                who = [(r.id_number, r.head_name, "户主"), *who]
            households.append((r, who))
        # A version's approval is its own run even when the file is the same as an earlier version's.
        run_key = hashlib.sha256(payments.data + b"\0" + campaign.encode()
                                 + (b"" if version is None else f"\0v{version}".encode())).hexdigest()
        result = RecordResult(members_known=people is not None)
        with self.writing() as conn:
            earlier = conn.execute(sa.select(runs.c.id).where(runs.c.run_key == run_key)).first()
            if earlier is not None:
                result.already_recorded = True
                if people is not None:
                    self._add_members(conn, earlier.id, campaign, households, result, operator)
                return result
            superseded = 0
            if version is not None:  # an approved version replaces the records of the one approved before it
                approved_runs = sa.select(runs.c.id).where(runs.c.campaign == campaign, runs.c.version.is_not(None))
                old = sa.select(records.c.id).where(records.c.run_id.in_(approved_runs), records.c.status == "active")
                conn.execute(persons.update().where(persons.c.record_id.in_(old)).values(status="void"))
                superseded = conn.execute(records.update().where(records.c.id.in_(old.scalar_subquery())).values(
                    status="void", void_reason=f"被第 {version} 版名单取代", voided_at=auditlog.now(),
                    voided_by=operator_name(operator))).rowcount
            taken = self._taken(conn, campaign, [self._hash(i) for _, who in households for i, _, _ in who])
            run_id = conn.execute(runs.insert().values(
                run_key=run_key, campaign=campaign, org=org, source=csv_path.name, recorded_at=auditlog.now(),
                households=len(households), operator=operator_name(operator), version=version,
            )).inserted_primary_key[0]
            # Sorted by the head's hash: every run writes in the same order.
            order = sorted(households, key=lambda h: self._hash(h[0].id_number))
            seen: set[str] = set()
            new_persons = 0
            for r, who in order:
                hashes = [self._hash(i) for i, _, _ in who]
                clash = next(((h, role) for h, (_, _, role) in zip(hashes, who, strict=True) if h in taken or h in seen),
                             None)
                if clash is not None:
                    held = taken.get(clash[0], (org, clash[1]))
                    result.conflicts.append(Conflict(mask_id(r.id_number), r.head_name, r.village, held[0], held[1]))
                    continue
                record_id = conn.execute(records.insert().values(
                    run_id=run_id, campaign=campaign, person=self._hash(r.id_number), id_masked=mask_id(r.id_number),
                    name=r.head_name, village=r.village, standards=r.standards, amount_fen=int(r.total * 100),
                    org=org, household_code=r.code, cash_fen=int(r.cash * 100))).inserted_primary_key[0]
                conn.execute(persons.insert(), [
                    {"record_id": record_id, "campaign": campaign, "person": h, "id_masked": mask_id(i), "name": n,
                     "role": role} for h, (i, n, role) in zip(hashes, who, strict=True)])
                seen.update(hashes)
                new_persons += len(hashes)
                result.new += 1
            result.persons = new_persons
            self.log(conn, operator, "record", campaign=campaign, subject=csv_path.name,
                     after={"org": org, "households": result.new, "persons": new_persons,
                            "conflicts": len(result.conflicts), "version": version, "superseded": superseded})
        return result

    def _add_members(self, conn: sa.Connection, run_id: int, campaign: str,
                     households: list[tuple[PaymentRow, list[tuple[str, str, str]]]], result: RecordResult,
                     operator: str | None) -> None:
        """A run recorded before without persons.csv: its households' members, now known, are added
        (a member already recorded in the campaign is a conflict and is not added)."""
        recorded = {r.household_code: r.id for r in conn.execute(
            sa.select(records.c.id, records.c.household_code).where(records.c.run_id == run_id,
                                                                    records.c.status == "active"))}
        members = [(r, who) for r, who in households if r.code in recorded]
        taken = self._taken(conn, campaign, [self._hash(i) for _, who in members for i, _, role in who
                                             if role == "成员"])
        have = set()  # (record, person) already there: the run was recorded with its members (or they were added)
        for start in range(0, len(recorded), 500):
            chunk = list(recorded.values())[start:start + 500]
            have.update(conn.execute(sa.select(persons.c.record_id, persons.c.person).where(
                persons.c.record_id.in_(chunk), persons.c.status == "active")).all())
        added: list[dict[str, object]] = []
        for r, who in members:
            for i, name, role in who:
                h = self._hash(i)
                if role != "成员" or (recorded[r.code], h) in have:
                    continue
                if h in taken:
                    result.conflicts.append(Conflict(mask_id(r.id_number), r.head_name, r.village, *taken[h]))
                    continue
                added.append({"record_id": recorded[r.code], "campaign": campaign, "person": h,
                              "id_masked": mask_id(i), "name": name, "role": role})
                taken[h] = ("本次补记", role)
        if added:
            conn.execute(persons.insert(), added)
            self.log(conn, operator, "record-members", campaign=campaign, subject=f"补记成员（第 {run_id} 次记账）",
                     after={"persons": len(added), "conflicts": len(result.conflicts)})
        result.persons = len(added)

    def _taken(self, conn: sa.Connection, campaign: str, hashes: list[str]) -> dict[str, tuple[str, str]]:
        """Of these person hashes, those with an active record in ``campaign``: hash -> (org, role)."""
        taken: dict[str, tuple[str, str]] = {}
        for start in range(0, len(hashes), 500):  # bounded IN lists
            chunk = hashes[start:start + 500]
            taken.update((p, (o, role)) for p, o, role in conn.execute(
                sa.select(persons.c.person, records.c.org, persons.c.role).join(records).where(
                    persons.c.campaign == campaign, persons.c.status == "active", persons.c.person.in_(chunk))))
        return taken

    def void(self, id_number: str, campaign: str, reason: str, operator: str | None = None) -> int:
        """Void the active record of the household this person belongs to (in any role) in ``campaign``."""
        person = self._hash(normalize_id(id_number)[0])
        with self.writing() as conn:
            ids = list(conn.execute(sa.select(persons.c.record_id).where(
                persons.c.campaign == campaign, persons.c.person == person, persons.c.status == "active")).scalars())
            if not ids:
                return 0
            before = [dict(r._mapping) for r in conn.execute(sa.select(
                records.c.id, records.c.id_masked, records.c.name, records.c.amount_fen, records.c.status
            ).where(records.c.id.in_(ids)))]
            who = operator_name(operator)
            done = conn.execute(records.update().where(records.c.id.in_(ids), records.c.status == "active").values(
                status="void", void_reason=reason, voided_at=auditlog.now(), voided_by=who))
            conn.execute(persons.update().where(persons.c.record_id.in_(ids)).values(status="void"))
            self.log(conn, who, "void", campaign=campaign, subject=mask_id(normalize_id(id_number)[0]),
                     before=before, after={"status": "void", "reason": reason})
            return int(done.rowcount)

    # --- reading -------------------------------------------------------------------------
    def rows(self, campaign: str | None = None) -> list[dict[str, object]]:
        q = sa.select(records, runs.c.recorded_at).join(runs).order_by(records.c.id)
        if campaign:
            q = q.where(records.c.campaign == campaign)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def person_rows(self, campaign: str | None = None) -> list[dict[str, object]]:
        """Every active aided person (with the household's campaign, org, village and amount), for export."""
        q = (sa.select(persons.c.person, persons.c.id_masked, persons.c.name, persons.c.role, records.c.campaign,
                       records.c.org, records.c.village, records.c.amount_fen)
             .select_from(persons.join(records)).where(persons.c.status == "active").order_by(persons.c.id))
        if campaign:
            q = q.where(records.c.campaign == campaign)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def verify(self) -> tuple[int, list[auditlog.Broken]]:
        """The audit log's chain checked: how many entries, and where it is broken."""
        with self.engine.connect() as conn:
            return auditlog.verify(conn, self.key)

    def known(self, id_numbers: list[str], campaign: str | None = None, since: str | None = None,
              own_versions: str | None = None) -> dict[str, list[dict[str, object]]]:
        """Active records of the households these persons were aided in, in any role (normalised ID ->
        records, each with the person's ``role``): in ``campaign``, or recorded on or after the ISO
        date ``since`` (either matches; with neither, any active record).  Records made by approving
        a version of the campaign ``own_versions`` are left out."""
        by_hash = {self._hash(i): i for i in id_numbers}
        q = (sa.select(records, runs.c.recorded_at, persons.c.person.label("member"), persons.c.role)
             .select_from(persons.join(records).join(runs)).where(persons.c.status == "active"))
        if campaign or since:
            q = q.where(sa.or_(records.c.campaign == (campaign or ""), runs.c.recorded_at >= (since or "9999")))
        if own_versions:
            q = q.where(sa.or_(runs.c.version.is_(None), runs.c.campaign != own_versions))
        found: dict[str, list[dict[str, object]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                if r.member in by_hash:
                    found.setdefault(by_hash[r.member], []).append(dict(r._mapping))
        return found

    def person_hash(self, id_number: str) -> str:
        return self._hash(normalize_id(id_number)[0])

    def hash_text(self, text: str) -> str:
        """The keyed hash of any text (a bank account number, a digest to bind to this ledger)."""
        return self._hash(text)

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


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def _unique_violation(exc: DBAPIError) -> bool:
    """A unique index refused a row (PostgreSQL SQLSTATE 23505; SQLite's UNIQUE constraint)."""
    if not isinstance(exc, IntegrityError):
        return False
    name = getattr(exc.orig, "sqlite_errorname", "")
    return _sqlstate(exc) == "23505" or name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


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
        u = u.set(drivername="postgresql+psycopg")  # the URL object itself: str() of it would write the password as ***
    # READ COMMITTED whatever the server's default: a writer that waited for the advisory lock must
    # see what the writer before it committed (under REPEATABLE READ its snapshot predates the wait).
    return sa.create_engine(u, pool_pre_ping=True, isolation_level="READ COMMITTED")


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


