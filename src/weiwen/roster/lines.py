"""Unit lists and event rosters: the lists of campaigns whose recipients are not households.

A unit list (慰问单位名单) has one row per unit with its leading department (牵头部门) and no ID
numbers; an event roster (职工慰问登记表) has one row per event of a member (住院, 结婚 …), the
member identified by ID number or 工号.  Both are read into the roster frame
(:data:`weiwen.model.frames.PERSONS`), every row a recipient of its own (``HouseholdLink.ROW``):
the unit's or member's name in ``name``, the department in ``village`` (the column that groups
sheets), the unit's class or the event's type in ``categories``.  So the engine, the budget and
the writers serve them as they serve households.  An event roster's own facts (the event, its
date, the 工号, the clerk's decision on an event beyond the plan's limit) go in the events frame
(:data:`weiwen.model.frames.EVENTS`), joined by ``household``.

The header aliases are in ``data/lines.yaml``; 姓名, 身份证号, 联系电话, 银行卡号, 开户行 and 备注
also take every alias of ``headers.yaml``.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from weiwen.core import problems as P
from weiwen.core.ids import mask_id
from weiwen.core.text import clean, normalize_name
from weiwen.model.frames import EVENTS, PERSONS, check, extra_column_name, persons_frame
from weiwen.model.recipients import HouseholdLink, RecipientKind
from weiwen.model.vocab import Vocabulary
from weiwen.read.workbook import RawSheet, read_roster_file
from weiwen.roster.cells import bank_column, check_id_column, is_blank, parse_date, phone_column
from weiwen.roster.collect import Collector
from weiwen.roster.intake import FileSummary, Intake, SheetSummary
from weiwen.roster.layout import HEADER_SCAN_ROWS, SheetLayout, cell_text
from weiwen.roster.line_fields import NO, REQUIRED, WHAT, YES, LineField, find_line_layout, line_fields


def load_lines(paths: list[Path], kind: RecipientKind, vocab: Vocabulary, today: date, *,
               sheet: str | None = None, event_types: Sequence[str] = ()) -> Intake:
    """Read and check the lists ``paths`` of a campaign whose recipients are ``kind`` (unit or
    person); ``vocab`` holds the campaign's categories (the event types of an event roster);
    ``event_types``: the plan's event types, named when a roster's 事由 is none of them."""
    fields = line_fields(kind, vocab)
    files: list[FileSummary] = []
    problems: list[P.Problem] = []
    frames: list[pd.DataFrame] = []
    events: list[pd.DataFrame] = []
    for path in paths:
        read = read_roster_file(path, sheet=sheet)
        summary = FileSummary(path=read.display, format=read.format.value if read.format else None,
                              readable=read.readable)
        files.append(summary)
        problems.extend(read.problems)
        found = False
        for raw in read.sheets:
            layout = find_line_layout(raw, kind, fields)
            if layout is None:
                continue
            found = True
            frame, facts, found_problems = _build(raw, layout, kind, fields, vocab, today, tuple(event_types))
            frames.append(frame)
            events.append(facts)
            problems.extend(layout.problems + found_problems)
            summary.sheets.append(SheetSummary(name=raw.name))
        if read.readable and not found:
            needs = "、".join(f"“{fields[k].label}”" for k in REQUIRED[kind])
            problems.extend(P.make("list-header-not-found", file=read.display, sheet=raw.name,
                                   scanned=HEADER_SCAN_ROWS, what=WHAT[kind], needs=needs) for raw in read.sheets)
            summary.readable = False
    offsets = np.cumsum([0] + [len(f) for f in frames])
    for k, (f, e) in enumerate(zip(frames, events, strict=True)):  # one number per line, over all files
        f["household"] = np.arange(offsets[k], offsets[k + 1], dtype=np.int64)
        e["household"] = f["household"].to_numpy()
    frame = pd.concat(frames, ignore_index=True) if frames else persons_frame()
    facts = pd.concat(events, ignore_index=True) if events else events_frame([])
    problems.extend(_duplicates(frame, facts, kind))
    bad = {(p.file, p.sheet, p.row) for p in problems if p.severity is P.Severity.ERROR and p.row is not None}
    if bad and len(frame):
        hit = [(f, s, int(r)) in bad for f, s, r in zip(frame["file"], frame["sheet"], frame["row"], strict=True)]
        frame["valid"] = frame["valid"].to_numpy(dtype=bool) & ~np.asarray(hit, dtype=bool)
    _count(files, frame, problems)
    return Intake(files=files, frame=check(PERSONS, frame), problems=problems, kind=kind,
                  events=check(EVENTS, facts) if kind is RecipientKind.PERSON else None)


def _count(files: list[FileSummary], frame: pd.DataFrame, problems: list[P.Problem]) -> None:
    """Each sheet's lines, valid lines, errors and warnings, once every check (duplicates too) is in."""
    for f in files:
        for sh in f.sheets:
            mine = frame[(frame["file"] == f.path) & (frame["sheet"] == sh.name)] if len(frame) else frame
            sh.rows, sh.valid = len(mine), int(mine["valid"].sum()) if len(mine) else 0
            said = [p for p in problems if p.file == f.path and p.sheet == sh.name]
            sh.errors = sum(p.severity is P.Severity.ERROR for p in said)
            sh.warnings = sum(p.severity is P.Severity.WARNING for p in said)


