"""Exit codes and the one exception type that carries a user-facing Chinese message."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes shared by every command (documented in README and docs/cli.md)."""

    OK = 0  # no errors found
    PROBLEMS = 1  # the inputs have errors (details in the report)
    USAGE = 2  # bad options, missing or unreadable input, bad configuration
    LOCKED = 3  # another run holds the lock
    INTERNAL = 4  # a bug in weiwen: the inputs were not changed


class WeiwenError(Exception):
    """An error the user can fix: the message is Chinese and says what to do."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, code: str = "usage", exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if exit_code is not None:
            self.exit_code = exit_code
