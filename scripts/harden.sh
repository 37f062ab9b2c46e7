#!/usr/bin/env bash
# harden.sh - the hardening step of scripts/test.sh (docs/HARDENING.md): sanitizers, fuzzing,
# valgrind and ThreadSanitizer. Usage: scripts/harden.sh MAIN_BUILD_DIR
#
#  1. SAN=MAIN_BUILD_DIR-san: clang-19, -DONNXC_SANITIZE=ON (ASan + UBSan, no recovery)
#     -DONNXC_FUZZ=ON; builds everything; runs every cmocka test under it (ctest; LeakSanitizer
#     on, so tests/test_oom.c checks that no failed allocation leaks), then the conformance
#     runner on the committed sample tests/sanitize_sample.txt (any sanitizer report fails).
#  2. the libFuzzer targets, RUNS (default 2000) executions each (scripts/fuzz.sh).
#  3. valgrind --leak-check=full --error-exitcode=1 of `onnxc compile examples/mlp.onnx` (the
#     main build's driver) and of examples/run_mlp.c driving the compiled library
#     (create/run/destroy), checked against examples/mlp_data/output_0.pb.
#  4. TSAN=MAIN_BUILD_DIR-tsan: the runtime (onnxc_rt, onnxc_rtapi) and tests/concurrency/
#     conc_run.c built with -fsanitize=thread; mlp.onnx and a conv model compiled by the main
#     driver against that runtime (--no-bitcode, so the kernels are the instrumented ones) and
#     run from 4 threads with separate contexts: identical results, no TSan report; then
#     light_shufflenet with ONNXC_NUM_THREADS=2 (each context's worker pool) from 2 threads.
# Each part prints its CPU time. HARDEN_PARTS (default "san fuzz valgrind tsan") picks parts.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: harden.sh MAIN_BUILD_DIR}
SAN=${BUILD}-san
TSAN=${BUILD}-tsan
JOBS=${JOBS:-$(nproc)}
CLANG=${CLANG:-/usr/lib/llvm-19/bin/clang}
PARTS=${HARDEN_PARTS:-san fuzz valgrind tsan}
DATA=${ONNXC_BACKEND_TESTS:-$ROOT/../shared/onnx-backend-tests}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
TIMEFORMAT='  (part: %R s wall, %U s user + %S s sys CPU)'
rc=0
fail() { echo "harden: FAILED: $*"; rc=1; }
has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

part_san() {
  echo "== hardening 1: ASan+UBSan build ($SAN): unit tests, conformance sample"
  cmake -S "$ROOT" -B "$SAN" -DCMAKE_C_COMPILER="$CLANG" -DONNXC_SANITIZE=ON -DONNXC_FUZZ=ON >/dev/null \
    && cmake --build "$SAN" -j"$JOBS" >"$SAN.build.log" 2>&1 || { tail -n 30 "$SAN.build.log"; fail "sanitizer build"; }
  if [ -x "$SAN/onnxc_conformance" ]; then
    (cd "$SAN" && ONNXC_MUTATED_STRIDE=${ONNXC_MUTATED_STRIDE:-4} ctest --output-on-failure -j"$JOBS") \
      >"$SAN/ctest.log" 2>&1 || { cat "$SAN/ctest.log"; fail "unit tests under ASan+UBSan"; }
    grep -E '^[0-9]+% tests passed|tests failed' "$SAN/ctest.log"
    # LeakSanitizer off for the runner: it keeps its test list until exit (not a library leak);
    # leaks of the library are checked by the unit tests above (test_oom, test_mutated, ...).
    ASAN_OPTIONS=detect_leaks=0 "$SAN/onnxc_conformance" --jobs "$JOBS" --timeout 300 \
      --list "$ROOT/tests/sanitize_sample.txt" --report "$SAN/conformance_report.md" \
      >"$SAN/conformance.log" 2>&1
    grep -E '^- (passed|wrong result|crash|timeout):' "$SAN/conformance_report.md" | tr '\n' ' '; echo
    if grep -qE '^- (crash|wrong result): [1-9]' "$SAN/conformance_report.md"; then
      fail "crash or wrong result in the conformance sample under ASan+UBSan ($SAN/conformance_report.md)"
    fi
    if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SAN/conformance.log"; then
      fail "sanitizer report in the conformance sample ($SAN/conformance.log)"
    fi
  fi
}
if has san; then time part_san; fi

part_fuzz() {
  echo "== hardening 2: libFuzzer targets (${RUNS:-2000} executions each)"
  FUZZ_NO_BUILD=1 bash "$ROOT/scripts/fuzz.sh" "$SAN" || fail "fuzzing"
}
if has fuzz; then time part_fuzz; fi

