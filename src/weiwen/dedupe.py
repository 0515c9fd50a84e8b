"""Find people listed twice (pure: works on the validated roster frame).

Exact groups come from vectorised group-bys; suspected groups use blocking — records are
compared only within small blocks that share a key — never all pairs:

- exact: one resident ID on two or more rows (15- and 18-digit forms are one ID after
  normalisation), in one household, two households or two villages; one household (by its
  head's ID) with members listed in two villages;
- suspected: the same name and birth date with different IDs; IDs one character or one
  transposition apart under the same name (typing errors, usually one of them invalid);
  the same name — compared by pinyin, so 张偉 and 张伟 meet — with the same phone or address.

Suspected groups carry a reason and a score and are never merged automatically.  Persons
already on a ledger, or on another department's hashed list, form "ledger" groups.  Two
different people who merely share a common name are not grouped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA

from weiwen.core.ids import mask_id

KIND_ZH = {"exact": "确定重复", "suspected": "疑似重复", "ledger": "已慰问", "decided": "已认定为不同的人"}
BLOCK_LIMIT = 2000  # a larger name block is split by birth year before IDs are compared


@dataclass(frozen=True)
class Record:
    file: str
    sheet: str
    row: int
    name: str
    id_masked: str
    village: str


@dataclass(frozen=True)
class Group:
    kind: str  # exact / suspected
    reason: str
    score: float
    records: tuple[Record, ...]

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "reason": self.reason, "score": self.score,
                "records": [r.__dict__ for r in self.records]}


def find_duplicates(frame: pd.DataFrame, decided: Mapping[frozenset[str], tuple[str, str]] | None = None
                    ) -> list[Group]:
    """``decided``: the clerks' verdicts on pairs of IDs (pair -> ("same" | "different", in words)).
    A suspected group every pair of which was found to be two people becomes a "decided" group (not
    a duplicate); one with a pair found to be one person becomes exact."""
    from pypinyin import lazy_pinyin  # 0.3 s to import: only check-duplicates needs it, not every command

    if not len(frame):
        return []
    f = frame.reset_index(drop=True)
    ids = f["id_number"].astype(object).where(f["id_number"].notna(), None)
    texts = f["id_text"].astype(object).where(f["id_text"].notna(), None)
    any_id = [i if i is not None else t for i, t in zip(ids.tolist(), texts.tolist(), strict=True)]
    groups: list[Group] = []
    seen_pairs: set[frozenset[int]] = set()

    def add(kind: str, reason: str, score: float, members: list[int]) -> None:
        key = frozenset(members)
        if len(key) < 2 or key in seen_pairs:
            return
        seen_pairs.add(key)
        if kind == "suspected" and decided:
            real = sorted({ids.iat[i] for i in members if ids.iat[i] is not None})
            pairs = [frozenset(p) for p in itertools.combinations(real, 2)]
            verdicts = [decided[p] for p in pairs if p in decided]
            if pairs and any(v == "same" for v, _ in verdicts):
                kind, reason = "exact", "；".join(t for v, t in verdicts if v == "same")
            elif pairs and len(verdicts) == len(pairs) and len(real) == len(members):
                kind, reason = "decided", "；".join(t for _, t in verdicts)
        groups.append(Group(kind, reason, score, tuple(_record(f, i, any_id[i]) for i in sorted(members))))

    # Exact: the same ID on several rows.
    valid = ids.notna().to_numpy(dtype=bool)
    dup = f.loc[valid & ids.duplicated(keep=False).to_numpy(dtype=bool)]
    for _id, g in dup.groupby("id_number", sort=True):
        where = ("，分属不同的村(社区)" if g["village"].nunique() > 1
                 else "，分属不同的户" if g["household"].nunique() > 1 else "")
        add("exact", f"同一身份证号出现在多行{where}", 1.0, g.index.tolist())

    # Exact: one household (by its head's ID) listed in two villages.
    if "head_id" in f:
        linked = f.loc[f["head_id"].notna().to_numpy(dtype=bool)]
        spread = linked.groupby("head_id")["village"].nunique()
        for head_id in spread[spread > 1].index:
            add("exact", "同一户主身份证号的家庭成员分属两个村(社区)", 1.0,
                linked.index[linked["head_id"] == head_id].tolist())

    names = f["name"].astype(str)
    birth = f["birth_date"].astype("datetime64[ns]")
    # Suspected: same name and birth date, different IDs.
    known = (names != "") & birth.notna()
    sub = f.loc[known.to_numpy(dtype=bool)].assign(_b=birth[known])
    sub = sub[sub.duplicated(["name", "_b"], keep=False)]  # only the blocks with two or more rows
    for (_n, _b), g in sub.groupby(["name", "_b"], sort=True):
        if len(g) > 1 and len({any_id[i] for i in g.index}) > 1:
            add("suspected", "姓名和出生日期相同，身份证号不同", 0.9, g.index.tolist())

    # Suspected: IDs one character or one transposition apart, same name.
    name_list = names.tolist()
    by_name: dict[str, list[int]] = {}
    for i, (n, x) in enumerate(zip(name_list, any_id, strict=True)):
        if n and x:
            by_name.setdefault(n, []).append(i)
    for members in by_name.values():
        if len(members) < 2:
            continue
        blocks = [members] if len(members) <= BLOCK_LIMIT else _split_by_year(members, any_id)
        for block in blocks:
            for a_pos, a in enumerate(block):
                for b in block[a_pos + 1:]:
                    x, y = any_id[a], any_id[b]
                    if x != y and len(x) == len(y) and OSA.distance(x, y) == 1:  # type: ignore[arg-type]
                        add("suspected", "姓名相同，身份证号只差一位或两位颠倒（疑似录入错误）", 0.8, [a, b])

    # Suspected: same name by pinyin (traditional or simplified) and the same phone or address.
    codes, uniques = pd.factorize(names)
    sounds = np.array(["".join(lazy_pinyin(n)) if n else "" for n in uniques], dtype=object)
    spoken = pd.Series(sounds[codes] if len(uniques) else [], index=f.index, dtype=object)
    for column, what in (("phone", "联系电话"), ("address", "家庭住址")):
        if column not in f:
            continue
        value = f[column].astype(str)
        ok = (spoken != "") & (value != "")
        block = pd.DataFrame({"p": spoken[ok], "v": value[ok]})
        block = block[block.duplicated(["p", "v"], keep=False)]
        for _k, g in block.groupby(["p", "v"], sort=True):
            if len(g) > 1 and len({any_id[i] for i in g.index}) > 1:
                add("suspected", f"姓名读音相同且{what}相同", 0.7, g.index.tolist())
    order = {"exact": 0, "suspected": 1, "decided": 2}
    groups.sort(key=lambda g: (order[g.kind], -g.score, g.records[0].file, g.records[0].row))
    return groups


def ledger_groups(frame: pd.DataFrame, found: dict[str, list[str]]) -> list[Group]:
    """One group per roster person already on record elsewhere: ``found`` maps an ID to the entries."""
    if not found or not len(frame):
        return []
    f = frame.reset_index(drop=True)
    ids = f["id_number"].astype(object).where(f["id_number"].notna(), None).tolist()
    groups = []
    for i, id_number in enumerate(ids):
        if id_number in found:
            for entry in found[id_number]:
                groups.append(Group("ledger", entry, 1.0, (_record(f, i, id_number),)))
    return groups


def _split_by_year(members: list[int], ids: list[str | None]) -> list[list[int]]:
    by_year: dict[str, list[int]] = {}
    for i in members:
        by_year.setdefault((ids[i] or "")[6:10], []).append(i)
    return list(by_year.values())


def _record(f: pd.DataFrame, i: int, id_text: str | None) -> Record:
    return Record(file=str(f["file"].iat[i]), sheet=str(f["sheet"].iat[i]), row=int(f["row"].iat[i]),
                  name=str(f["name"].iat[i]), id_masked=mask_id(id_text), village=str(f["village"].iat[i]))
