"""Benchmark ``weiwen validate`` on a prefecture-sized roster (not part of the test suite).

    python benchmarks/bench_validate.py                  # 1,000,000 persons, both shapes
    python benchmarks/bench_validate.py --persons 100000 --shape files

Generates the rosters once into benchmarks/data/ (cached by size and seed) with
``weiwen samples generate``, then runs ``weiwen validate --json`` in a subprocess and
reports wall time, rows per second and the child's peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"
PERSONS_PER_HOUSEHOLD = 2.5  # the generator's mean household size


def generate(persons: int, shape: str, seed: int) -> list[Path]:
    households = int(persons / PERSONS_PER_HOUSEHOLD)
    target = DATA / f"{shape}-{persons}-{seed}"
    if not target.exists():
        villages = max(1, households // 200)
        args = [sys.executable, "-m", "weiwen", "samples", "generate", "-o", str(target), "--households",
                str(households), "--villages", str(villages), "--seed", str(seed)]
        if shape == "single":
            args.append("--single-file")
        t = time.perf_counter()
        subprocess.run(args, check=True)
        print(f"  generated {target.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return sorted(target.glob("*.xlsx"))


def run(files: list[Path]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "weiwen", "validate", "--json", *map(str, files)],
                          capture_output=True, check=False)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr.decode("utf-8", "replace"))
    doc = json.loads(proc.stdout)
    return {"files": len(files), "rows": doc["rows"], "errors": len(doc["errors"]), "seconds": round(wall, 1),
            "rows_per_second": round(doc["rows"] / wall), "peak_rss_mb": round(max(peak, before) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--shape", choices=["single", "files", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    shapes = ["single", "files"] if opts.shape == "both" else [opts.shape]
    for shape in shapes:
        files = generate(opts.persons, shape, opts.seed)
        result = run(files)
        print(json.dumps({"shape": shape, **result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