part_valgrind() {
  echo "== hardening 3: valgrind (onnxc compile, create/run/destroy of the compiled mlp)"
  V=$BUILD/valgrind
  mkdir -p "$V"
  vg=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1)
  OPENBLAS_NUM_THREADS=1 "${vg[@]}" "$BUILD/onnxc" compile "$ROOT/examples/mlp.onnx" --name mlp \
    -o "$V/libmlp.so" >"$V/compile.log" 2>&1 || { cat "$V/compile.log"; fail "valgrind onnxc compile"; }
  cc -std=c11 -O1 -g -I"$V" "$ROOT/examples/run_mlp.c" -L"$V" -lmlp -Wl,-rpath,"$V" -lm -o "$V/run_mlp" \
    || fail "building run_mlp"
  OPENBLAS_NUM_THREADS=1 "${vg[@]}" "$V/run_mlp" "$ROOT/examples/mlp_data/input_0.pb" \
    "$ROOT/examples/mlp_data/output_0.pb" >"$V/run.log" 2>&1 || { cat "$V/run.log"; fail "valgrind run_mlp"; }
  [ "$rc" -eq 0 ] && echo "valgrind: onnxc compile and run_mlp: no errors, no definite leaks"
}
if has valgrind; then time part_valgrind; fi

part_tsan() {
  echo "== hardening 4: ThreadSanitizer ($TSAN): 4 threads, separate contexts"
  cmake -S "$ROOT" -B "$TSAN" -DCMAKE_C_COMPILER="$CLANG" -DONNXC_TSAN=ON >/dev/null \
    && cmake --build "$TSAN" -j"$JOBS" --target onnxc_rt onnxc_rtapi onnxc_conc_run >"$TSAN.build.log" 2>&1 \
    || { tail -n 30 "$TSAN.build.log"; fail "TSan build"; }
  models=("$ROOT/examples/mlp.onnx")
  [ -f "$DATA/node/test_conv_with_strides_padding/model.onnx" ] && models+=("$DATA/node/test_conv_with_strides_padding/model.onnx")
  [ -f "$DATA/node/test_softmax_axis_1/model.onnx" ] && models+=("$DATA/node/test_softmax_axis_1/model.onnx")
  k=0
  for m in "${models[@]}"; do
    lib=$TSAN/conc_$k.so
    if ONNXC_RUNTIME_DIR=$TSAN "$BUILD/onnxc" compile "$m" --no-bitcode -o "$lib" >"$TSAN/compile_$k.log" 2>&1; then
      OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$TSAN/onnxc_conc_run" "$lib" 4 20 \
        >"$TSAN/run_$k.log" 2>&1 || { cat "$TSAN/run_$k.log"; fail "TSan run of $m"; }
      grep conc_run: "$TSAN/run_$k.log"
    else
      cat "$TSAN/compile_$k.log"; fail "compiling $m for the TSan run"
    fi
    k=$((k + 1))
  done
  # the per-context worker pools (ONNXC_NUM_THREADS=2, docs/BACKEND.md "Threads"): a model with
  # grouped and depthwise Conv, im2col and MaxPool big enough to be split, 2 contexts at once
  m=$DATA/light/light_shufflenet.onnx
  if [ -f "$m" ]; then
    lib=$TSAN/conc_pool.so
    if ONNXC_RUNTIME_DIR=$TSAN "$BUILD/onnxc" compile "$m" --no-bitcode -o "$lib" >"$TSAN/compile_pool.log" 2>&1; then
      ONNXC_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$TSAN/onnxc_conc_run" "$lib" 2 3 \
        >"$TSAN/run_pool.log" 2>&1 || { cat "$TSAN/run_pool.log"; fail "TSan run of $m with 2 threads per context"; }
      grep conc_run: "$TSAN/run_pool.log"
    else
      cat "$TSAN/compile_pool.log"; fail "compiling $m for the TSan run"
    fi
  fi
  # negative control: one context shared by the threads must be reported as a race
  if OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="exitcode=66" "$TSAN/onnxc_conc_run" "$TSAN/conc_0.so" 4 20 --share \
       >"$TSAN/run_shared.log" 2>&1; then
    fail "TSan did not report the shared-context race (negative control)"
  elif grep -q 'WARNING: ThreadSanitizer: data race' "$TSAN/run_shared.log"; then
    echo "conc_run: negative control (one context, 4 threads): TSan reports the race, as it must"
  else
    cat "$TSAN/run_shared.log"; fail "negative control failed for another reason"
  fi
}
if has tsan; then time part_tsan; fi
exit $rc
