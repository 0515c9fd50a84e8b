#!/usr/bin/env bash
# The long fuzzing run (docs/hostile.md, 覆盖率引导的模糊测试):
#   tests/fuzz/long_run.sh [SECONDS=1140] [WORKERS=2] [OUT=/tmp/weiwen-fuzz]
# WORKERS fuzzers share one growing corpus (OUT/work, seeded from tests/fuzz/corpus), each under a
# 4 GB address-space limit, at low priority.  libFuzzer stops at its first finding, so each worker is
# restarted until the time is up (atheris does not support libFuzzer's -fork mode); every finding is
# kept in OUT/found (crash-*, oom-*, timeout-*).  At the end: executions, findings and coverage.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-1140}
workers=${2:-2}
out=${3:-/tmp/weiwen-fuzz}
mkdir -p "$out/work" "$out/found"
end=$((SECONDS + seconds))
worker() {
  local n=$1 round=0
  while [ $SECONDS -lt $end ]; do
    round=$((round + 1))
    RUST_BACKTRACE=0 nice -n 10 prlimit --as=4000000000 python tests/fuzz/fuzz_readers.py "$out/work" tests/fuzz/corpus \
      -seed=$((n * 1000 + round)) -max_total_time=$((end - SECONDS)) -timeout=20 -rss_limit_mb=3000 \
      -reload=30 -print_final_stats=1 -artifact_prefix="$out/found/" >>"$out/worker-$n.log" 2>&1
  done
}
for n in $(seq 1 "$workers"); do worker "$n" & done
wait
runs=$(cat "$out"/worker-*.log | awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}')
echo "executions: $runs"
echo "findings: $(ls "$out/found" | wc -l)"
grep -h "^#.*cov:" "$out"/worker-*.log | sed 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/' | sort -n | tail -1 |
  awk '{print "coverage (highest of any worker): cov " $1 ", ft " $2}'
