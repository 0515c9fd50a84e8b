"""Build roster frames and rules as plain objects, for the pure engine tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from tests.conftest import make_id
from weiwen.engine.amounts import Allocation, allocate
from weiwen.engine.facts import build_population
from weiwen.rules.schema import Rules
from weiwen.model.vocab import load_vocabulary

REF = date(2027, 1, 20)
VOCAB = load_vocabulary()


def frame(people: list[dict[str, Any]]) -> pd.DataFrame:
    """Each person: hh (household key), and optionally categories, birth, head, size, grade, village, extra:*."""
    rows = []
    for i, p in enumerate(people):
        birth = p.get("birth", "1960-05-05")
        rows.append({
            "file": "t.xlsx", "sheet": "花名册", "row": i + 2, "village": p.get("village", "张庄村"), "township": "",
            "household": f"t|花名册|{p['hh']}", "household_no": p["hh"], "head_name": "",
            "head_id": None, "name": p.get("name", f"人{i}"),
            "id_number": make_id(birth=birth.replace("-", ""), seq=f"{i % 1000:03d}"),
            "sex": "男", "birth_date": np.datetime64(birth, "D"), "relation": "户主" if p.get("head", True) else "子女",
            "is_head": p.get("head", True), "categories": p.get("categories", ""),
            "household_size": p.get("size"), "phone": "", "bank_card": "", "bank_name": "", "disability_grade":
            p.get("grade"), "address": "", "remark": "", "valid": True,
            **{k: v for k, v in p.items() if k.startswith("extra:")},
        })
    df = pd.DataFrame(rows)
    df["household_size"] = pd.array(df["household_size"], dtype="Int64")
    df["disability_grade"] = pd.array(df["disability_grade"], dtype="Int64")
    return df


def rules(standards: list[dict[str, Any]], **extra: Any) -> Rules:
    doc = {"campaign": {"name": "测试", "code": "t", "reference_date": REF.isoformat()}, "standards": standards, **extra}
    return Rules.model_validate(doc)


def run(people: list[dict[str, Any]], standards: list[dict[str, Any]], **extra: Any) -> Allocation:
    return allocate(build_population(frame(people), VOCAB, REF), rules(standards, **extra))


def yuan_of(alloc: Allocation) -> list[float]:
    """Total per household in yuan, in household order."""
    return [t / 100 for t in alloc.total.tolist()]
