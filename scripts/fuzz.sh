#!/usr/bin/env bash
# fuzz.sh - build and run the libFuzzer targets of tests/fuzz/ (docs/HARDENING.md).
#
#   scripts/fuzz.sh [BUILD_DIR]            short run: RUNS executions per target (default 2000)
#   RUNS=0 TIME=600 scripts/fuzz.sh DIR    long run: TIME seconds per target (-max_total_time)
#
# Configures BUILD_DIR (default ./build-fuzz) with clang-19, -DONNXC_FUZZ=ON -DONNXC_SANITIZE=ON
# (ASan + UBSan + libFuzzer coverage) if needed, builds the four targets and runs each on a seed
# corpus made at run time from the ONNX backend test data (env ONNXC_BACKEND_TESTS, default
# ../shared/onnx-backend-tests): every SEED_STRIDE-th model (default 20) for fuzz_load and
# fuzz_prepare, every SEED_STRIDE-th test's input_0.pb for fuzz_tensor, and `onnxc dump --full`
# of IR_SEEDS (default 12) small models for fuzz_ir_parse. Nothing is copied into the repository.
# Crashes are written to BUILD_DIR/fuzz/artifacts/ and make the script fail. Set
# FUZZ_NO_BUILD=1 to skip configuring/building (test.sh builds the folder itself).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-fuzz}
RUNS=${RUNS:-2000}
TIME=${TIME:-0}
STRIDE=${SEED_STRIDE:-20}
IR_SEEDS=${IR_SEEDS:-12}
DATA=${ONNXC_BACKEND_TESTS:-$ROOT/../shared/onnx-backend-tests}
CLANG=${CLANG:-/usr/lib/llvm-19/bin/clang}
TARGETS=(fuzz_load fuzz_prepare fuzz_ir_parse fuzz_tensor)

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CLANG" -DONNXC_FUZZ=ON -DONNXC_SANITIZE=ON >/dev/null
  cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target "${TARGETS[@]}" onnxc
fi
if [ ! -d "$DATA" ]; then
  echo "fuzz.sh: backend test data not found at $DATA: fuzzing skipped"
  exit 0
fi

W=$BUILD/fuzz
rm -rf "$W/seeds" "$W/corpus"
mkdir -p "$W/seeds/models" "$W/seeds/pb" "$W/seeds/ir" "$W/artifacts"
i=0
while IFS= read -r m; do
  if [ $((i % STRIDE)) -eq 0 ]; then
    ln -s "$m" "$W/seeds/models/$i.onnx"
    pb=$(dirname "$m")/test_data_set_0/input_0.pb
    [ -f "$pb" ] && ln -s "$pb" "$W/seeds/pb/$i.pb"
  fi
  i=$((i + 1))
done < <(find "$DATA" -name model.onnx -size -64k | sort)
# IR text seeds: the smallest node tests (few constants), printed in full by the driver
k=0
while IFS= read -r m; do
  [ "$k" -ge "$IR_SEEDS" ] && break
  if "$BUILD/onnxc" dump --full "$m" > "$W/seeds/ir/$k.ir" 2>/dev/null; then k=$((k + 1)); fi
done < <(find "$DATA/node" -name model.onnx -size -2k | sort | awk 'NR % 37 == 1')

limit=(-runs="$RUNS")
[ "$TIME" != 0 ] && limit=(-max_total_time="$TIME")
rc=0
for t in "${TARGETS[@]}"; do
  case $t in
    fuzz_load|fuzz_prepare) seeds=$W/seeds/models ;;
    fuzz_tensor) seeds=$W/seeds/pb ;;
    fuzz_ir_parse) seeds=$W/seeds/ir ;;
  esac
  mkdir -p "$W/corpus/$t"
  log=$W/$t.log
  start=$(date +%s)
  if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$BUILD/$t" "$W/corpus/$t" "$seeds" \
       "${limit[@]}" -seed=1 -max_len=65536 -timeout=20 -rss_limit_mb=3072 \
       -artifact_prefix="$W/artifacts/$t-" -print_final_stats=1 > "$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t: ${execs:-?} executions, $(ls "$seeds" | wc -l) seeds, no crash ($(( $(date +%s) - start )) s)"
  else
    rc=1
    echo "fuzz: $t FAILED (log $log):"
    grep -m 20 -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" || tail -n 30 "$log"
  fi
done
exit $rc
