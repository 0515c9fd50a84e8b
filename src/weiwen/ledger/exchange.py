"""What a ledger gives other offices and reads back from them (``weiwen ledger export``).

The hashed list (the default) carries each aided person's keyed hash, the campaign, the village, the
amount and the key's fingerprint: another office holding the same key finds its duplicates without
seeing any ID number, and an office holding another key is told so — the hashes of two keys never
match, so comparing them would silently find nothing.  The full list, for the office's own files,
carries the name and the masked ID instead of the hash.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from weiwen.core.atomic import write_text_atomic
from weiwen.core.errors import WeiwenError

HASH_HEADER = "散列"
FINGERPRINT_HEADER = "密钥指纹"
HASHED_COLUMNS = (HASH_HEADER, "活动", "村(社区)", "该户金额", "身份", FINGERPRINT_HEADER)
FULL_COLUMNS = ("活动", "单位", "村(社区)", "姓名", "身份证号（打码）", "身份", "该户金额")


def write_export(path: Path, records: Iterable[Mapping[str, object]], *, hashed: bool, fingerprint: str) -> int:
    """Write the active persons ``records`` (rows of the ledger) as the hashed or the full list; how many."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HASHED_COLUMNS if hashed else FULL_COLUMNS)
    n = 0
    for r in records:
        amount = f"{int(str(r['amount_fen'])) / 100:.2f}"
        w.writerow([r["person"], r["campaign"], r["village"], amount, r["role"], fingerprint] if hashed else
                   [r["campaign"], r["org"], r["village"], r["name"], r["id_masked"], r["role"], amount])
        n += 1
    write_text_atomic(path, "\ufeff" + buf.getvalue())
    return n


def hashed_list(path: Path, fingerprint: str) -> set[str]:
    """The hashes of a list made by ``weiwen ledger export`` (hashed) with the key whose fingerprint
    is ``fingerprint``; a list made with another key (or without a fingerprint) is refused."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise WeiwenError(f"无法读取比对名单 {path}。", code="against-unreadable") from None
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    if HASH_HEADER not in (reader.fieldnames or []):
        raise WeiwenError(f"{path} 不是 weiwen ledger export --hashed 导出的名单（缺少“散列”列）。", code="against-invalid")
    theirs = {(r.get(FINGERPRINT_HEADER) or "").strip() for r in rows}
    if FINGERPRINT_HEADER not in (reader.fieldnames or []) or "" in theirs:
        raise WeiwenError(f"{path} 没有“密钥指纹”列（由旧版 weiwen 导出），无法确认双方用的是同一台账密钥；"
                          "请对方用新版 weiwen ledger export --hashed 重新导出。", code="against-no-fingerprint")
    if theirs - {fingerprint}:
        shown = "、".join(sorted(t or "（空）" for t in theirs))
        raise WeiwenError(f"比对名单 {path.name} 的密钥指纹是 {shown}，本台账的密钥指纹是 {fingerprint}：双方用的不是同一个密钥，"
                          "散列无法比对（比对结果会是“没有重复”，而这不可信）。请向对方索取同一台账密钥后重新导出，"
                          "或改用 weiwen ledger export --full 人工核对。", code="against-key-mismatch")
    return {r[HASH_HEADER].strip() for r in rows if r.get(HASH_HEADER)}
