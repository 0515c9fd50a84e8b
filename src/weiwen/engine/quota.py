"""Village quotas (名额): choose which qualifying households fill the slots (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from weiwen.engine.amounts import Allocation
from weiwen.rules.schema import Quotas


@dataclass
class Ranking:
    """Each household's place in its village's ranking (from 1; 0 when it is not ranked), its
    village's slots, and the amount (fen) of the last household within them (0 when none is)."""

    rank: np.ndarray
    slots: np.ndarray
    last_admitted: np.ndarray


def ranking(alloc: Allocation, quotas: Quotas, withdrawn: np.ndarray) -> Ranking:
    """Ranking within a village: amount paid (highest first), then the declared position of the
    first standard paid, then roster order.  ``withdrawn`` households (objection upheld) take
    part in the ranking — their slot stays empty — unless ``quotas.refill``."""
    h = alloc.pop.n_households
    candidates = alloc.aided.copy()
    if quotas.refill:
        candidates &= ~withdrawn
    hh = alloc.pop.households
    first_std = np.where(alloc.paid.any(axis=1), alloc.paid.argmax(axis=1), len(alloc.outcomes))
    frame = pd.DataFrame({
        "village": hh["village"].to_numpy(dtype=object), "total": -alloc.total, "std": first_std,
        "file": hh["file"].to_numpy(dtype=object), "row": hh["row"].to_numpy(), "pos": np.arange(h),
    })[candidates]
    frame = frame.sort_values(["village", "total", "std", "file", "row"], kind="stable")
    place = frame.groupby("village", sort=False).cumcount().to_numpy() + 1
    unlimited = np.iinfo(np.int64).max
    limit = frame["village"].map(lambda v: quotas.slots.get(v, unlimited)).to_numpy(dtype=np.int64)
    pos = frame["pos"].to_numpy()
    out = Ranking(rank=np.zeros(h, np.int64), slots=np.full(h, unlimited, np.int64), last_admitted=np.zeros(h, np.int64))
    out.rank[pos] = place
    out.slots[pos] = limit
    at_limit = place == limit  # the last household within its village's slots
    last_of = dict(zip(frame["village"].to_numpy()[at_limit].tolist(), (-frame["total"].to_numpy()[at_limit]).tolist(),
                       strict=True))
    out.last_admitted[pos] = frame["village"].map(lambda v: last_of.get(v, 0)).to_numpy(dtype=np.int64)
    return out


def select(alloc: Allocation, quotas: Quotas, withdrawn: np.ndarray) -> np.ndarray:
    """Households that qualify but fall outside their village's quota (ranked by :func:`ranking`)."""
    r = ranking(alloc, quotas, withdrawn)
    return (r.rank > r.slots) & ~withdrawn
