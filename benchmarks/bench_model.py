"""Which library checks the data model's frames: pandera (column-wise) or pydantic (row records)?

    python benchmarks/bench_model.py                      # the 1,000,000-person benchmark roster
    python benchmarks/bench_model.py --persons 100000     # a smaller one

Measured on the same validated roster frame, several rounds, medians:
- pandera: ``weiwen.model.frames.check(PERSONS, frame)`` (names, dtypes, nulls, closed value sets);
- pydantic: the same contract as a ``BaseModel`` per person, validated with a ``TypeAdapter`` over the
  frame's records (the conversion to records counted separately);
- the fixed cost of each on a five-row frame (what a check costs in a test or a small village file).
Results are in README (依赖) and docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_validate import generate  # noqa: E402


def rounds(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from pydantic import BaseModel, ConfigDict, TypeAdapter

    from weiwen import load_rosters
    from weiwen.model.frames import PERSON_COLUMNS, PERSONS, check, persons_frame

    files = generate(args.persons, "single", 1)
    frame = load_rosters(files).frame
    print(f"roster frame: {len(frame):,} rows × {len(frame.columns)} columns")

    types = {"int64": int, "bool": bool, "Int64": int | None, "datetime64[s]": datetime | None}

    def py_type(dtype: object, nullable: bool) -> object:
        t = types.get(str(dtype), str)
        return t | None if nullable and t in (int, str, bool) else t

    fields = {name: (py_type(dtype, nullable), ...) for name, dtype, nullable, _ in PERSON_COLUMNS}
    Person = type("Person", (BaseModel,), {"__annotations__": {k: v[0] for k, v in fields.items()},
                                           "model_config": ConfigDict(extra="allow")})
    adapter = TypeAdapter(list[Person])  # type: ignore[valid-type]

    def records() -> list[dict[str, object]]:
        return frame.astype(object).where(frame.notna(), None).to_dict("records")

    rows = records()
    small = persons_frame([{"name": "张三", "household": 0}] * 5)
    small_rows = small.astype(object).where(small.notna(), None).to_dict("records")
    results = {
        "pandera check (1M-row frame)": rounds(lambda: check(PERSONS, frame), args.repeat),
        "frame -> records (needed by pydantic)": rounds(records, 1),
        "pydantic validate records": rounds(lambda: adapter.validate_python(rows), 1),
        "pandera check (5-row frame)": rounds(lambda: check(PERSONS, small), 20),
        "pydantic validate (5 records)": rounds(lambda: adapter.validate_python(small_rows), 20),
    }
    for name, seconds in results.items():
        print(f"{name:40s} {seconds * 1000:10.1f} ms")


if __name__ == "__main__":
    main()
