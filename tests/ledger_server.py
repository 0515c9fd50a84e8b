"""One throw-away PostgreSQL server shared by every test module that asks for it, started at the
first use and stopped when the test process ends.

pytest keeps a session fixture per module that defines or imports it, so a server started by the
fixture itself would be started once per module (about 7 s each to start and stop).  Here every
``postgres_url`` fixture (tests/test_ledger.py's, imported by the other ledger modules, and the
state machine's) returns ``shared_url()``, and they share one: on a unix socket, trust
authentication, as the user postgres when the tests run as root; without fsync (a test server:
nothing outlives the run).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_STARTED: list[str] = []


def _initdb() -> str | None:
    found = shutil.which("initdb")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True):
        return str(candidate)
    return None


def shared_url() -> str:
    """The address of the shared server (started now if it is not running yet)."""
    if _STARTED:
        return _STARTED[0]
    initdb = _initdb()
    if initdb is None:
        if os.environ.get("WEIWEN_REQUIRE_POSTGRES") == "1":
            pytest.fail("WEIWEN_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries were found")
        pytest.skip("no PostgreSQL server binaries on this machine")
    bindir = Path(initdb).resolve().parent
    base = Path(tempfile.mkdtemp(prefix="weiwen-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                    f"-p {port} -k {base} -c listen_addresses='' -c fsync=off", "start"],
                   check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-W", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", str(base), "-p", str(port), "-U", "postgres",
                    "weiwen"], check=True, capture_output=True)
    _STARTED.append(f"postgresql://postgres@/weiwen?host={base}&port={port}")
    return _STARTED[0]
