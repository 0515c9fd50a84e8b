"""The ledger's part in deciding a unit list or an event roster: what it holds already, and the
events of earlier runs that the frequency limits count (:mod:`weiwen.ledger.lines`)."""

from __future__ import annotations

import json
from pathlib import Path

from weiwen.core.errors import WeiwenError
from weiwen.core.output_set import settle
from weiwen.engine.limits import Event, Member, member_keys
from weiwen.ledger.lines import LineKey, LinesRecorded, line_key, record_lines, recorded_lines, staff_alias
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
    members: dict[str, Member] = {}  # subject -> the roster's member
    same: dict[str, str] = {}  # any identity of a roster member (its subject, its 工号's hash) -> its subject
    if intake.kind is RecipientKind.UNIT:
        for h, dept, name in zip(frame["household"], frame["village"], frame["name"], strict=True):
            keys[int(h)] = line_key(ledger, kind, str(dept), str(name), "", "", "", "")
            same[keys[int(h)].subject] = keys[int(h)].subject
    else:
        assert intake.events is not None
        facts = intake.events.set_index("household").loc[frame["household"].to_numpy()]
        ids = [i if isinstance(i, str) else None for i in frame["id_number"]]
        staff = facts["staff_no"].tolist()
        who = member_keys(ids, staff)
        staff_of = {m.id_number: s for m, s in zip(who, staff, strict=True) if m.id_number and s}
        for h, m, s, e, d in zip(frame["household"], who, staff, facts["event"], facts["event_date"], strict=True):
            day = "" if d is None or str(d) == "NaT" else str(d)[:10]
            key = line_key(ledger, kind, "", "", m.id_number, m.staff_no, str(e), day)
            keys[int(h)] = key
            members[key.subject] = m
            same[key.subject] = key.subject
            alias = staff_alias(ledger, s or staff_of.get(m.id_number, ""))
            if alias is not None:
                same.setdefault(alias, key.subject)
    found = recorded_lines(ledger, campaign, set(same))
    # A recorded line in the roster's terms: the member known then by ID or by 工号 is the roster's member.
    said: dict[LineKey, str] = {}
    earlier: list[Event] = []
    for x in found:
        subject = same.get(x.key.subject) or same.get(x.alias or "")
        if subject is None:
            continue
        key = LineKey(x.key.kind, subject, x.key.event, x.key.event_date)
        said[key] = x.said
        if key.kind == "person" and subject in members:
            # Every recorded event of these members counts for the limits, those listed again too
            # (they are left out as recorded, so they are not counted twice).
            earlier.append(Event(members[subject], x.key.event, x.day))
    recorded = {h: said[k] for h, k in keys.items() if k in said}
    return recorded, earlier


def _campaign_of(folder: Path) -> str | None:
    """The campaign code an allocate output folder was decided under (its summary.json), if it says."""
    try:
        doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    code = doc.get("campaign") if isinstance(doc, dict) else None
    return code if isinstance(code, str) and code else None


def record_allocation(file: Path, org: str, campaign: str, ledger_url: str | None, operator: str | None
                      ) -> RecordResult | LinesRecorded:
    """``weiwen ledger record``: an allocation of households (allocation.csv with persons.csv), or of
    units or events (lines.csv beside it: what is recorded then), into the ledger."""
    folder = file if file.is_dir() else file.parent
    ledger = Ledger.open(ledger_url, operator)
    settle(folder)  # an allocate killed while switching its files in: finish the switch first
    decided = _campaign_of(folder)
    if decided is not None and decided != campaign:  # recorded under another code, it would be paid again
        raise WeiwenError(f"这份结果是按活动代码“{decided}”核定的（见同一文件夹的 summary.json），--campaign 写的是“{campaign}”："
                          f"记在别的代码下，以后核定时台账认不出已经发过，会重复发放。请写 --campaign {decided}。",
                          code="ledger-campaign-mismatch")
    if (folder / "lines.csv").is_file():
        return record_lines(ledger, folder / "lines.csv", org, campaign, operator)
    return ledger.record(file, org, campaign, operator)
