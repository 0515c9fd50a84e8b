"""weiwen (慰问): roster validation and relief allocation for festival visit-and-relief campaigns.

The library is the product; the ``weiwen`` command is a thin view over it::

    from weiwen import load_rosters
    intake = load_rosters([Path("花名册.xlsx")])
    intake.frame      # one validated row per person
    intake.problems   # every problem, with file, sheet, row and column
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("weiwen")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["Intake", "Problem", "Severity", "load_rosters"]


def __getattr__(name: str) -> object:
    """The public names, imported when first used: ``weiwen --help`` must not wait for pandas."""
    if name in ("Intake", "load_rosters"):
        from weiwen.roster import intake

        return getattr(intake, name)
    if name in ("Problem", "Severity"):
        from weiwen.core import problems

        return getattr(problems, name)
    raise AttributeError(f"module 'weiwen' has no attribute {name!r}")

__all__ = ["Intake", "Problem", "Severity", "__version__", "load_rosters"]
