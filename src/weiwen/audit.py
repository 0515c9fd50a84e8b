"""The audit sample (抽查): a reproducible stratified draw of households, and reading back the results."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from weiwen.core.errors import WeiwenError

RESULTS = ("已收到", "未收到", "金额不符", "联系不上")


@dataclass(frozen=True)
class Household:
    key: str
    village: str
    household_no: str
    head: str
    id_number: str
    phone: str
    total: Decimal


def read_allocation(folder: Path) -> list[Household]:
    path = folder / "allocation.csv" if folder.is_dir() else folder
    if not path.is_file():
        raise WeiwenError(f"找不到 {path}：请指定 weiwen allocate 的输出文件夹。", code="sample-input")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    if rows and "联系电话" not in rows[0]:
        raise WeiwenError(f"{path} 没有“联系电话”列：请用新版 weiwen allocate 重新生成。", code="sample-input")
    return [Household(r["户编码"], r["村(社区)"].lstrip("'"), r["户号"].lstrip("'"), r["户主姓名"].lstrip("'"),
                      r["身份证号"], r["联系电话"], Decimal(r["合计"])) for r in rows]


def draw(households: list[Household], rate: float, seed: int) -> list[Household]:
    """Per village: ceil(rate × households), at least one; the same seed gives the same sample."""
    if not 0 < rate <= 1:
        raise WeiwenError("--rate 应在 0 到 1 之间，例如 0.1 表示 10%。", code="sample-rate")
    by_village: dict[str, list[Household]] = defaultdict(list)
    for h in households:
        by_village[h.village].append(h)
    chosen = []
    for village in sorted(by_village):
        members = sorted(by_village[village], key=lambda h: h.key)
        k = min(len(members), max(1, math.ceil(rate * len(members))))
        rng = random.Random(f"{seed}:{village}")  # per village, so adding a village changes no other draw
        chosen.extend(sorted(rng.sample(members, k), key=lambda h: h.key))
    return chosen


@dataclass
class Findings:
    by_village: dict[str, Counter[str]] = field(default_factory=dict)
    discrepancies: list[tuple[str, str, str, str]] = field(default_factory=list)  # village, head, result, detail
    unfilled: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # row, value


def findings(rows: list[dict[str, object]]) -> Findings:
    """Results typed into the 抽查名单 by the callers."""
    out = Findings()
    for n, r in enumerate(rows, start=4):
        village = str(r.get("村(社区)") or "")
        result = str(r.get("核实结果") or "").strip()
        counter = out.by_village.setdefault(village, Counter())
        if not result:
            out.unfilled += 1
            counter["未填写"] += 1
            continue
        if result not in RESULTS:
            out.invalid.append((n, result))
            continue
        counter[result] += 1
        if result == "未收到":
            out.discrepancies.append((village, str(r.get("户主") or ""), result, str(r.get("备注") or "")))
        elif result == "金额不符":
            paid, got = _money(r.get("发放金额（元）")), _money(r.get("实收金额（元）"))
            detail = f"应发 {paid} 元，实收 {got} 元" if paid is not None and got is not None else "实收金额未填"
            out.discrepancies.append((village, str(r.get("户主") or ""), result, detail))
    return out


def _money(v: object) -> Decimal | None:
    try:
        return Decimal(str(v)).quantize(Decimal("0.01")) if v not in (None, "") else None
    except InvalidOperation:
        return None
