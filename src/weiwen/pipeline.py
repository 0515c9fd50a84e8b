"""Rosters to decision in one call: what allocate, budget, explain and run all start with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from weiwen.allocation import Decision, decide
from weiwen.intake import Intake, load_rosters
from weiwen.rules import LoadedRules
from weiwen.vocab import Vocabulary


def load_and_decide(paths: list[Path], loaded: LoadedRules, vocab: Vocabulary, *, sheet: str | None = None,
                    ledger_url: str | None = None, progress: Callable[[str], None] | None = None,
                    ) -> tuple[Intake, Decision | None]:
    """Validate the rosters (ages at the campaign's reference date) and decide every household.

    The decision is ``None`` when a roster could not be read at all.  With ``ledger_url``,
    households already aided (this campaign, or within the rules' look-back) are left out.
    """
    c = loaded.rules.campaign
    intake = load_rosters(paths, sheet=sheet, vocab=vocab, today=c.reference_date, progress=progress)
    if intake.unreadable:
        return intake, None
    aided: dict[str, str] = {}
    if ledger_url is not None:
        from weiwen.ledger import Ledger, already_aided  # SQLAlchemy: 0.2 s to import, only with a ledger

        ids = intake.frame["id_number"].dropna().tolist() if len(intake.frame) else []
        aided = already_aided(Ledger.open(ledger_url), ids, c.code, c.reference_date,
                              loaded.rules.ledger.lookback_months)
    return intake, decide(intake, loaded, vocab, aided)
