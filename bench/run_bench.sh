#!/usr/bin/env bash
# The benchmark driver behind `./run.sh bench` (bench/README.md).
#   bench/run_bench.sh BUILD_DIR [--full] [--events N]... [--pg-events N] [other hemoledger_bench options]
# Starts a throw-away PostgreSQL (initdb + pg_ctl in a temporary directory,
# loopback only, a free port, durable defaults), runs build/bench/hemoledger_bench
# against it and the hemoledger binary, and tears everything down. Results:
# bench/results/latest.json and bench/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="$1"
shift

# Default: 100k and 1M events (about 5 minutes on 2 cores). --full: 1M and 10M
# (about 19 minutes on 2 cores; the 10M stream and engine data need ~4 GB in /tmp).
DEFAULT_COUNTS=(100000 1000000)
FULL_COUNTS=(1000000 10000000)
counts=()
extra=()
full=0
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1 ;;
    --events) counts+=("$2"); shift ;;
    *) extra+=("$1") ;;
  esac
  shift
done
if [ ${#counts[@]} -eq 0 ]; then
  if [ "$full" -eq 1 ]; then counts=("${FULL_COUNTS[@]}"); else counts=("${DEFAULT_COUNTS[@]}"); fi
fi
note="default counts (./run.sh bench --full runs 1M and 10M)"
[ "$full" -eq 1 ] && note="full run (1M and 10M events)"

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hemoledger-bench-XXXXXX)
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  if [ -f "$tmp/pgdata/postmaster.pid" ]; then as_pg "$pgbin/pg_ctl" -D "$tmp/pgdata" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"

echo "==> PostgreSQL: initdb in $tmp/pgdata" >&2
as_pg "$pgbin/initdb" -D "$tmp/pgdata" -U bench -A trust -E UTF8 >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }
port=""
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 40000))
  if as_pg "$pgbin/pg_ctl" -D "$tmp/pgdata" -l "$tmp/pg.log" -w -t 30 \
       -o "-c listen_addresses=127.0.0.1 -p $p -c unix_socket_directories=$tmp" start >/dev/null 2>&1; then
    port=$p
    break
  fi
done
[ -n "$port" ] || { echo "PostgreSQL did not start; see below" >&2; cat "$tmp/pg.log" >&2; exit 1; }
echo "==> PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (fsync on, synchronous_commit on)" >&2

mkdir -p bench/results "$tmp/work"
args=()
for n in "${counts[@]}"; do args+=(--events "$n"); done
"$BUILD/bench/hemoledger_bench" "${args[@]}" \
  --hemoledger "$BUILD/hemoledger" \
  --json bench/results/latest.json \
  --work-dir "$tmp/work" \
  --pg-conninfo "host=127.0.0.1 port=$port user=bench dbname=postgres" \
  --note "$note" \
  "${extra[@]}" | tee bench/results/latest.md
