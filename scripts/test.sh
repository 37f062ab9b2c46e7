#!/usr/bin/env bash
# test.sh - the full test run (used by CI through .ci/run): set up, configure with warnings as
# errors, build everything, run the cmocka tests (ctest), then the ONNX backend conformance
# runner against the committed expected-pass list. Exits non-zero if any step fails or a test in
# tests/conformance_expected_pass.txt regresses.
#
# Then the hardening step (scripts/harden.sh: sanitizers, fuzzing, valgrind, TSan).
#
# Environment: ONNXC_BUILD_DIR (default ./build), JOBS (default nproc), CONFORMANCE_JOBS
# (default JOBS), ONNXC_BACKEND_TESTS (backend test data; the runner's default otherwise).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ONNXC_BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}
CJOBS=${CONFORMANCE_JOBS:-$JOBS}
EXPECTED=$ROOT/tests/conformance_expected_pass.txt
start=$(date +%s)

echo "== setup"
bash "$ROOT/scripts/setup.sh"

echo "== configure + build ($BUILD, -DONNXC_WERROR=ON)"
cmake -S "$ROOT" -B "$BUILD" -DONNXC_WERROR=ON
cmake --build "$BUILD" -j"$JOBS"

echo "== unit tests (ctest)"
ctest_rc=0
(cd "$BUILD" && ctest --output-on-failure -j"$JOBS") || ctest_rc=$?

echo "== conformance"
conf_args=(--jobs "$CJOBS" --report "$BUILD/conformance_report.md")
if [ -f "$EXPECTED" ]; then
  conf_args+=(--expected "$EXPECTED")
else
  echo "test.sh: $EXPECTED not found; running without a regression check"
fi
conf_rc=0
"$BUILD/onnxc_conformance" "${conf_args[@]}" > "$BUILD/conformance.log" 2>&1 || conf_rc=$?
# The summary and regressions (everything after the per-100 progress lines), then the closing line.
sed -n '/^summary/,$p' "$BUILD/conformance.log"
grep -q 'conformance skipped' "$BUILD/conformance.log" && cat "$BUILD/conformance.log"
echo "conformance: full table in $BUILD/conformance_report.md"

# The passes must not change what passes: tests/conformance_levels.txt (the expected-pass tests
# whose models the passes rewrite) again at -O0 and -O3; every one must pass at both levels.
# (The whole suite at each level is measured in docs/PASSES.md; too long to repeat here.)
LEVELS=$ROOT/tests/conformance_levels.txt
for lvl in 0 3; do
  lrc=0
  "$BUILD/onnxc_conformance" -O$lvl --jobs "$CJOBS" --list "$LEVELS" --expected "$LEVELS" \
    --report "$BUILD/conformance_O$lvl.md" > "$BUILD/conformance_O$lvl.log" 2>&1 || lrc=$?
  echo "conformance -O$lvl on $(grep -vc '^#' "$LEVELS") pass-rewritten tests: $(tail -n 1 "$BUILD/conformance_O$lvl.log")"
  grep -q ' regression(s) against' "$BUILD/conformance_O$lvl.log" && sed -n '/^summary/,$p' "$BUILD/conformance_O$lvl.log"
  [ "$lrc" -eq 0 ] || conf_rc=$lrc
done

# Hardening (docs/HARDENING.md, scripts/harden.sh): a clang ASan+UBSan build running the unit
# tests and a conformance sample, short libFuzzer runs, valgrind of a compile and of a compiled
# model, ThreadSanitizer on 4 threads. ONNXC_HARDEN=0 skips it.
harden_rc=0
if [ "${ONNXC_HARDEN:-1}" != 0 ]; then
  bash "$ROOT/scripts/harden.sh" "$BUILD" || harden_rc=$?
fi

end=$(date +%s)
echo "== done in $((end - start)) s: ctest exit $ctest_rc, conformance exit $conf_rc, hardening exit $harden_rc"
tail -n 1 "$BUILD/conformance.log"
[ "$ctest_rc" -eq 0 ] && [ "$conf_rc" -eq 0 ] && [ "$harden_rc" -eq 0 ]
