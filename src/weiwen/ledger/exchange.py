"""What a ledger gives other offices and reads back from them (``weiwen ledger export``).

The hashed list (the default) carries each aided person's keyed hash, the campaign, the village and
the amount: another office holding the same key finds its duplicates without seeing any ID number.
The full list, for the office's own files, carries the name and the masked ID instead of the hash.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from weiwen.core.atomic import write_text_atomic
from weiwen.core.errors import WeiwenError

HASH_HEADER = "散列"
HASHED_COLUMNS = (HASH_HEADER, "活动", "村(社区)", "金额")
FULL_COLUMNS = ("活动", "单位", "村(社区)", "姓名", "身份证号（打码）", "金额")


def write_export(path: Path, records: Iterable[Mapping[str, object]], *, hashed: bool) -> int:
    """Write the active ``records`` (rows of the ledger) as the hashed or the full list; how many."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HASHED_COLUMNS if hashed else FULL_COLUMNS)
    n = 0
    for r in records:
        amount = f"{int(str(r['amount_fen'])) / 100:.2f}"
        w.writerow([r["person"], r["campaign"], r["village"], amount] if hashed else
                   [r["campaign"], r["org"], r["village"], r["name"], r["id_masked"], amount])
        n += 1
    write_text_atomic(path, "\ufeff" + buf.getvalue())
    return n


def hashed_list(path: Path) -> set[str]:
    """The hashes of a list made by ``weiwen ledger export`` (hashed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise WeiwenError(f"无法读取比对名单 {path}。", code="against-unreadable") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or HASH_HEADER not in rows[0]:
        raise WeiwenError(f"{path} 不是 weiwen ledger export --hashed 导出的名单（缺少“散列”列）。", code="against-invalid")
    return {r[HASH_HEADER].strip() for r in rows if r.get(HASH_HEADER)}
