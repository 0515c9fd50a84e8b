"""Where the ledger is and which environment variables configure it.

Kept apart from :mod:`weiwen.ledger.store` so that the command line can name them in its help without
loading the database code (SQLAlchemy takes 0.2 s to import) on every start.
"""

from __future__ import annotations

import os

DEFAULT_URL = "sqlite:///weiwen-ledger.db"
KEY_ENV = "WEIWEN_LEDGER_KEY"
URL_ENV = "WEIWEN_LEDGER"


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(URL_ENV) or DEFAULT_URL
BUSY_SECONDS = 60  # SQLite: how long a run waits for another run's write lock before exit code 3
