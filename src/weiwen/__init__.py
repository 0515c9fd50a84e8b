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

from weiwen.roster.intake import Intake, load_rosters  # noqa: E402
from weiwen.core.problems import Problem, Severity  # noqa: E402

__all__ = ["Intake", "Problem", "Severity", "__version__", "load_rosters"]
