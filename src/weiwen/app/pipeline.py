"""Rosters to decision in one call: what allocate, budget, explain and run all start with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from weiwen.budget import BudgetFigures, compare, figures
from weiwen.decision import Decision, decide, roster_facts
from weiwen.roster.intake import Intake, load_rosters, no_cyclic_gc
from weiwen.sheets.annotated import write_reports
from weiwen.sheets.budget_book import read_summary, write_budget
from weiwen.sheets.decision_book import second_process, write_outputs
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
    c = loaded.rules.campaign
    intake = load_rosters(paths, sheet=sheet, vocab=vocab, today=c.reference_date, progress=progress)
    if intake.unreadable:
        return intake, None
    aided: dict[str, str] = {}
    if ledger_url is not None:
        from weiwen.ledger.store import Ledger, already_aided  # SQLAlchemy: 0.2 s to import, only with a ledger

        ids = intake.frame["id_number"].dropna().tolist() if len(intake.frame) else []
        aided = already_aided(Ledger.open(ledger_url), ids, c.code, c.reference_date,
                              loaded.rules.ledger.lookback_months)
    return intake, decide(intake, loaded, vocab, aided)


def check_campaign(loaded: LoadedRules, vocab: Vocabulary, paths: list[Path] | None = None, *,
                   sheet: str | None = None, progress: Callable[[str], None] | None = None,
                   ) -> tuple[list[Problem], Intake | None]:
    """``weiwen rules check``: the same findings allocate reports, without writing anything.

    Without rosters: what the rules file alone shows.  With rosters: the check against them and,
    when it finds no error, what the decision shows (unused standards, stated totals …)."""
    if not paths:
        return check(loaded, vocab), None
    intake = load_rosters(paths, sheet=sheet, vocab=vocab, today=loaded.rules.campaign.reference_date,
                          progress=progress)
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


def allocate_campaign(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary | None, output: Path, *,
                      sheet: str | None = None, ledger_url: str | None = None, strict: bool = False,
                      progress: Callable[[str], None] | None = None,
                      writing: Callable[[], None] | None = None) -> Allocated:
    """``weiwen allocate``: validate, decide and write every output into ``output``.

    Nothing is written when a roster cannot be read, or with ``strict`` when a roster has an
    error.  Large rosters start the writer's second process before they are read (its start-up
    overlaps the reading) and run without Python's cyclic garbage collector (no cycles among the
    millions of cells; scanning them costs seconds).  ``writing`` is called before the writing starts."""
    with second_process(paths) as helper, no_cyclic_gc():
        intake, decision = load_and_decide(paths, loaded, vocab, sheet=sheet, ledger_url=ledger_url, progress=progress)
        if decision is None or (strict and intake.errors):
            return Allocated(intake, decision)
        if writing is not None:
            writing()
        written = write_outputs(decision, output, loaded.rules.campaign.name, inputs=paths, helper=helper)
    return Allocated(intake, decision, written)


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
    earlier run's summary.json when asked, written to ``output``/budget.xlsx."""
    intake, decision = load_and_decide(paths, loaded, vocab, sheet=sheet, ledger_url=ledger_url, progress=progress)
    if decision is None:
        return Budgeted(intake, None)
    if writing is not None:
        writing()
    b = figures(decision, ceiling)
    if compare_with is not None:
        previous, label = read_summary(compare_with)
        compare(b, previous, label)
    target = output / "budget.xlsx"
    write_budget(target, b, loaded.rules.campaign.name)
    return Budgeted(intake, decision, b, [target])
