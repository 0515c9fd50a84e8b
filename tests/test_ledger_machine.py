"""A state machine of the ledger (issue #19, HAZARDS G4), on SQLite and on a real PostgreSQL.

Hypothesis draws sequences of: a new allocation (households made of a small pool of persons), an
edited one (an amount changed, a person added), recording one by either of two offices (two
``Ledger`` objects on one database), recording the same file again, voiding the household of a
person and recording again, a record or void interrupted at its commit (an exception raised from
SQLAlchemy's public ``commit`` event, as tests/test_interrupt.py does), and two offices recording
at the same moment from two threads.  A plain model says what each call must return and which
persons must then be recorded, with which household and amount.  After every step:

- never two active rows for one person in one campaign (persons, and heads in records);
- the ledger's active persons are exactly the model's, each with the model's household and amount —
  never a lost record, never an extra one — and the ledger's total is the model's households' sum;
- SQLite's ``PRAGMA integrity_check`` says ok; at the end the audit log's chain verifies.

Every sequence works in campaigns of its own, so sequences share one ledger per backend.
``WEIWEN_LEDGER_EXAMPLES`` sets the number of sequences per backend (default: a CI-sized run,
derandomized); with it set, the run is random and prints its figures (docs/hostile.md).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import event

from tests import ledger_server, test_ledger
from tests.conftest import make_id
from weiwen.ledger.schema import persons, records
from weiwen.ledger.store import Ledger, RecordResult

# tests/test_ledger.py's fresh ledger on SQLite and on PostgreSQL, on the server this module shares
# with the other ledger test modules (tests/ledger_server.py).
ledger_url = test_ledger.ledger_url


@pytest.fixture
def postgres_url() -> str:
    return ledger_server.shared_url()


LONG = os.environ.get("WEIWEN_LEDGER_EXAMPLES")
SETTINGS = settings(max_examples=int(LONG) if LONG else 12, stateful_step_count=40 if LONG else 25,
                    deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
POOL = [make_id(seq=f"{k:03d}") for k in range(1, 10)]  # nine persons: households overlap often
ORGS = ("镇民政办", "县总工会")
AMOUNTS = (300, 500, 800)
ALLOCATION_HEADER = "户编码,村(社区),户号,户主姓名,身份证号,银行卡号,享受标准,现金,物资折价,合计,联系电话,核定依据\r\n"
PERSONS_HEADER = "户编码,身份证号,姓名,身份\r\n"

# A household: the pool indices of its persons (the head first) and its amount in yuan; an allocation:
# households with no person in two of them.
Household = tuple[tuple[int, ...], int]
Allocation = tuple[Household, ...]


@st.composite
def allocations(draw: st.DrawFn) -> Allocation:
    order = draw(st.permutations(range(len(POOL))))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    out, at = [], 0
    for size in sizes:
        if at >= len(order):
            break
        out.append((tuple(order[at:at + size]), draw(st.sampled_from(AMOUNTS))))
        at += size
    return tuple(out)


def write_files(folder: Path, allocation: Allocation) -> Path:
    """allocation.csv and persons.csv of ``allocation``, as weiwen allocate writes them; the same
    allocation gives the same bytes (so the same run key)."""
    lines, people = [], []
    for no, (who, yuan) in enumerate(allocation, start=1):
        code, head = f"no:张庄村:{no}", who[0]
        lines.append(f"{code},张庄村,{no},人{head},{POOL[head]},,dibao,{yuan}.00,0.00,{yuan}.00,,享受“低保”\r\n")
        people.extend(f"{code},{POOL[p]},人{p},{'户主' if p == head else '成员'}\r\n" for p in who)
    data = ("\ufeff" + ALLOCATION_HEADER + "".join(lines)).encode()
    members = ("\ufeff" + PERSONS_HEADER + "".join(people)).encode()
    where = folder / hashlib.sha256(data + b"\0" + members).hexdigest()[:16]
    if not where.is_dir():
        where.mkdir(parents=True)
        (where / "persons.csv").write_bytes(members)
        (where / "allocation.csv").write_bytes(data)
    return where / "allocation.csv"


def run_key(allocation: Allocation, campaign: str) -> tuple[object, ...]:
    """What makes a run the same run: allocation.csv (heads and amounts; members are in persons.csv) and the campaign."""
    return tuple((who[0], yuan) for who, yuan in allocation), campaign


@dataclass
class Model:
    """What the ledger must hold: the runs recorded (their households by line) and every active person."""

    runs: dict[tuple[object, ...], dict[int, int]] = field(default_factory=dict)  # run -> line -> household
    active: dict[tuple[str, int], tuple[int, int, int]] = field(default_factory=dict)  # -> (household, head, yuan)
    households: int = 0

    def copy(self) -> Model:
        return Model({k: dict(v) for k, v in self.runs.items()}, dict(self.active), self.households)

    def record(self, allocation: Allocation, campaign: str) -> tuple[int, int, bool]:
        """(new households, conflicts, already recorded).  The same run again adds the members its
        persons.csv now names to its households still active (a member recorded elsewhere is a conflict)."""
        key = run_key(allocation, campaign)
        conflicts = 0
        if key in self.runs:
            alive = {v[0] for v in self.active.values()}
            for line, (who, yuan) in enumerate(allocation, start=1):
                household = self.runs[key].get(line)
                if household not in alive:
                    continue
                for p in who[1:]:
                    held = self.active.get((campaign, p))
                    if held is None:
                        self.active[(campaign, p)] = (household, who[0], yuan)
                    elif held[0] != household:
                        conflicts += 1
            return 0, conflicts, True
        lines = self.runs[key] = {}
        new = 0
        for line, (who, yuan) in enumerate(allocation, start=1):
            if any((campaign, p) in self.active for p in who):
                conflicts += 1
                continue
            self.households += 1
            lines[line] = self.households
            self.active.update({(campaign, p): (self.households, who[0], yuan) for p in who})
            new += 1
        return new, conflicts, False

    def void(self, person: int, campaign: str) -> int:
        held = self.active.get((campaign, person))
        if held is None:
            return 0
        for key in [k for k, v in self.active.items() if v[0] == held[0]]:
            del self.active[key]
        return 1


def said(result: RecordResult) -> tuple[int, int, bool]:
    return result.new, len(result.conflicts), result.already_recorded


class Crash(Exception):
    """The interruption injected at a commit."""


FIGURES: Counter[str] = Counter()  # what the long run did, for docs/hostile.md


def machine(url: str, folder: Path) -> type[RuleBasedStateMachine]:
    offices = (Ledger.open(url), Ledger.open(url))
    hashes = {offices[0].person_hash(i): k for k, i in enumerate(POOL)}
    sqlite = url.startswith("sqlite")
    serial = iter(range(10**9))

    class LedgerMachine(RuleBasedStateMachine):
        files = Bundle("files")

        def __init__(self) -> None:
            super().__init__()
            n = next(serial)
            self.campaigns = (f"m{n}-a", f"m{n}-b")
            self.model = Model()
            FIGURES["sequences"] += 1

        @rule(target=files, allocation=allocations())
        def new_file(self, allocation: Allocation) -> Allocation:
            return allocation

        @rule(target=files, base=files, household=st.integers(0, 3), yuan=st.sampled_from(AMOUNTS),
              how=st.sampled_from(("amount", "member", "household")))
        def edited_file(self, base: Allocation, household: int, yuan: int, how: str) -> Allocation:
            """The allocation with one household's amount changed, or a person of the pool added to a
            household (persons.csv changes, allocation.csv not) or as a household of their own."""
            k = household % len(base)
            who, was = base[k]
            free = [p for p in range(len(POOL)) if all(p not in h for h, _ in base)]
            if how == "household" and free:
                return (*base, ((free[0],), yuan))
            changed = (who + (free[0],), was) if how == "member" and free else (who, yuan)
            return (*base[:k], changed, *base[k + 1:])

        @rule(allocation=files, office=st.integers(0, 1), c=st.integers(0, 1), crash=st.booleans())
        def record(self, allocation: Allocation, office: int, c: int, crash: bool) -> None:
            """Record a file (again, if it was recorded before); or be interrupted doing it."""
            campaign = self.campaigns[c]
            if crash:
                self.interrupted(office, lambda ledger: ledger.record(write_files(folder, allocation), ORGS[office],
                                                                      campaign))
                return
            result = offices[office].record(write_files(folder, allocation), ORGS[office], campaign)
            expected = self.model.record(allocation, campaign)
            assert said(result) == expected, (said(result), expected)
            FIGURES["already recorded" if expected[2] else "recorded"] += 1
            FIGURES["conflicts"] += expected[1]

        @rule(person=st.integers(0, len(POOL) - 1), office=st.integers(0, 1), c=st.integers(0, 1),
              crash=st.booleans())
        def void(self, person: int, office: int, c: int, crash: bool) -> None:
            """Void the household of a person (or find none); or be interrupted doing it."""
            campaign = self.campaigns[c]
            if crash:
                self.interrupted(office, lambda ledger: ledger.void(POOL[person], campaign, "中断"))
                return
            n = offices[office].void(POOL[person], campaign, "状态机测试作废")
            assert n == self.model.void(person, campaign)
            FIGURES["void calls"] += 1
            FIGURES["voided"] += n

        def interrupted(self, office: int, write: Callable[[Ledger], object]) -> None:
            """A write interrupted as its transaction commits: nothing of it is kept (the invariants check)."""
            ledger = offices[office]

            def crash(conn: sa.Connection) -> None:
                raise Crash

            event.listen(ledger.engine, "commit", crash)
            try:
                with pytest.raises(Crash):
                    write(ledger)
            finally:
                event.remove(ledger.engine, "commit", crash)
            FIGURES["crashed"] += 1

        @rule(a=files, b=files, c=st.integers(0, 1), d=st.integers(0, 1))
        def two_offices_at_once(self, a: Allocation, b: Allocation, c: int, d: int) -> None:
            """Both offices record at the same moment (two threads): the result is one of the two orders."""
            jobs = ((a, self.campaigns[c]), (b, self.campaigns[d]))
            files = [write_files(folder, a), write_files(folder, b)]
            got: list[object] = [None, None]
            start = threading.Barrier(2)

            def run(k: int) -> None:
                start.wait()
                try:
                    got[k] = said(offices[k].record(files[k], ORGS[k], jobs[k][1]))
                except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
                    got[k] = exc

            threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            candidates = []
            for order in ((0, 1), (1, 0)):
                model = self.model.copy()
                expected: list[object] = [None, None]
                for k in order:
                    expected[k] = model.record(*jobs[k])
                if expected == got and self.ledger_state() == self.model_state(model):
                    candidates.append(model)
            assert candidates, (got, "neither order gives what the offices got")
            self.model = candidates[0]
            FIGURES["at once"] += 1

        def model_state(self, model: Model) -> set[tuple[str, int, int, int]]:
            return {(c, p, head, yuan * 100) for (c, p), (_, head, yuan) in model.active.items()}

        def ledger_state(self) -> set[tuple[str, int, int, int]]:
            """The active persons of this sequence's campaigns: (campaign, person, head, amount in fen)."""
            q = (sa.select(persons.c.campaign, persons.c.person, records.c.person.label("head"), records.c.amount_fen)
                 .select_from(persons.join(records))
                 .where(persons.c.status == "active", records.c.status == "active",
                        persons.c.campaign.in_(self.campaigns)))
            with offices[0].engine.connect() as conn:
                return {(r.campaign, hashes[r.person], hashes[r.head], int(r.amount_fen)) for r in conn.execute(q)}

        @invariant()
        def never_twice_never_lost(self) -> None:
            with offices[1].engine.connect() as conn:
                for table in (persons, records):
                    twice = conn.execute(sa.select(table.c.campaign, table.c.person)
                                         .where(table.c.status == "active")
                                         .group_by(table.c.campaign, table.c.person)
                                         .having(sa.func.count() > 1)).all()
                    assert twice == [], f"{table.name}: persons with two active rows"
                orphans = conn.execute(sa.select(sa.func.count()).select_from(persons.join(records)).where(
                    persons.c.status == "active", records.c.status != "active")).scalar()
                assert orphans == 0, "an active person of a void household"
                if sqlite:
                    assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert self.ledger_state() == self.model_state(self.model)
            with offices[0].engine.connect() as conn:  # and the ledger's total is the households' sum, to the fen
                total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(records.c.amount_fen), 0)).where(
                    records.c.status == "active", records.c.campaign.in_(self.campaigns))).scalar()
            households = {(c, household): yuan for (c, _), (household, _, yuan) in self.model.active.items()}
            assert total == 100 * sum(households.values())

    return LedgerMachine


def test_the_ledger_state_machine(ledger_url: str, tmp_path: Path) -> None:
    Ledger.create(ledger_url)
    FIGURES.clear()
    began = time.perf_counter()
    run_state_machine_as_test(machine(ledger_url, tmp_path / "files"), settings=SETTINGS)
    n, broken = Ledger.open(ledger_url).verify()
    assert broken == [] and n > 1  # every write of every sequence in the audit log's one chain
    for rule_ran in ("recorded", "already recorded", "void calls", "crashed", "at once"):
        assert FIGURES[rule_ran], (rule_ran, dict(FIGURES))  # every kind of step was taken
    if LONG:
        print(f"\n{ledger_url.split(':')[0]}: {dict(FIGURES)}, {time.perf_counter() - began:.0f} s")
