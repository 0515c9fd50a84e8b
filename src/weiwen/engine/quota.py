"""Village quotas (名额): choose which qualifying households fill the slots (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from weiwen.engine.allocate import Allocation
from weiwen.rules.schema import Quotas


def select(alloc: Allocation, quotas: Quotas, withdrawn: np.ndarray) -> np.ndarray:
    """Households that qualify but fall outside their village's quota.

    Ranking within a village: amount paid (highest first), then the declared position of the
    first standard paid, then roster order.  ``withdrawn`` households (objection upheld) take
    part in the ranking — their slot stays empty — unless ``quotas.refill``.
    """
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
    rank = frame.groupby("village", sort=False).cumcount().to_numpy()
    limit = frame["village"].map(lambda v: quotas.slots.get(v, np.iinfo(np.int64).max)).to_numpy(dtype=np.int64)
    over = np.zeros(h, dtype=bool)
    over[frame["pos"].to_numpy()[rank >= limit]] = True
    return over & ~withdrawn
