"""Rosters to decision in one call: what allocate, budget, explain and run all start with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from weiwen.app.campaign import (Versioned, inputs_digest, register_version, write_change_list,
                                 write_manifest, write_year_comparison)
from weiwen.budget import BudgetFigures, compare, figures
from weiwen.decision import Decision, decide, roster_facts
from weiwen.dedupe import Group, find_duplicates, ledger_groups
from weiwen.roster.intake import Intake, load_rosters, no_cyclic_gc
from weiwen.roster.lines import load_lines
from weiwen.model.recipients import RecipientKind
from weiwen.rules.schema import Rules
from weiwen.sheets.annotated import write_reports
from weiwen.sheets.budget_book import read_summary, write_budget
from weiwen.sheets.decision_book import second_process, write_outputs
from weiwen.core.ids import mask_id
from weiwen.core.output_set import output_set
from weiwen.core.problems import Problem, Severity
from weiwen.rules import LoadedRules, campaign_vocabulary, with_campaign_categories
from weiwen.rules.lint import check
from weiwen.model.vocab import Vocabulary


def load_and_decide(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary | None = None, *,
                    sheet: str | None = None, ledger_url: str | None = None,
                    progress: Callable[[str], None] | None = None) -> tuple[Intake, Decision | None]:
    """Validate the rosters (ages at the campaign's reference date) and decide every household.

    ``vocab`` defaults to the campaign's vocabulary (:func:`weiwen.rules.campaign_vocabulary`); a
    vocabulary given is extended by the categories the rules declare.  The decision is ``None``
    when a roster could not be read at all.  With ``ledger_url``, households already aided (this
    campaign, or within the rules' look-back) are left out.  Raises
    :class:`~weiwen.rules.lint.RulesRefused` when the rules cannot mean what they say for these rosters.
    """
    vocab = campaign_vocabulary(loaded) if vocab is None else with_campaign_categories(vocab, loaded)
    intake = load_campaign_rosters(paths, loaded, vocab, sheet=sheet, progress=progress)
    if intake.unreadable:
        return intake, None
    if ledger_url is not None and intake.kind is not RecipientKind.HOUSEHOLD:
        from weiwen.app.lines import ledger_lines  # SQLAlchemy: loaded only when a ledger is used

        recorded, earlier = ledger_lines(intake, loaded, ledger_url)
        return intake, decide(intake, loaded, vocab, earlier_events=earlier, recorded=recorded)
    aided: dict[str, str] = {}
    upheld: dict[str, str] = {}
    if ledger_url is not None:
        aided, upheld = ledger_exclusions(intake, loaded, ledger_url)
    return intake, decide(intake, loaded, vocab, aided, upheld)


def load_campaign_rosters(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary, *, sheet: str | None = None,
                          progress: Callable[[str], None] | None = None) -> Intake:
    """The campaign's rosters, read as what its recipients are: village rosters of households (ages
    at the reference date), a unit list, or an event roster (:mod:`weiwen.roster.lines`; event
    dates checked against today)."""
    c = loaded.rules.campaign
    kind = RecipientKind(c.recipients)
    if kind is RecipientKind.HOUSEHOLD:
        return load_rosters(paths, sheet=sheet, vocab=vocab, today=c.reference_date, progress=progress)
    return load_lines(paths, kind, vocab, date.today(), sheet=sheet,
                      event_types=plan_categories(loaded.rules))


def plan_categories(rules: Rules) -> list[str]:
    """The categories a plan names (declared, or in a standard's condition), in order: an event
    roster's 事由 are these."""
    names = list(rules.categories)
    for s in rules.standards:
        for when in (s.when, *(p.when for p in s.parts or () if p.when is not None)):
            names.extend(name for leaf in when.leaves() for name in leaf.category or ())
    return list(dict.fromkeys(names))


def ledger_exclusions(intake: Intake, loaded: LoadedRules, ledger_url: str) -> tuple[dict[str, str], dict[str, str]]:
    """What the ledger says about the rosters' persons: those whose household waits (aided before in
    any role; found to be the same person as someone listed earlier) and those whose household an
    upheld objection removes (ID -> the reason in words)."""
    from weiwen.ledger import objections, verdicts  # SQLAlchemy: 0.2 s to import, only with a ledger
    from weiwen.ledger.store import Ledger, already_aided

    c = loaded.rules.campaign
    ledger = Ledger.open(ledger_url)
    frame = intake.frame
    ids = frame["id_number"].dropna().tolist() if len(frame) else []
    aided = already_aided(ledger, ids, c.code, c.reference_date, loaded.rules.ledger.lookback_months)
    same = {pair: text for pair, (verdict, text) in verdicts.standing(ledger, ids).items() if verdict == "same"}
    if same:
        listed = frame.loc[frame["id_number"].notna(), ["id_number", "household"]]
        first_household = listed.drop_duplicates("id_number").set_index("id_number")["household"]
        for pair, text in sorted(same.items(), key=lambda p: sorted(p[0])):
            a, b = sorted(pair, key=lambda i: int(first_household[i]))
            if int(first_household[a]) != int(first_household[b]):  # the household listed later waits
                aided.setdefault(b, f"与先列出的{mask_id(a)}为同一人（{text}），只核定先列出的一户")
    return aided, objections.upheld(ledger, c.code, ids)


def check_campaign(loaded: LoadedRules, vocab: Vocabulary, paths: list[Path] | None = None, *,
                   sheet: str | None = None, progress: Callable[[str], None] | None = None,
                   ) -> tuple[list[Problem], Intake | None]:
    """``weiwen rules check``: the same findings allocate reports, without writing anything.

    Without rosters: what the rules file alone shows.  With rosters: the check against them and,
    when it finds no error, what the decision shows (unused standards, stated totals …)."""
    if not paths:
        return check(loaded, vocab), None
    intake = load_campaign_rosters(paths, loaded, vocab, sheet=sheet, progress=progress)
    if intake.unreadable:
        return check(loaded, vocab), intake
    findings = check(loaded, vocab, roster_facts(intake))
    if any(f.severity is Severity.ERROR for f in findings):
        return findings, intake
    return decide(intake, loaded, vocab).findings, intake


@dataclass
class Allocated:
    intake: Intake
    decision: Decision | None  # None: a roster could not be read at all
    written: list[Path] = field(default_factory=list)  # empty: nothing written (unreadable, or --strict)
    version: Versioned | None = None  # with a ledger: the list version this folder is


def allocate_campaign(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary | None, output: Path, *,
                      sheet: str | None = None, ledger_url: str | None = None, strict: bool = False,
                      progress: Callable[[str], None] | None = None,
                      writing: Callable[[], None] | None = None, reason: str | None = None,
                      operator: str | None = None, aliases: Path | None = None,
                      compare_with: Path | None = None) -> Allocated:
    """``weiwen allocate``: validate, decide and write every output into ``output``.

    Nothing is written when a roster cannot be read, when no one in the rosters is valid (a
    blank template), or with ``strict`` when a roster has an error.  Large rosters start the writer's second process before they are read (its start-up
    overlaps the reading) and run without Python's cyclic garbage collector (no cycles among the
    millions of cells; scanning them costs seconds).  ``writing`` is called before the writing starts.

    With a ledger the folder is a version of the campaign's list (:mod:`weiwen.app.campaign`): the
    version is registered (``reason`` says why it differs from an approved one), titles carry its
    number, sign sheets wait for approval, a change list against the posted version and
    manifest.json are written.  ``compare_with``: an earlier allocation.csv to compare with, per household.

    All of it is written into a hidden staging folder and switched into ``output`` as one set at
    the end (:func:`weiwen.core.output_set.output_set`): a new writer only has to write into the
    folder it is given.  The files of the previous set the new one lacks are deleted then."""
    with second_process(paths) as helper, no_cyclic_gc():
        intake, decision = load_and_decide(paths, loaded, vocab, sheet=sheet, ledger_url=ledger_url, progress=progress)
        if decision is None or (strict and intake.errors) or not intake.valid_rows:
            return Allocated(intake, decision)  # nothing written: no empty lists to post by mistake
        title = loaded.rules.campaign.name
        version = ledger = current = None
        files: list[dict[str, str]] = []
        if ledger_url is not None and decision.kind is RecipientKind.HOUSEHOLD:  # units, events: no list versions
            digest, files = inputs_digest(paths, loaded.digest, aliases)
            ledger, version, current = register_version(ledger_url, decision, inputs=digest, reason=reason,
                                                        operator=operator)
            title = f"{title}（第{version.number}版）"
        if writing is not None:
            writing()
        # Every writer writes into the staging folder; the set is switched into ``output`` once,
        # at the end, as a whole (weiwen.core.output_set): a kill leaves all old or all new.
        with output_set(output, inputs=paths) as staged:
            folder = staged.folder
            written = write_outputs(decision, folder, title, inputs=paths, helper=helper, sign_sheets=version is None)
            if version is not None:
                book, version.change_counts = write_change_list(ledger, decision, current or [], folder,
                                                                loaded.rules.campaign.name, version.number)
                if book is not None:
                    version.changes_book = staged.final([book])[0]
                    written.append(book)
            if compare_with is not None:
                written.append(write_year_comparison(decision, compare_with, folder, title))
            if version is not None:
                written.append(write_manifest(folder, campaign=loaded.rules.campaign.code,
                                              title=loaded.rules.campaign.name, version=version.number,
                                              digest=version.digest, inputs=files, rules_digest=loaded.digest,
                                              written=written, goods=decision.goods))
        written = staged.final(written)
    return Allocated(intake, decision, written, version)


@dataclass
class Validated:
    intake: Intake
    reports: list[Path]  # annotated copies and 校验报告.json (with a report folder)
    findings: list[Problem]  # the rules checked against the rosters (with rules)

    @property
    def refused(self) -> bool:
        """allocate would refuse these rosters under these rules."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def validate_files(paths: list[Path], vocab: Vocabulary, today: date, *, loaded: LoadedRules | None = None,
                   sheet: str | None = None, jobs: int | None = None, report: Path | None = None,
                   progress: Callable[[str], None] | None = None) -> Validated:
    """``weiwen validate``: every problem of the rosters; annotated copies into ``report``; with
    ``loaded``, the rules checked against the rosters as allocate would check them."""
    if loaded is not None and loaded.rules.campaign.recipients != RecipientKind.HOUSEHOLD:
        intake = load_campaign_rosters(paths, loaded, with_campaign_categories(vocab, loaded), sheet=sheet)
    else:
        intake = load_rosters(paths, sheet=sheet, vocab=vocab, today=today, jobs=jobs, progress=progress)
    written = write_reports(intake, paths, report) if report is not None else []
    found = check(loaded, vocab, roster_facts(intake)) if loaded is not None and not intake.unreadable else []
    return Validated(intake, written, found)


@dataclass
class Budgeted:
    intake: Intake
    decision: Decision | None  # None: a roster could not be read at all
    figures: BudgetFigures | None = None
    written: list[Path] = field(default_factory=list)


def budget_campaign(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary | None, output: Path, *,
                    ceiling: Decimal | None = None, compare_with: Path | None = None, sheet: str | None = None,
                    ledger_url: str | None = None, progress: Callable[[str], None] | None = None,
                    writing: Callable[[], None] | None = None) -> Budgeted:
    """``weiwen budget``: the decision's figures (the same computation as allocate), compared with an
    earlier run's summary.json when asked, written to ``output``/经费预算.xlsx."""
    intake, decision = load_and_decide(paths, loaded, vocab, sheet=sheet, ledger_url=ledger_url, progress=progress)
    if decision is None:
        return Budgeted(intake, None)
    if writing is not None:
        writing()
    b = figures(decision, ceiling)
    if compare_with is not None:
        previous, label = read_summary(compare_with)
        compare(b, previous, label)
    target = output / "经费预算.xlsx"
    write_budget(target, b, loaded.rules.campaign.name)
    return Budgeted(intake, decision, b, [target])


def find_duplicate_persons(paths: list[Path], vocab: Vocabulary, *, sheet: str | None = None,
                           ledger_url: str | None = None, against: Path | None = None) -> tuple[Intake, list[Group]]:
    """``weiwen check-duplicates``: persons listed twice in the rosters; with a ledger, also persons
    aided before (in any role) and the clerks' standing verdicts applied; with ``against``, persons
    on another office's hashed list."""
    intake = load_rosters(paths, sheet=sheet, vocab=vocab)
    decided = {}
    if ledger_url is not None:
        from weiwen.ledger import verdicts
        from weiwen.ledger.store import Ledger

        ids = intake.frame["id_number"].dropna().tolist() if len(intake.frame) else []
        decided = verdicts.standing(Ledger.open(ledger_url), ids)
    groups = find_duplicates(intake.frame, decided)
    if ledger_url is not None or against is not None:
        from weiwen.ledger.store import already_recorded  # SQLAlchemy: loaded only when a ledger is compared

        groups += ledger_groups(intake.frame, already_recorded(intake.frame, ledger_url, against))
    return intake, groups
