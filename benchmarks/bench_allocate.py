"""Benchmark ``weiwen allocate`` on a prefecture-sized roster (not part of the test suite).

    python benchmarks/bench_allocate.py                 # 1,000,000 persons, one workbook
    python benchmarks/bench_allocate.py --shape files   # the same persons in 2,000 village files
    python benchmarks/bench_allocate.py --repeat 3      # three rounds, medians (the machine's speed drifts)

Reports, measured in the same run on the same rows:
- the fastest read of the roster (fastexcel, every cell as text, into Python rows; and into Arrow tables
  only) and the reader weiwen uses (python-calamine);
- the fastest write of the same rows (rustpy-xlsxwriter, 14 columns, from row dicts; and from a frame);
- ``weiwen allocate --campaign spring`` end to end in a subprocess: seconds and peak memory (of the largest
  process, and of all its processes together);
- the rules engine alone: households per second.
The issue's target is allocate within 1.5x of (fastest read + fastest write); both ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_validate import generate  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def fastest_read(files: list[Path]) -> tuple[float, list[list[str]]]:
    import fastexcel

    def read() -> list[list[str]]:
        rows: list[list[str]] = []
        for f in files:
            sheet = fastexcel.read_excel(str(f)).load_sheet(0, header_row=1, dtypes="string")
            rows.extend(sheet.to_pandas().fillna("").astype(str).values.tolist())
        return rows

    rows, seconds = timed(read)
    return seconds, rows


def arrow_read(files: list[Path]) -> float:
    """The fastest read of all: fastexcel into Arrow tables, no Python objects per cell."""
    import fastexcel

    def read() -> int:
        return sum(fastexcel.read_excel(str(f)).load_sheet(0, header_row=1, dtypes="string").to_arrow().num_rows
                   for f in files)

    return timed(read)[1]


def calamine_read(files: list[Path]) -> float:
    import python_calamine

    def read() -> int:
        n = 0
        for f in files:
            with python_calamine.CalamineWorkbook.from_path(str(f)) as wb:
                n += len(wb.get_sheet_by_index(0).to_python())
        return n

    return timed(read)[1]


def fastest_write(rows: list[list[str]]) -> float:
    import rustpy_xlsxwriter

    header = [f"c{i}" for i in range(14)]
    records = [dict(zip(header, r[:14], strict=False)) for r in rows]
    with tempfile.TemporaryDirectory() as d:
        return timed(lambda: rustpy_xlsxwriter.write_worksheet(records, str(Path(d) / "w.xlsx"), sheet_name="s"))[1]


def frame_write(rows: list[list[str]]) -> float:
    """The same rows written from a pandas frame (the writer reads its columns through Arrow)."""
    import pandas as pd
    import rustpy_xlsxwriter

    frame = pd.DataFrame([r[:14] for r in rows], columns=[f"c{i}" for i in range(14)])
    with tempfile.TemporaryDirectory() as d:
        return timed(lambda: rustpy_xlsxwriter.FastExcel(str(Path(d) / "w.xlsx")).sheet("s", frame).save())[1]


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (0 where that is missing)."""
    total, pending, seen = 0, [pid], set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            pending.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def allocate(files: list[Path]) -> dict[str, float]:
    """Seconds, the largest single process's peak (``peak_rss_mb``) and the peak of all of weiwen's
    processes together, sampled every 50 ms (``peak_tree_rss_mb``: the writer process included)."""
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "weiwen", "allocate", *map(str, files), "--campaign", "spring",
                                 "-o", d, "--json"], stdout=out, stderr=err)
        tree_peak = 0
        while proc.poll() is None:
            tree_peak = max(tree_peak, tree_rss_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out.seek(0)
        err.seek(0)
        if proc.returncode not in (0, 1):
            raise SystemExit(err.read().decode("utf-8", "replace"))
        doc = json.loads(out.read())
    return {"seconds": round(wall, 1), "households": doc["households"], "total": doc["total"],
            "peak_rss_mb": round(max(peak, before) / 1024), "peak_tree_rss_mb": round(tree_peak / 1024)}


def engine(files: list[Path]) -> float:
    from weiwen.engine.amounts import allocate as run_engine
    from weiwen.engine.facts import build_population
    from weiwen.roster.intake import load_rosters
    from weiwen.rules import find_campaign, load_rules
    from weiwen.model.vocab import load_vocabulary

    rules = load_rules(find_campaign("spring")).rules
    vocab = load_vocabulary()
    intake = load_rosters(files, vocab=vocab, today=date(2027, 1, 20))
    pop = build_population(intake.frame[intake.frame["valid"]], vocab, rules.campaign.reference_date)
    _, seconds = timed(lambda: run_engine(pop, rules))
    return pop.n_households / seconds


def one_round(files: list[Path]) -> dict[str, object]:
    """Every measurement once, back to back, so that the ratios compare figures taken together."""
    read_s, rows = fastest_read(files)
    write_s = fastest_write(rows)
    frame_write_s = frame_write(rows)
    del rows
    arrow_s = arrow_read(files)
    result: dict[str, object] = {
        "fastest_read_s": round(read_s, 1), "arrow_read_s": round(arrow_s, 1),
        "calamine_read_s": round(calamine_read(files), 1),
        "fastest_write_s": round(write_s, 1), "frame_write_s": round(frame_write_s, 1),
        "allocate": allocate(files),
    }
    seconds = result["allocate"]["seconds"]  # type: ignore[index]
    # The ratio, with the read and write of the rows as Python rows (records) ...
    result["allocate_over_read_plus_write"] = round(seconds / (read_s + write_s), 2)
    # ... and with the strictest reading of "fastest": Arrow in, frame out.
    result["allocate_over_arrow_read_plus_frame_write"] = round(
        seconds / (min(read_s, arrow_s) + min(write_s, frame_write_s)), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=["single", "files"], default="single")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every measurement; with more than one, medians are reported (a shared "
                             "machine's speed drifts by a quarter within minutes: compare ratios of one round)")
    opts = parser.parse_args()
    files = generate(opts.persons, opts.shape, opts.seed)
    rounds = [one_round(files) for _ in range(opts.repeat)]
    result: dict[str, object] = {"shape": opts.shape, "files": len(files)}
    if len(rounds) == 1:
        result.update(rounds[0])
    else:
        for key in ("fastest_read_s", "arrow_read_s", "calamine_read_s", "fastest_write_s", "frame_write_s",
                    "allocate_over_read_plus_write", "allocate_over_arrow_read_plus_frame_write"):
            result[key] = round(statistics.median(r[key] for r in rounds), 2)  # type: ignore[misc]
        result["allocate"] = {**rounds[0]["allocate"],  # type: ignore[dict-item]
                              "seconds": round(statistics.median(r["allocate"]["seconds"] for r in rounds), 1),  # type: ignore[index]
                              "peak_rss_mb": max(r["allocate"]["peak_rss_mb"] for r in rounds),  # type: ignore[index]
                              "peak_tree_rss_mb": max(r["allocate"]["peak_tree_rss_mb"] for r in rounds)}  # type: ignore[index]
        result["rounds"] = rounds
    result["engine_households_per_s"] = round(engine(files))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