def events_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    data = {
        "household": pd.Series([r["household"] for r in records], dtype="int64"),
        "staff_no": pd.Series([r["staff_no"] for r in records], dtype="string[pyarrow]"),
        "event": pd.Series([r["event"] for r in records], dtype="string[pyarrow]"),
        "event_date": pd.Series(pd.to_datetime(pd.Series([r["event_date"] for r in records], dtype=object)),
                                dtype="datetime64[s]"),
        "approval": pd.Series([r["approval"] for r in records], dtype="string[pyarrow]"),
    }
    return pd.DataFrame(data, index=pd.RangeIndex(len(records)))


def _build(sheet: RawSheet, layout: SheetLayout, kind: RecipientKind, fields: dict[str, LineField],
           vocab: Vocabulary, today: date, events: tuple[str, ...] = ()
           ) -> tuple[pd.DataFrame, pd.DataFrame, list[P.Problem]]:
    out = Collector(sheet, layout)
    cols = layout.columns
    rows: list[int] = []  # 0-based rows holding a line
    footer: list[int] = []
    footer_text: list[str] = []
    markers = tuple(vocab.footer_markers)
    # A cell that reads as a footer by itself: a total (合计 3个单位), or a footer word with its colon
    # (制表人：) — not a unit that merely starts like one (审批服务中心).
    footer_cell = re.compile("^(?:合计|总计|小计|共计)|^(?:" + "|".join(map(re.escape, markers)) + r")\s*[:：]")
    for i in range(layout.header_index + 1, len(sheet.rows)):
        row = sheet.rows[i]
        texts = [clean(cell_text(v)) for v in row]
        if not any(t for j, t in enumerate(texts) if j != cols.get("seq")):
            continue
        # A footer (合计 3个单位, 制表人：…) names no unit and no member: its first cell, or its name cell,
        # starts with a footer word.  Never paid as a unit called “合计”.
        first = next((t for t in texts if t), "")
        name = texts[cols["name"]] if cols["name"] < len(texts) else ""
        if footer_cell.match(first) or footer_cell.match(name) or (not name and any(
                t.startswith(markers) for t in texts if t)):
            footer.append(i)
            footer_text.append(" ".join(t for t in texts if t))
            continue
        rows.append(i)
    if footer:
        out.problems.append(P.make("rows-skipped-footer", file=sheet.file, sheet=sheet.name, row=footer[0] + 1,
                                   rows="、".join(str(r + 1) for r in footer[:10]),
                                   text=" / ".join(footer_text)[:60]))
    excel = [i + 1 for i in rows]

    def values(key: str) -> list[object]:
        j = cols.get(key)
        return [sheet.rows[i][j] if j is not None and j < len(sheet.rows[i]) else None for i in rows]

    def texts(key: str) -> list[str]:
        return [clean(cell_text(v)) for v in values(key)]

    names = [normalize_name(t) for t in texts("name")]
    for r, n in zip(excel, names, strict=True):
        if not n:
            out.add("unit-name-missing" if kind is RecipientKind.UNIT else "name-missing", r, "name")
    departments = texts("department")
    for r, d in zip(excel, departments, strict=True):
        if not d:
            out.add("department-missing", r, "department", what=fields["department"].label)
    n = len(rows)
    ids: list[str | None] = [None] * n
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    male = np.zeros(n, dtype=bool)
    staff = texts("staff_no")
    if "id_number" in cols:
        ids, birth, male, _ = check_id_column(values("id_number"), excel, "id_number", out, today, required=False)
    if kind is RecipientKind.PERSON:
        if "id_number" not in cols and "staff_no" not in cols:
            out.add("member-key-column-missing", layout.header_index + 1, None)
        else:
            for r, i_, s in zip(excel, ids, staff, strict=True):
                if i_ is None and not s:
                    out.add("member-key-missing", r, "id_number" if "id_number" in cols else "staff_no")
    categories, event_dates, approvals = _kind_facts(kind, values, texts, excel, out, vocab, today, events)
    record_rows: list[dict[str, object]] = []
    phones = phone_column(values("phone"), excel, out).to_pylist()
    cards = bank_column(values("bank_card"), excel, out).to_pylist()
    remark, bank_name = texts("remark"), texts("bank_name")
    extras = {h: [clean(cell_text(sheet.rows[i][j])) if j < len(sheet.rows[i]) else "" for i in rows]
              for h, j in layout.extras.items()}
    if "contact" in cols:
        extras[fields["contact"].label] = texts("contact")
    sex = [None if i_ is None else ("男" if m else "女") for i_, m in zip(ids, male.tolist(), strict=True)]
    for k in range(n):
        record: dict[str, object] = {
            "file": sheet.file, "sheet": sheet.name, "row": excel[k], "village": departments[k],
            "household": k, "household_link": HouseholdLink.ROW.value, "household_ref": str(excel[k]),
            "head_name": names[k], "name": names[k], "id_number": ids[k], "head_id": ids[k], "sex": sex[k],
            "birth_date": None if np.isnat(birth[k]) else birth[k], "is_head": True,
            "categories": categories[k], "household_size": 1, "phone": phones[k] or "", "bank_card": cards[k] or "",
            "bank_name": bank_name[k], "remark": remark[k], "valid": True,
        }
        for h, v in extras.items():
            record[extra_column_name(h)] = v[k]
        record_rows.append(record)
    frame = persons_frame(record_rows)
    if out.bad_rows:
        frame["valid"] = ~frame["row"].isin(list(out.bad_rows)).to_numpy(dtype=bool)
    facts = events_frame([{"household": k, "staff_no": staff[k], "event": categories[k],
                           "event_date": event_dates[k], "approval": approvals[k]} for k in range(n)])
    return frame, facts, out.problems


