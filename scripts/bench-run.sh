#!/usr/bin/env bash
# Whole-run benchmark: backfills a year of the in-process sandbox into a fresh DuckDB file at
# several sizes and prints wall time, transactions per second and peak RSS (from /usr/bin/time),
# so that "memory stays flat as the range grows" is a measured figure, not a claim.
#
# usage: scripts/bench-run.sh [N ...]      (default sizes: 10000 100000 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/ccsync
[ -x "$bin" ] || go build -o "$bin" ./cmd/ccsync
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 200000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
from=$(date -u -d '12 months ago' +%F)
to=$(date -u -d 'yesterday' +%F)

printf '%-12s %10s %12s %12s\n' transactions seconds tx/s peak_rss_MiB
for n in "${sizes[@]}"; do
  db="$work/bench-$n.duckdb"
  /usr/bin/time -f '%e %M' -o "$work/time" \
    "$bin" --sandbox --sandbox-transactions "$n" --log-level warn --duckdb "$db" \
    backfill --from "$from" --to "$to" >/dev/null
  read -r secs kib <"$work/time"
  awk -v n="$n" -v s="$secs" -v k="$kib" 'BEGIN { printf "%-12s %10.2f %12.0f %12.1f\n", n, s, n / s, k / 1024 }'
done
