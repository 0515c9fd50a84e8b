"""Write files atomically: a temporary file beside the target, fsync, then ``os.replace``.

One file at a time: a set of files that belong together (allocate's outputs) is switched in as a
whole by :mod:`weiwen.core.output_set`, which also removes the temporary files (:data:`TMP_NAME`)
of writes killed before they finished."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

FILE_MODE = 0o640  # outputs hold personal data: not world-readable
MAX_NAME_BYTES = 200  # file systems allow 255 bytes; the temporary name adds a few
TMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # atomic_path's temporary files: .慰问明细.xlsx.k2j4x9ab.tmp


def fit_name(stem: str, suffix: str, limit: int = MAX_NAME_BYTES) -> str:
    """``stem + suffix``, the stem cut at a character boundary so the name fits in ``limit`` bytes
    (a village name typed with a whole address in it must not make the file impossible to create)."""
    room = max(limit - len(suffix.encode()), 1)
    return stem.encode()[:room].decode("utf-8", "ignore") + suffix


@contextlib.contextmanager
def atomic_path(target: Path, mode: int = FILE_MODE) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=fit_name(f".{target.name}", ".", 220), suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, mode)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path, write: Callable[[Path], None], mode: int = FILE_MODE) -> None:
    with atomic_path(target, mode) as tmp:
        write(tmp)


def write_text_atomic(target: Path, text: str, mode: int = FILE_MODE) -> None:
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"), mode)


def remove_stale_tmp(folders: Iterable[Path], *, before: float) -> None:
    """Remove the temporary files (:data:`TMP_NAME`) that writes killed before they finished left in
    ``folders`` (not their subfolders), those last written before ``before`` (a ``time.time()``):
    a write still going on in another process keeps its file."""
    for folder in folders:
        with contextlib.suppress(OSError):
            for p in folder.iterdir():
                if TMP_NAME.fullmatch(p.name) and p.is_file() and p.stat().st_mtime < before:
                    p.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
