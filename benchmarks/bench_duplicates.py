"""Benchmark duplicate detection on a prefecture-sized roster (not part of the test suite).

    python benchmarks/bench_duplicates.py            # 1,000,000 persons, one workbook

Loads the generated roster once, then times ``find_duplicates`` (exact and suspected, with
blocking) on the frame, and ``weiwen check-duplicates`` end to end in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_validate import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    files = generate(opts.persons, "single", opts.seed)

    from weiwen.dedupe import find_duplicates
    from weiwen.roster.intake import load_rosters

    frame = load_rosters(files).frame
    t = time.perf_counter()
    groups = find_duplicates(frame)
    core = time.perf_counter() - t
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "weiwen", "check-duplicates", "--json", *map(str, files)],
                          capture_output=True, check=False)
    wall = time.perf_counter() - t
    found = len(json.loads(proc.stdout)["groups"]) if proc.returncode in (0, 1) else None
    print(json.dumps({"rows": len(frame), "groups": len(groups), "find_duplicates_s": round(core, 1),
                      "check_duplicates_end_to_end_s": round(wall, 1), "groups_cli": found,
                      "peak_rss_mb_child": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
