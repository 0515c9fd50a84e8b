"""The ledger's tables, its schema version and the migration of older ledgers in place.

Version 1 (weiwen ≤ 0.x of 2026-11): ``meta``, ``runs`` and ``records`` — one record per household,
keyed by the head's hash.  Version 2 adds who did each write (``runs.operator``,
``records.voided_by``), a record of every aided *person* (``persons``), the hash-chained audit log
(``log``), the objection register (``objections``), duplicate decisions (``verdicts``), the list
versions of a campaign with their households (``versions``, ``version_lines``) and bank payment
batches with their lines (``batches``, ``batch_lines``).

Version 3 adds ``lines``: the aided units and members' events of campaigns whose recipients are
not households (a unit by its department and name as written; an event by its member's keyed hash,
its type and its date), so that a unit or an event is never recorded twice and the frequency limits
count the events of earlier runs.

No table holds a full ID, phone or card number: persons are keyed hashes (HMAC-SHA256 with the
ledger key) with a masked form for display; bank accounts likewise.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 3

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
    sa.Column("operator", sa.String(64)),  # v2
    sa.Column("version", sa.Integer),  # v2: the approved list version this run records (None: ledger record)
)
records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),  # the head: HMAC-SHA256 of the normalised ID
    sa.Column("id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("village", sa.String(128), nullable=False),
    sa.Column("standards", sa.String(256), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("org", sa.String(128), nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),
    sa.Column("void_reason", sa.String(256)),
    sa.Column("voided_at", sa.String(32)),
    sa.Column("voided_by", sa.String(64)),  # v2
    sa.Column("household_code", sa.String(256)),  # v2: 户编码 of the allocation it came from
    sa.Column("cash_fen", sa.BigInteger),  # v2: the part paid by bank (None: recorded by v1)
)
# The index predicate is literal SQL: PostgreSQL matches ON CONFLICT ... WHERE against it textually.
ACTIVE_SQL = sa.text("status = 'active'")
sa.Index("one_active_record", records.c.campaign, records.c.person, unique=True,
         sqlite_where=ACTIVE_SQL, postgresql_where=ACTIVE_SQL)

persons = sa.Table(  # v2: every aided person of every recorded household
    "persons", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.Integer, sa.ForeignKey("records.id"), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),
    sa.Column("id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),  # 户主 / 成员
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),
)
sa.Index("one_active_person", persons.c.campaign, persons.c.person, unique=True,
         sqlite_where=ACTIVE_SQL, postgresql_where=ACTIVE_SQL)
sa.Index("person_lookup", persons.c.person)

log = sa.Table(  # v2: every write, hash-chained with the ledger key
    "log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("before", sa.Text, nullable=False),
    sa.Column("after", sa.Text, nullable=False),
    sa.Column("prev", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
)

objections = sa.Table(  # v2: 异议登记
    "objections", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),  # a person of the household objected to
    sa.Column("id_masked", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("raised_on", sa.String(10), nullable=False),
    sa.Column("raised_by", sa.String(128), nullable=False),
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),  # pending / upheld / rejected
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_on", sa.String(10)),
    sa.Column("decision_note", sa.String(512)),
)

verdicts = sa.Table(  # v2: duplicate decisions (same person / different people)
    "verdicts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person_a", sa.String(64), nullable=False),  # the two hashes, in sorted order
    sa.Column("person_b", sa.String(64), nullable=False),
    sa.Column("masked_a", sa.String(32), nullable=False),
    sa.Column("masked_b", sa.String(32), nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),  # same / different
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),  # active / undone
    sa.Column("undone_by", sa.String(64)),
    sa.Column("undone_at", sa.String(32)),
    sa.Column("undo_reason", sa.String(512)),
)

versions = sa.Table(  # v2: the versions of a campaign's list
    "versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # the decision's content
    sa.Column("inputs", sa.String(64), nullable=False),  # rosters, rules and aliases files
    sa.Column("register", sa.String(64), nullable=False),  # the objections and verdicts it applied
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("total_fen", sa.BigInteger, nullable=False),
    sa.Column("cash_fen", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("made_at", sa.String(32), nullable=False),
    sa.Column("made_by", sa.String(64), nullable=False),
    sa.Column("posted_at", sa.String(32)),
    sa.Column("posted_by", sa.String(64)),
    sa.Column("approved_at", sa.String(32)),
    sa.Column("approved_by", sa.String(64)),
    sa.Column("approved_outputs", sa.String(64)),  # the digest of every output file when approved
    sa.UniqueConstraint("campaign", "number"),
)
version_lines = sa.Table(  # v2: the households of a version (for the change list against the posted one)
    "version_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),  # the head
    sa.Column("code", sa.String(256), nullable=False),
    sa.Column("village", sa.String(128), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("id_masked", sa.String(32), nullable=False),
    sa.Column("standards", sa.String(256), nullable=False),
    sa.Column("total_fen", sa.BigInteger, nullable=False),
)

batches = sa.Table(  # v2: bank payment batches (first payment and re-payments)
    "batches", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("bank", sa.String(64), nullable=False),
    sa.Column("lines", sa.Integer, nullable=False),
    sa.Column("total_fen", sa.BigInteger, nullable=False),
    sa.Column("made_at", sa.String(32), nullable=False),
    sa.Column("made_by", sa.String(64), nullable=False),
    sa.UniqueConstraint("campaign", "number"),
)
batch_lines = sa.Table(
    "batch_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.Column("code", sa.String(256), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),  # the head
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("village", sa.String(128), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),  # keyed hash of the account number
    sa.Column("account_masked", sa.String(32), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="pending"),  # pending / paid / failed
    sa.Column("message", sa.String(256)),
    sa.Column("returned_at", sa.String(32)),
)

lines = sa.Table(  # v3: aided units and members' events
    "lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # unit / person
    sa.Column("subject", sa.String(300), nullable=False),  # unit: 部门/名称 as written; person: the keyed hash
    sa.Column("masked", sa.String(32), nullable=False),  # person: the masked ID (or the 工号); unit: ""
    sa.Column("alias", sa.String(64)),  # person: the keyed hash of the 工号 as well, when there is one
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("department", sa.String(128), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),  # "" for a unit
    sa.Column("event_date", sa.String(10), nullable=False),  # ISO; "" for a unit
    sa.Column("standards", sa.String(256), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("cash_fen", sa.BigInteger, nullable=False),
    sa.Column("org", sa.String(128), nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="active"),
    sa.Column("void_reason", sa.String(256)),
    sa.Column("voided_at", sa.String(32)),
    sa.Column("voided_by", sa.String(64)),
)
sa.Index("one_active_line", lines.c.campaign, lines.c.kind, lines.c.subject, lines.c.event, lines.c.event_date,
         unique=True, sqlite_where=ACTIVE_SQL, postgresql_where=ACTIVE_SQL)

# Columns version 2 added to version 1's tables: (table, column).
ADDED_COLUMNS = ((runs, "operator"), (runs, "version"), (records, "voided_by"), (records, "household_code"),
                 (records, "cash_fen"))
NEW_TABLES = (persons, log, objections, verdicts, versions, version_lines, batches, batch_lines)


def migrate_from_2(conn: sa.Connection) -> int:
    """Version 2 → 3 in place, in the caller's transaction: the ``lines`` table.  No person is carried over."""
    metadata.create_all(conn, tables=[lines])
    conn.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(SCHEMA_VERSION)))
    return 0


def migrate_from_1(conn: sa.Connection) -> int:
    """Version 1 → 3 in place, in the caller's transaction: the added columns, the new tables, and
    each recorded household's head as an aided person (version 1 knew no members).  How many
    persons were carried over."""
    for table, name in ADDED_COLUMNS:
        column = table.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}")
    metadata.create_all(conn, tables=[*NEW_TABLES, lines])
    heads = conn.execute(sa.select(records.c.id, records.c.campaign, records.c.person, records.c.id_masked,
                                   records.c.name, records.c.status)).all()
    if heads:
        conn.execute(persons.insert(), [{"record_id": r.id, "campaign": r.campaign, "person": r.person,
                                         "id_masked": r.id_masked, "name": r.name, "role": "户主",
                                         "status": r.status} for r in heads])
    conn.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(SCHEMA_VERSION)))
    return len(heads)
