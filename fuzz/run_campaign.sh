#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, from its
# kept seed corpus (fuzz/corpus/<target>), and fails on any crash, leak,
# timeout, out-of-memory or invariant failure, printing the reproducer's path.
#   fuzz/run_campaign.sh BUILD_DIR SECONDS [TARGET...]
# JOBS targets run at once (default 2). New inputs that reach new code are
# written to BUILD_DIR/fuzz-work/<target> (not to the kept corpus: merge by
# hand what is worth keeping, see docs/reliability.md). Prints one summary
# line per target, in the order given.
set -uo pipefail
cd "$(dirname "$0")/.."
usage="usage: fuzz/run_campaign.sh BUILD_DIR SECONDS [TARGET...]"
build_dir="${1:?$usage}"
seconds="${2:?$usage}"
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_event_json fuzz_event_binary fuzz_isbt128 fuzz_hl7 fuzz_mllp fuzz_astm
           fuzz_lis1a fuzz_fhir fuzz_lab_mapping fuzz_reference_data fuzz_query_filters fuzz_partials)
fi
jobs_max="${JOBS:-2}"

run_one() {
  local t="$1" bin="$build_dir/fuzz/$1" work="$build_dir/fuzz-work/$1"
  local artifacts="$build_dir/fuzz-artifacts/$1/" log="$build_dir/fuzz-work/$1.log"
  local summary="$build_dir/fuzz-work/$1.summary"
  mkdir -p "$work" "$artifacts"
  # -rss_limit_mb: the decoders' own limits must keep memory small.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=70000 \
         -print_final_stats=1 -artifact_prefix="$artifacts" \
         "$work" "fuzz/corpus/$t" >"$log" 2>&1
  local rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ $rc -ne 0 ]; then
    local repro
    repro=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    {
      echo "FAIL $t after ${execs:-?} runs: reproducer ${repro:-(none written)}; log $log"
      grep -E "ERROR|invariant|exception escaped|SUMMARY" "$log" | head -5 | sed 's/^/    /'
    } >"$summary"
  else
    echo "ok   $t ${seconds}s ${execs:-?} runs, $(ls "$work" | wc -l) inputs found so far" >"$summary"
  fi
}

for t in "${targets[@]}"; do
  if [ ! -x "$build_dir/fuzz/$t" ]; then
    echo "no fuzz target $build_dir/fuzz/$t (build with -DHEMOLEDGER_FUZZ=ON)" >&2
    exit 2
  fi
  rm -f "$build_dir/fuzz-work/$t.summary"
  run_one "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
done
wait

failed=0
for t in "${targets[@]}"; do
  cat "$build_dir/fuzz-work/$t.summary"
  grep -q '^FAIL' "$build_dir/fuzz-work/$t.summary" && failed=1
done
exit $failed
