#!/usr/bin/env bash
# update_expected.sh - run the conformance suite and rewrite tests/conformance_expected_pass.txt
# with the tests that pass now (review the diff before committing: a test that disappears from
# the list is a regression). Needs a build (ONNXC_BUILD_DIR, default ./build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ONNXC_BUILD_DIR:-$ROOT/build}
"$BUILD/onnxc_conformance" --jobs "${JOBS:-$(nproc)}" --report "$BUILD/conformance_report.md" \
  --write-expected "$ROOT/tests/conformance_expected_pass.txt" "$@"
git -C "$ROOT" diff --stat -- tests/conformance_expected_pass.txt || true
