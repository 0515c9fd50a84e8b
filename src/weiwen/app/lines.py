"""The ledger's part in deciding a unit list or an event roster: what it holds already, and the
events of earlier runs that the frequency limits count (:mod:`weiwen.ledger.lines`)."""

from __future__ import annotations

from pathlib import Path

from weiwen.core.output_set import settle
from weiwen.engine.limits import Event, Member, member_keys
from weiwen.ledger.lines import LineKey, LinesRecorded, line_key, record_lines, recorded_lines
from weiwen.ledger.store import Ledger, RecordResult
from weiwen.model.recipients import RecipientKind
from weiwen.roster.intake import Intake
from weiwen.rules import LoadedRules


def ledger_lines(intake: Intake, loaded: LoadedRules, ledger_url: str) -> tuple[dict[int, str], list[Event]]:
    """Lines of these rosters the ledger holds already (by household number, with what it says), and
    the same members' events recorded in this campaign (for the limits)."""
    ledger = Ledger.open(ledger_url)
    frame = intake.frame
    if not len(frame):
        return {}, []
    campaign = loaded.rules.campaign.code
    kind = intake.kind.value
    keys: dict[int, LineKey] = {}
    members: dict[str, Member] = {}
    if intake.kind is RecipientKind.UNIT:
        for h, dept, name in zip(frame["household"], frame["village"], frame["name"], strict=True):
            keys[int(h)] = line_key(ledger, kind, str(dept), str(name), "", "", "", "")
    else:
        assert intake.events is not None
        facts = intake.events.set_index("household").loc[frame["household"].to_numpy()]
        ids = [i if isinstance(i, str) else None for i in frame["id_number"]]
        who = member_keys(ids, facts["staff_no"].tolist())
        for h, m, e, d in zip(frame["household"], who, facts["event"], facts["event_date"], strict=True):
            day = "" if d is None or str(d) == "NaT" else str(d)[:10]
            key = line_key(ledger, kind, "", "", m.id_number, m.staff_no, str(e), day)
            keys[int(h)] = key
            members[key.subject] = m
    found = recorded_lines(ledger, campaign, {k.subject for k in keys.values()})
    said = {x.key: x.said for x in found}
    recorded = {h: said[k] for h, k in keys.items() if k in said}
    # Every recorded event of these members counts for the limits, those listed again too (they are
    # left out as recorded, so they are not counted twice).
    earlier = [Event(members[x.key.subject], x.key.event, x.day) for x in found
               if x.key.kind == "person" and x.key.subject in members]
    return recorded, earlier


def record_allocation(file: Path, org: str, campaign: str, ledger_url: str | None, operator: str | None
                      ) -> RecordResult | LinesRecorded:
    """``weiwen ledger record``: an allocation of households (allocation.csv with persons.csv), or of
    units or events (lines.csv beside it: what is recorded then), into the ledger."""
    folder = file if file.is_dir() else file.parent
    ledger = Ledger.open(ledger_url, operator)
    settle(folder)  # an allocate killed while switching its files in: finish the switch first
    if (folder / "lines.csv").is_file():
        return record_lines(ledger, folder / "lines.csv", org, campaign, operator)
    return ledger.record(file, org, campaign, operator)
