"""The audit sample (抽查): a reproducible stratified draw of households, and reading back the results."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from weiwen.core.errors import WeiwenError
from weiwen.read.workbook import read_roster_file
from weiwen.roster.layout import cell_text
from weiwen.model.payment import PaymentRow
from weiwen.read.allocation_csv import read_allocation_csv

HEADS = ["序号", "村(社区)", "户号", "户主", "身份证号", "联系电话", "发放金额（元）", "核实结果", "实收金额（元）", "备注",
         "核查人", "核查日期"]
HEADER_ROW = 2  # 0-based: title, method line, header  # the sample sheet's columns (sheets/audit_book writes it)

RESULTS = ("已收到", "未收到", "金额不符", "联系不上")


Household = PaymentRow  # one aided household of allocation.csv


def read_allocation(folder: Path) -> list[PaymentRow]:
    """The aided households of ``folder``/allocation.csv (or of that file)."""
    payments = read_allocation_csv(folder, code="sample-input")
    if "phone" not in payments.columns:
        raise WeiwenError(f"{payments.path} 没有“联系电话”列：请用新版 weiwen allocate 重新生成。", code="sample-input")
    return payments.rows


def draw(households: list[Household], rate: float, seed: int) -> list[Household]:
    """Per village: ceil(rate × households), at least one; the same seed gives the same sample."""
    if not 0 < rate <= 1:
        raise WeiwenError("--rate 应在 0 到 1 之间，例如 0.1 表示 10%。", code="sample-rate")
    by_village: dict[str, list[Household]] = defaultdict(list)
    for h in households:
        by_village[h.village].append(h)
    chosen = []
    for village in by_village:  # in the order of the list (the rosters' order), each village drawn on its own
        members = sorted(by_village[village], key=lambda h: h.code)
        k = min(len(members), max(1, math.ceil(rate * len(members))))
        rng = random.Random(f"{seed}:{village}")  # per village, so adding a village changes no other draw
        chosen.extend(sorted(rng.sample(members, k), key=lambda h: h.code))
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


def read_filled(path: Path) -> list[dict[str, object]]:
    """The rows of a sample sheet the callers have filled in, by column header."""
    read = read_roster_file(path, sheet="抽查名单")
    if not read.sheets:
        raise WeiwenError(f"{path} 不是 weiwen sample 生成的抽查名单（{read.problems[0].message if read.problems else ''}）。",
                          code="sample-import")
    rows = read.sheets[0].rows
    if len(rows) <= HEADER_ROW or [cell_text(c) for c in rows[HEADER_ROW][:len(HEADS)]] != HEADS:
        raise WeiwenError(f"{path} 的表头与抽查名单不一致，请不要增删列。", code="sample-import")
    return [{h: (cell_text(v) if isinstance(v, str) else v) for h, v in zip(HEADS, row, strict=False)}
            for row in rows[HEADER_ROW + 1:] if any(c not in (None, "") for c in row)]
