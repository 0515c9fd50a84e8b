"""Build roster frames and rules as plain objects, for the pure engine tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from tests.conftest import make_id
from weiwen.engine.amounts import Allocation, allocate
from weiwen.engine.facts import build_population
from weiwen.rules.schema import Rules
from weiwen.model.frames import persons_frame
from weiwen.model.vocab import load_vocabulary

REF = date(2027, 1, 20)
VOCAB = load_vocabulary()


def frame(people: list[dict[str, Any]]) -> pd.DataFrame:
    """Each person: hh (户号), and optionally categories, birth, head, size, grade, village, extra:*.
    Built by the model's constructor, so the frame is the one the roster reader makes."""
    numbers: dict[tuple[str, str], int] = {}
    records = []
    for i, p in enumerate(people):
        birth = p.get("birth", "1960-05-05")
        village = p.get("village", "张庄村")
        records.append({
            "file": "t.xlsx", "sheet": "花名册", "village": village,
            "household": numbers.setdefault((village, p["hh"]), len(numbers)),
            "household_link": "no", "household_ref": p["hh"], "household_no": p["hh"], "name": p.get("name", f"人{i}"),
            "id_number": make_id(birth=birth.replace("-", ""), seq=f"{i % 1000:03d}"),
            "sex": "男", "birth_date": birth, "relation": "户主" if p.get("head", True) else "子女",
            "is_head": p.get("head", True), "categories": p.get("categories", ""),
            "household_size": p.get("size"), "disability_grade": p.get("grade"),
            **{k: v for k, v in p.items() if k.startswith("extra:")},
        })
    return persons_frame(records)


def rules(standards: list[dict[str, Any]], **extra: Any) -> Rules:
    doc = {"campaign": {"name": "测试", "code": "t", "reference_date": REF.isoformat()}, "standards": standards, **extra}
    return Rules.model_validate(doc)


def run(people: list[dict[str, Any]], standards: list[dict[str, Any]], **extra: Any) -> Allocation:
    return allocate(build_population(frame(people), VOCAB, REF), rules(standards, **extra))


def yuan_of(alloc: Allocation) -> list[float]:
    """Total per household in yuan, in household order."""
    return [t / 100 for t in alloc.total.tolist()]