def _kind_facts(kind: RecipientKind, values, texts, excel: list[int], out: Collector,  # type: ignore[no-untyped-def]
                vocab: Vocabulary, today: date, events: tuple[str, ...] = ()) -> tuple[list[str], list[date | None], list[str]]:
    """Categories (a unit's class, an event's type), event dates and the clerk's decisions."""
    n = len(excel)
    dates: list[date | None] = [None] * n
    approvals = [""] * n
    if kind is RecipientKind.UNIT:
        cats = []
        for r, t in zip(excel, texts("categories"), strict=True):
            known = [vocab.category(x) for x in vocab.split_categories(t)] if t else []
            for token, c in zip(vocab.split_categories(t) if t else [], known, strict=True):
                if c is None:
                    sugg = vocab.suggest_categories(token)
                    out.add("category-unknown", r, "categories", token,
                            suggest=f"是不是：{'、'.join(sugg)}？" if sugg else "")
            cats.append("、".join(c for c in known if c))
        return cats, dates, approvals
    cats = []
    for r, t in zip(excel, texts("event"), strict=True):
        c = vocab.category(t) if t else None
        if not t:
            out.add("event-missing", r, "event")
        elif c is None:
            out.add("event-unknown", r, "event", t, suggest=_event_hint(t, events, vocab))
        cats.append(c or "")
    for k, (r, v) in enumerate(zip(excel, values("event_date"), strict=True)):
        if is_blank(v):
            out.add("event-date-missing", r, "event_date")
            continue
        parsed = parse_date(v, True)
        if parsed is None or parsed[1] != "day":
            out.add("event-date-invalid", r, "event_date", clean(cell_text(v))[:20])
        elif parsed[0] > today:
            out.add("event-date-future", r, "event_date", parsed[0].isoformat())
            dates[k] = parsed[0]
        else:
            dates[k] = parsed[0]
    for k, (r, t) in enumerate(zip(excel, texts("approval"), strict=True)):
        yes = APPROVAL_WORDS.get(t, vocab.flag(t) if t else None)
        if t and yes is None:
            out.add("approval-invalid", r, "approval", t)
        approvals[k] = "" if yes is None else (YES if yes else NO)
    return cats, dates, approvals


