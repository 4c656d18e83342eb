#!/usr/bin/env bash
# make bench: one table, measured side by side in one run on this machine (issue 9):
#   - the floor: json.Valid over a page of the sandbox's transactions, and each stage of the
#     pipeline on the same bytes (decode as the client does, transform, Parquet encode with the
#     pipeline's row groups), from BenchmarkStages in transform/crowdchange;
#   - the whole run: `ccsync backfill` from the sandbox API served by another process
#     (`ccsync sandbox`, so that its CPU is not counted) into a fresh DuckDB file, at two sizes
#     (4x apart): CPU per transaction (user+sys), transactions per second, peak RSS, and the
#     warehouse file's bytes per transaction against the JSON's;
#   - the DuckDB peer: DuckDB's own read_json of the same transactions into Parquet
#     (scripts/benchpeer).
# The command of every row is printed under the table.
#
# usage: scripts/bench.sh [SMALL [LARGE]]     (default 25000 100000; BENCH_ARGS adds ccsync flags;
#        BENCH_STAGES=0 leaves out the Go benchmarks; BENCH_BIN runs another ccsync binary)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
bin=${BENCH_BIN:-bin/ccsync}
[ -x "$bin" ] || go build -o "$bin" ./cmd/ccsync
small=${1:-25000}
large=${2:-100000}
work=$(mktemp -d)
sandbox_pid=
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

rows=()   # "what|µs/tx|tx/s|rss|file B/tx|json B/tx"
cmds=()

# 1. The floor and the stages (Go benchmarks on a page of 100 sandbox transactions).
floor=
if [ "${BENCH_STAGES:-1}" = 1 ]; then
bench_cmd="go test -run '^\$' -bench '^BenchmarkStages\$' -benchmem -count 1 ./transform/crowdchange/"
eval "$bench_cmd" | tee "$work/stages.txt" >&2
for stage in floor decode transform encode all; do
  us=$(awk -v s="BenchmarkStages/sandbox/$stage" '$1 ~ "^"s"(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i+1) == "µs/tx") print $i }' "$work/stages.txt")
  [ -n "$us" ] || { echo "bench: no figure for stage $stage" >&2; exit 1; }
  [ "$stage" = floor ] && floor=$us
  rows+=("stage: $stage|$us|||||")
  cmds+=("stage: $stage: $bench_cmd  (BenchmarkStages/sandbox/$stage)")
done
fi

# 2. The whole run at two sizes, against a sandbox served by another process.
whole() {
  local n=$1
  local db="$work/run-$n.duckdb"
  "$bin" sandbox --addr 127.0.0.1:0 --sandbox-transactions "$n" --log-level warn >"$work/sandbox-$n.txt" 2>&1 &
  sandbox_pid=$!
  local url='' range=''
  for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/sandbox-$n.txt" | head -1 || true)
    range=$(grep -o 'backfill --from [0-9-]* --to [0-9-]*' "$work/sandbox-$n.txt" | head -1 || true)
    [ -n "$url" ] && [ -n "$range" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "bench: the sandbox did not start" >&2; cat "$work/sandbox-$n.txt" >&2; exit 1; }
  local cmd="CROWDCHANGE_API_KEY=sandbox-key $bin --api-url $url --rate 10000 --concurrency 4 --log-level warn --duckdb $db ${BENCH_ARGS:-} $range"
  local extra range_args
  read -ra extra <<<"${BENCH_ARGS:-}"
  read -ra range_args <<<"$range"
  CROWDCHANGE_API_KEY=sandbox-key /usr/bin/time -f '%e %U %S %M' -o "$work/time-$n" \
    "$bin" --api-url "$url" --rate 10000 --concurrency 4 --log-level warn --duckdb "$db" "${extra[@]}" "${range_args[@]}" >/dev/null
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=
  local secs user sys kib
  read -r secs user sys kib <"$work/time-$n"
  local peer
  peer=$(go run ./scripts/benchpeer -duckdb "$db" -dir "$work")   # n json_B/tx µs/tx tx/s
  local got json_b peer_us peer_tps
  read -r got json_b peer_us peer_tps <<<"$peer"
  local file_b
  file_b=$(stat -c %s "$db")
  rows+=("$(awk -v n="$got" -v s="$secs" -v u="$user" -v y="$sys" -v k="$kib" -v f="$file_b" -v j="$json_b" -v size="$n" \
    'BEGIN { printf "whole run: %d tx|%.1f|%.0f|%.0f|%.0f|%.0f", size, (u + y) * 1e6 / n, n / s, k / 1024, f / n, j }')")
  cmds+=("whole run: $n tx: $bin sandbox --addr 127.0.0.1:0 --sandbox-transactions $n & $cmd")
  rows+=("duckdb peer: $n tx|$peer_us|$peer_tps|||$json_b")
  cmds+=("duckdb peer: $n tx: go run ./scripts/benchpeer -duckdb <the run's file> (read_json → Parquet)")
  rm -f "$db" "$work"/peer.*
}
whole "$small"
whole "$large"

echo
printf '%-26s %10s %8s %10s %13s %11s %11s\n' what 'µs/tx' '×floor' 'tx/s' 'peak RSS MiB' 'file B/tx' 'JSON B/tx'
for r in "${rows[@]}"; do
  IFS='|' read -r what us tps rss file json <<<"$r"
  printf '%-26s %10s %8s %10s %13s %11s %11s\n' "$what" "$us" "$(awk -v u="$us" -v f="$floor" 'BEGIN { if (f > 0) printf "%.1f", u / f; else printf "-" }')" \
    "${tps:--}" "${rss:--}" "${file:--}" "${json:--}"
done
echo
echo "commands:"
for c in "${cmds[@]}"; do echo "  $c"; done
