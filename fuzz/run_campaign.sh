#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, from its
# kept seed corpus (fuzz/corpus/<target>), and fails on the first crash, leak,
# timeout or invariant failure, printing the reproducer's path.
#   fuzz/run_campaign.sh BUILD_DIR SECONDS [TARGET...]
# New inputs that reach new code are written to BUILD_DIR/fuzz-work/<target>
# (not to the kept corpus: merge by hand what is worth keeping, see
# docs/reliability.md). Prints one summary line per target.
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:?usage: fuzz/run_campaign.sh BUILD_DIR SECONDS [TARGET...]}"
seconds="${2:?usage: fuzz/run_campaign.sh BUILD_DIR SECONDS [TARGET...]}"
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_event_json fuzz_event_binary fuzz_isbt128 fuzz_hl7 fuzz_mllp fuzz_astm
           fuzz_lis1a fuzz_fhir fuzz_lab_mapping fuzz_reference_data)
fi

failed=0
for t in "${targets[@]}"; do
  bin="$build_dir/fuzz/$t"
  work="$build_dir/fuzz-work/$t"
  artifacts="$build_dir/fuzz-artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  log="$build_dir/fuzz-work/$t.log"
  # -rss_limit_mb: the decoders' own limits must keep memory small.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=70000 \
         -print_final_stats=1 -artifact_prefix="$artifacts" \
         "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ $rc -ne 0 ]; then
    failed=1
    repro=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "FAIL $t after ${execs:-?} runs: reproducer ${repro:-(none written)}; log $log"
    grep -E "ERROR|invariant|exception escaped|SUMMARY" "$log" | head -5 | sed 's/^/    /'
  else
    echo "ok   $t ${seconds}s ${execs:-?} runs, corpus $(ls "$work" | wc -l) new inputs"
  fi
done
exit $failed