# What a leader writes in a 审批意见 / 是否同意 column, beside 是 and 否.
APPROVAL_WORDS = {"同意": True, "批准": True, "同意慰问": True, "不同意": False, "不批准": False, "不予慰问": False}


def _event_hint(text: str, events: tuple[str, ...], vocab: Vocabulary) -> str:
    """“是不是：住院？本活动的事由有：住院、结婚……”: the plan's events, never the household categories."""
    if not events:
        sugg = vocab.suggest_categories(text)
        return f"是不是：{'、'.join(sugg)}？" if sugg else ""
    near = difflib.get_close_matches(text, events, n=2, cutoff=0.3) or [e for e in events if e in text or text in e]
    listed = f"本活动的事由有：{'、'.join(events)}。"
    return (f"是不是：{'、'.join(near)}？" if near else "") + listed


def _duplicates(frame: pd.DataFrame, facts: pd.DataFrame, kind: RecipientKind) -> list[P.Problem]:
    """A unit listed twice under one department, or one member's same event on the same day twice:
    paid twice unless caught."""
    groups: dict[tuple[object, ...], list[tuple[str, str, int]]] = defaultdict(list)
    for k, r in enumerate(frame.itertuples(index=False)):
        if not r.name:
            continue
        if kind is RecipientKind.UNIT:
            key: tuple[object, ...] = (r.village, r.name)
        else:
            e = facts.iloc[k]
            who = r.id_number if isinstance(r.id_number, str) else f"工号{e['staff_no']}"
            if who == "工号" or pd.isna(e["event_date"]):
                continue
            key = (who, e["event"], e["event_date"])
        groups[key].append((r.file, r.sheet, int(r.row)))
    problems: list[P.Problem] = []
    for key, places in groups.items():
        if len(places) < 2:
            continue
        for f, s, row in places:
            others = "；".join(f"{of} 工作表“{os_}”第 {orow} 行" for of, os_, orow in places if (of, os_, orow) != (f, s, row))
            if kind is RecipientKind.UNIT:
                problems.append(P.make("unit-duplicate", file=f, sheet=s, row=row, value=str(key[1]), others=others))
            else:
                who = mask_id(key[0]) if not str(key[0]).startswith("工号") else str(key[0])
                problems.append(P.make("event-duplicate", file=f, sheet=s, row=row, who=who, event=str(key[1]),
                                       day=pd.Timestamp(key[2]).date().isoformat(), others=others))
    return problems
