"""The facts the rules look at, as aligned numpy arrays (pure: no I/O).

A :class:`Population` is built once from the validated roster frame: one entry per person
who can be considered, grouped into households by an integer code.  Conditions and
amounts are then computed for every person or household at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from weiwen.core.text import TEXT_DTYPE, header_key
from weiwen.model.recipients import RecipientKind
from weiwen.model.vocab import Vocabulary


@dataclass
class Population:
    persons: pd.DataFrame  # the roster rows considered, index 0..n-1
    household: np.ndarray  # int code of each person's household
    households: pd.DataFrame  # one row per household code: model.frames.HOUSEHOLDS (checked by decide)
    age: np.ndarray  # completed years at the reference date (-1 when unknown)
    size: np.ndarray  # household size of each household (declared 人口数, else members listed)
    ancestors: dict[str, frozenset[str]]  # categories string -> every category and parent it implies
    reference_date: date

    @property
    def n_households(self) -> int:
        return len(self.households)


def ages_at(birth: np.ndarray, when: date) -> np.ndarray:
    """Completed years between ``birth`` (datetime64[D], NaT allowed) and ``when``; -1 for NaT."""
    b = birth.astype("datetime64[D]")
    valid = ~np.isnat(b)
    safe = np.where(valid, b, np.datetime64("2000-01-01", "D"))
    years = safe.astype("datetime64[Y]").astype(np.int64) + 1970
    months = safe.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (safe - safe.astype("datetime64[M]")).astype(np.int64) + 1
    # Not yet had this year's birthday: compare (month, day), so leap years shift nothing.
    before = (months > when.month) | ((months == when.month) & (days > when.day))
    return np.where(valid, when.year - years - before.astype(np.int64), -1)


def _text(column: pd.Series) -> pd.Series:
    """A text column with missing values as "" (kept in Arrow through the public ``__arrow_array__``
    protocol: no Python strings made)."""
    return pd.Series(pc.fill_null(pa.array(column.array), ""), dtype=TEXT_DTYPE) \
        if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow" \
        else pd.Series(column.astype(object).where(column.notna(), "").to_numpy(), dtype=TEXT_DTYPE)


def extra_column(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """The roster's extra column a rule names, matched as headers are (brackets, spaces and
    full-width forms ignored: 家庭人均月收入（元） is 家庭人均月收入(元)).  Rosters that spell the header
    differently are put together (the first non-empty value of a row); ``None`` when no roster has it."""
    key = header_key(name)
    found = [c for c in frame.columns if isinstance(c, str) and c.startswith("extra:")
             and header_key(c.removeprefix("extra:")) == key]
    if not found:
        return None
    out = frame[found[0]].astype(object).where(frame[found[0]].notna(), "")
    for c in found[1:]:
        more = frame[c].astype(object).where(frame[c].notna(), "")
        out = out.where(out != "", more)
    return out


def build_population(frame: pd.DataFrame, vocab: Vocabulary, reference_date: date,
                     kind: RecipientKind = RecipientKind.HOUSEHOLD) -> Population:
    """Group the (already filtered) roster rows into households and derive the facts; ``kind``:
    what these recipients are (every line of a unit list or an event roster is one of its own)."""
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    persons = frame if plain else frame.reset_index(drop=True)
    codes, keys = pd.factorize(persons["household"].to_numpy(), sort=False)
    codes = np.asarray(codes, dtype=np.int64)
    h = len(keys)
    listed = np.bincount(codes, minlength=h)
    declared = persons["household_size"].to_numpy(dtype="float64", na_value=np.nan)
    declared_h = np.full(h, np.nan)
    ok = ~np.isnan(declared)
    np.fmax.at(declared_h, codes[ok], declared[ok])
    size = np.where(np.isnan(declared_h), listed, np.maximum(declared_h, listed)).astype(np.int64)

    first = np.full(h, -1, dtype=np.int64)
    order = np.arange(len(persons))[::-1]
    first[codes[order]] = order  # the first member of each household
    heads = np.flatnonzero(persons["is_head"].to_numpy(dtype=bool))
    head_pos = first.copy()
    head_pos[codes[heads[::-1]]] = heads[::-1]
    wanted = ["village", "township", "household_no", "name", "id_number", "phone", "bank_card", "bank_name", "file",
              "sheet", "row",
              "household_link", "household_ref"]
    pick = persons[wanted].iloc[head_pos]  # only the columns wanted: taking all of them costs seconds
    households = pd.DataFrame({
        "household": np.asarray(keys, dtype=np.int64),
        "kind": pd.Series([kind.value] * h, dtype=TEXT_DTYPE),
        "link": _text(pick["household_link"]),
        "ref": _text(pick["household_ref"]),
        "village": _text(pick["village"]),
        "township": _text(pick["township"]),
        "household_no": _text(pick["household_no"]),
        "head_name": _text(pick["name"]),
        "head_id": _text(pick["id_number"]),
        "head_phone": _text(pick["phone"]),
        "head_bank": _text(pick["bank_card"]),
        "head_bank_name": _text(pick["bank_name"]),
        "file": _text(pick["file"]),
        "sheet": _text(pick["sheet"]),
        "row": pick["row"].to_numpy(dtype=np.int64),
        "listed": listed,
        "size": size,
    })
    birth = persons["birth_date"].to_numpy(dtype="datetime64[D]")
    ancestors: dict[str, frozenset[str]] = {}
    for cats in pd.unique(persons["categories"]):
        expanded: set[str] = set()
        for c in str(cats).split("、") if cats else ():
            expanded.update(vocab.ancestors(c))
        ancestors[str(cats)] = frozenset(expanded)
    return Population(persons=persons, household=codes, households=households, age=ages_at(birth, reference_date),
                      size=size, ancestors=ancestors, reference_date=reference_date)
